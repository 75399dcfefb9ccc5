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

    /// <summary>How this pathway says who is <i>in beeld</i> and <i>in zorg</i> (seed 000); null when it says nothing of it.</summary>
    public CareStatusRule? CareStatus { get; init; }

    /// <summary>
    /// Per indicator tag (<c>mdo</c>, <c>medicatiereview</c>), how far back the quality report looks for it with a frail
    /// patient; usually a setting that also times the pathway's deadline, so an overlay moves both.
    /// </summary>
    public IReadOnlyDictionary<string, IsoPeriod> IndicatorWindows { get; init; } = new Dictionary<string, IsoPeriod>();

    /// <summary>
    /// The edition of the language the text is written in (<c>language: 2</c>); 1 when it does not say. In 2 a guard's
    /// <c>field:</c> reads this step's data only, and <c>recorded:</c> what was recorded before.
    /// </summary>
    public int Language { get; init; } = 1;

    /// <summary>The calendar deadlines fall due on (<c>calendar:</c>); null: periods are added in UTC, as edition 1 did.</summary>
    public CalendarRule? Calendar { get; init; }

    /// <summary>The fields a trajectory must be started with (<c>start: { requires: [...] }</c>); empty when it needs none.</summary>
    public IReadOnlyList<string> StartRequires { get; init; } = [];

    /// <summary>The yearly review of the pathway's patients, list by list (seed 000: per huisarts); null when it has none.</summary>
    public YearlyReviewRule? YearlyReview { get; init; }

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
    /// <summary>A main-track state the trajectory must have been in before this track can leave its initial state (<c>opensAfter:</c>).</summary>
    public string? OpensAfter { get; init; }

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
    string? Owner,
    string? Outcome,
    bool Waits,
    IReadOnlyList<DeadlineDefinition> Deadlines,
    IReadOnlyList<TransitionDefinition> Transitions,
    IReadOnlyList<string> Indicators,
    SourceLocation Location)
{
    /// <summary>Counters set back to 0 each time the state is entered (<c>resets:</c>): they count per visit.</summary>
    public IReadOnlyList<string> Resets { get; init; } = [];
}

/// <summary>A timer that starts when its state is entered and fires <see cref="Fires"/> after <see cref="After"/>.</summary>
public sealed record DeadlineDefinition(
    string Name,
    string Label,
    IsoPeriod After,
    string Fires,
    bool Repeat,
    SourceLocation Location)
{
    /// <summary>The time of day it falls due (<c>at: "09:00"</c>), on the practice's calendar.</summary>
    public TimeOnly? At { get; init; }

    /// <summary>Days count as working days, and it falls due on one (weekends and the practice's holidays skipped).</summary>
    public bool WorkingDays { get; init; }

    /// <summary>It falls due on the next of these weekdays (<c>on: [ma, wo, vr]</c>).</summary>
    public IReadOnlyList<DayOfWeek> On { get; init; } = [];

    public bool UsesCalendar => At is not null || WorkingDays || On.Count > 0;
}

/// <summary>The practice's calendar for deadlines (<c>calendar: { timeZone, holidays }</c>); an overlay sets its own holidays.</summary>
public sealed record CalendarRule(string TimeZone, IReadOnlySet<DateOnly> Holidays, SourceLocation Location);

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

    /// <summary>Another track's state this step puts that track in, beside its own move (<c>enters: { track, state }</c>).</summary>
    public (string Track, string State, SourceLocation At)? Enters { get; init; }

    /// <summary>The step template it was made from (<c>uses:</c>), with where that is written; null when none.</summary>
    public (string Name, SourceLocation At)? Template { get; init; }

    /// <summary>Whether the step assigns its track to the person taking it (<c>assign: self</c>) or releases it (<c>assign: release</c>).</summary>
    public AssignAction Assign { get; init; }

    /// <summary>Counters this step sets back to 0 before its own increments (<c>resets:</c>).</summary>
    public IReadOnlyList<string> Resets { get; init; } = [];

    /// <summary>The field a step that places the KB mark takes the practice's code from.</summary>
    public const string KbCodeField = "kbCode";

    /// <summary>What the step does to the patient's KB mark (the KB-ruiter): nothing, place it, or remove it.</summary>
    public KbMarkAction KbMark { get; init; }

    /// <summary>The data the step takes: its required and optional fields and what its warnings may ask for.</summary>
    public IReadOnlySet<string> Accepted { get; } = Requires.Concat(Optional).Concat(Warnings.SelectMany(w => w.Requires)).ToHashSet();
}

/// <summary>A possible target; the first whose guard holds (or that has none) is taken.</summary>
public sealed record TargetOption(string State, Guard? When, SourceLocation Location)
{
    /// <summary>A 'when' was written, even if it could not be read (its error is reported; it is not "no condition").</summary>
    public bool WhenWritten { get; init; } = When is not null;
}

/// <summary>A warning a step raises when <see cref="When"/> holds; it then also needs the <see cref="Requires"/> fields.</summary>
public sealed record WarningRule(string Code, string Message, Guard When, IReadOnlyList<string> Requires, SourceLocation Location);

public enum KbMarkAction { None, Place, Remove }

public enum AssignAction { None, Self, Release }

/// <summary>
/// The KB figures as seed 000 ("Resultaat- en taakgebieden POH-Kb") defines them, declared by the pathway that carries
/// the POH-Kb's work. A patient is <i>in beeld</i> while a trajectory of the pathway runs in which every field of
/// <see cref="InBeeldRecorded"/> has been recorded ("doelgroep is bekend, en relevante informatie is vindbaar in het HIS
/// (belangrijke contactpersonen, afspraken)"). A patient is <i>in zorg</i> while they are ingekaart (the KB mark is on
/// their patient record, when <see cref="InZorgMarked"/>), a trajectory of the pathway is in one of
/// <see cref="InZorgStates"/>, and its last step tagged with one of <see cref="ContactIndicators"/> is no longer ago than
/// <see cref="ContactWithin"/> ("POH-Kb onderhoudt actief contact en onderneemt actie waar nodig").
/// </summary>
public sealed record CareStatusRule(
    IReadOnlyList<string> InBeeldRecorded,
    bool InZorgMarked,
    IReadOnlyList<string> InZorgStates,
    IReadOnlyList<string> ContactIndicators,
    IsoPeriod ContactWithin,
    SourceLocation Location);

/// <summary>
/// Seed 000: the POH-Kb "doorloopt minimaal 1 x per jaar het HIS m.b.v. zoekopdracht en bespreekt deze met betreffende
/// huisarts". The pathway's running trajectories form one list per value of <see cref="Per"/> (the patient's own GP); a
/// patient counts as reviewed while their last step tagged <see cref="Reviewed"/> is no older than <see cref="Every"/>.
/// </summary>
public sealed record YearlyReviewRule(string Per, string Reviewed, IsoPeriod Every, SourceLocation Location);
