using System.Runtime.CompilerServices;

namespace KbPathways.Domain.Pathways.Model;

/// <summary>
/// A validated, immutable care pathway. <see cref="Id"/> + <see cref="Version"/> + <see cref="Hash"/> name exactly
/// the rules a patient's trajectory ran on; <see cref="Practice"/> is set when a practice overlay produced it.
/// </summary>
public sealed record PathwayDefinition(
    string Id,
    int Version,
    string Title,
    string? Description,
    string? Practice,
    IReadOnlyList<RoleDefinition> Roles,
    IReadOnlyDictionary<string, string> Settings,
    IReadOnlyList<FieldDefinition> Fields,
    IReadOnlyList<InstrumentDefinition> Instruments,
    IReadOnlyList<CounterDefinition> Counters,
    IReadOnlyList<TrackDefinition> Tracks,
    string Hash,
    IReadOnlyList<PathwaySource> Sources)
{
    public const string MainTrack = "main";

    public TrackDefinition Main => Tracks[0];

    public IEnumerable<StateDefinition> AllStates => Tracks.SelectMany(t => t.States);

    /// <summary>The state of any track with this name (the first, should two share it), looked up by name.</summary>
    public StateDefinition? FindState(string name) => StatesByName.GetValue(this, IndexStates).GetValueOrDefault(name);
    public FieldDefinition? FindField(string name) => Fields.FirstOrDefault(f => f.Name == name);
    public InstrumentDefinition? FindInstrument(string name) => Instruments.FirstOrDefault(i => i.Name == name);
    public RoleDefinition? FindRole(string name) => Roles.FirstOrDefault(r => r.Name == name);

    /// <summary>The track whose states declare <paramref name="trigger"/>; triggers are unique across tracks.</summary>
    public TrackDefinition? TrackOf(string trigger) => TracksByTrigger.GetValue(this, IndexTriggers).GetValueOrDefault(trigger);

    public string ShortHash => Hash[..12];

    // Look-ups are kept beside the definition rather than in it, so the record's equality and `with` stay as declared.
    private static readonly ConditionalWeakTable<PathwayDefinition, Dictionary<string, StateDefinition>> StatesByName = new();

    private static readonly ConditionalWeakTable<PathwayDefinition, Dictionary<string, TrackDefinition>> TracksByTrigger = new();

    private static Dictionary<string, TrackDefinition> IndexTriggers(PathwayDefinition definition)
    {
        var index = new Dictionary<string, TrackDefinition>(StringComparer.Ordinal);
        foreach (var track in definition.Tracks)
        foreach (var trigger in track.States.SelectMany(s => s.Transitions).Concat(track.AnyState).Select(x => x.Trigger))
            index.TryAdd(trigger, track);
        return index;
    }

    private static Dictionary<string, StateDefinition> IndexStates(PathwayDefinition definition)
    {
        var index = new Dictionary<string, StateDefinition>(StringComparer.Ordinal);
        foreach (var state in definition.AllStates) index.TryAdd(state.Name, state);
        return index;
    }
}

/// <summary>The original text a definition was read from, kept so any version can be shown and re-read later.</summary>
public sealed record PathwaySource(string File, string Text);

public sealed record RoleDefinition(string Name, string Label, SourceLocation Location);

public sealed record CounterDefinition(string Name, string Label, SourceLocation Location);

/// <summary>
/// A parallel track: its own current state, running beside the main track. The main track is the pathway's
/// top-level <c>states</c>; reaching a final state there completes the whole trajectory.
/// </summary>
public sealed record TrackDefinition(
    string Name,
    string Label,
    IReadOnlyList<StateDefinition> States,
    IReadOnlyList<TransitionDefinition> AnyState,
    SourceLocation Location)
{
    public StateDefinition Initial => States.First(s => s.Initial);

    /// <summary>The state called <paramref name="name"/>, or null (a loop: a track has a handful of states).</summary>
    public StateDefinition? FindState(string name)
    {
        foreach (var state in States)
            if (state.Name == name) return state;
        return null;
    }

    /// <summary>The transitions that leave <paramref name="state"/>: its own, then the track's any-state ones.</summary>
    public IEnumerable<TransitionDefinition> TransitionsFrom(StateDefinition state) =>
        state.Final ? state.Transitions : state.Transitions.Concat(AnyState.Where(a => state.Transitions.All(t => t.Trigger != a.Trigger)));

    /// <summary>The transition of <see cref="TransitionsFrom"/> that <paramref name="trigger"/> fires, or null.</summary>
    public TransitionDefinition? TransitionFrom(StateDefinition state, string trigger)
    {
        foreach (var own in state.Transitions)
            if (own.Trigger == trigger) return own;
        if (state.Final) return null;
        foreach (var any in AnyState)
            if (any.Trigger == trigger) return any;
        return null;
    }
}

public sealed record StateDefinition(
    string Name,
    string Track,
    string Label,
    string? Description,
    bool Initial,
    bool Final,
    bool InZorg,
    string? Owner,
    string? Outcome,
    bool Waits,
    IReadOnlyList<DeadlineDefinition> Deadlines,
    IReadOnlyList<TransitionDefinition> Transitions,
    IReadOnlyList<string> Indicators,
    SourceLocation Location);

/// <summary>A timer that starts when its state is entered and fires <see cref="Fires"/> after <see cref="After"/>.</summary>
public sealed record DeadlineDefinition(
    string Name,
    string Label,
    IsoPeriod After,
    string Fires,
    bool Repeat,
    SourceLocation Location);

/// <summary>
/// One step. No <see cref="Targets"/> means an internal step (the state stays, deadlines keep running);
/// a target equal to the current state re-enters it and restarts its deadlines.
/// <see cref="Roles"/> null means any role of the pathway; empty means only a deadline may fire it.
/// </summary>
public sealed record TransitionDefinition(
    string Trigger,
    string Label,
    IReadOnlyList<TargetOption> Targets,
    IReadOnlyList<string>? Roles,
    IReadOnlyList<string> Requires,
    IReadOnlyList<string> Optional,
    Guard? When,
    string? WhenMessage,
    IReadOnlyList<string> Increments,
    IReadOnlyList<string> RestartsDeadlines,
    IReadOnlyList<WarningRule> Warnings,
    IReadOnlyList<string> Indicators,
    SourceLocation Location)
{
    public bool IsInternal => Targets.Count == 0;

    /// <summary>The data the step takes: its required and optional fields and what its warnings may ask for.</summary>
    public IReadOnlySet<string> Accepted { get; } = Requires.Concat(Optional).Concat(Warnings.SelectMany(w => w.Requires)).ToHashSet();
}

/// <summary>A possible target; the first whose guard holds (or that has none) is taken.</summary>
public sealed record TargetOption(string State, Guard? When, SourceLocation Location);

/// <summary>A warning a step raises when <see cref="When"/> holds; it then also needs the <see cref="Requires"/> fields.</summary>
public sealed record WarningRule(string Code, string Message, Guard When, IReadOnlyList<string> Requires, SourceLocation Location);
