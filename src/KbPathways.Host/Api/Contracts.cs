using System.Text.Json;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Host.Api;

public sealed record StartTrajectoryRequest(string? PatientId, string? Pathway, Dictionary<string, JsonElement>? Data);

public sealed record FireRequest(string? Trigger, Dictionary<string, JsonElement>? Data, int? ExpectedVersion);

public sealed record DeadlineView(string Name, string Trigger, string Track, DateTimeOffset DueAt, string Label);

/// <summary>
/// A trajectory as its reader may act on it: <see cref="PermittedTriggers"/> (the ids) and <see cref="Actions"/> — per
/// trigger the caller's roles may fire now, its Dutch label, track, targets, the data it takes with labels, types,
/// ranges and options, questionnaires, the warnings that would ask for more, and the JSON Schema of its data.
/// </summary>
public sealed record TrajectoryView(
    Guid Id,
    string PatientId,
    string Pathway,
    int DefinitionVersion,
    string DefinitionHash,
    string State,
    string StateLabel,
    IReadOnlyDictionary<string, string> Tracks,
    IReadOnlyDictionary<string, string> TrackStateLabels,
    int StreamVersion,
    IReadOnlyList<string> PermittedTriggers,
    IReadOnlyList<ActionDescription> Actions,
    IReadOnlyList<DeadlineView> Deadlines,
    bool Completed,
    string? Outcome,
    IReadOnlyDictionary<string, string>? AssignedTo = null)
{
    public static TrajectoryView Of(Trajectory t, PathwayDefinition definition, IReadOnlySet<string> roles)
    {
        var permitted = TrajectoryDecider.PermittedTriggers(t, definition, roles); // worked out once for both
        var actions = StepForms.Actions(t, definition, permitted);
        return new TrajectoryView(
            t.Id, t.PatientId, t.PathwayId, t.DefinitionVersion, t.DefinitionHash, t.State, definition.FindState(t.State)?.Label ?? t.State,
            new SortedDictionary<string, string>(t.Tracks),
            new SortedDictionary<string, string>(t.Tracks.ToDictionary(x => x.Key, x => definition.FindState(x.Value)?.Label ?? x.Value)), t.Version,
            permitted, actions,
            [.. t.Deadlines.OrderBy(d => d.DueAt).Select(d => new DeadlineView(d.Name, d.Trigger, d.Track, d.DueAt,
                StepForms.DeadlineLabel(definition, definition.Tracks.FirstOrDefault(x => x.Name == d.Track)?.FindState(t.Tracks[d.Track]), d.Name)))],
            t.Completed, t.Outcome, t.AssignedTo.Count == 0 ? null : new SortedDictionary<string, string>(t.AssignedTo));
    }
}

public sealed record ActorView(string User, string Role);

public sealed record HistoryEntry(
    int Version,
    string Type,
    DateTimeOffset Time,
    ActorView? Actor,
    string? Trigger,
    string? Track,
    string? From,
    string? To,
    IReadOnlyDictionary<string, JsonElement>? Data,
    object? Decision,
    IReadOnlyList<RaisedWarning>? Warnings,
    int DefinitionVersion,
    string DefinitionHash);

public sealed record PathwaySummary(string Id, int Version, string Title, string Hash);

/// <summary>
/// A pathway described for clients: its roles, settings and Mermaid diagram, and machine-readably its tracks with their
/// states (labels, owner, deadlines) and steps (label, roles, targets, the data each takes and its JSON Schema), its
/// fields and its instruments as questionnaires, and its in beeld / in zorg rule (<see cref="CareStatus"/>, when it has
/// one), and the data a start needs (<see cref="Start"/>). <see cref="States"/> lists every state's name.
/// </summary>
public sealed record PathwayDetail(
    string Id, int Version, string Title, string? Description, string Hash, string? Practice,
    IReadOnlyList<string> Roles, IReadOnlyDictionary<string, string> RoleLabels, IReadOnlyList<string> States,
    IReadOnlyDictionary<string, string> Settings, IReadOnlyList<TrackView> Tracks, IReadOnlyList<FieldDescription> Fields,
    IReadOnlyList<QuestionnaireDescription> Instruments, string Mermaid, CareStatusView? CareStatus = null, IReadOnlyList<FieldDescription>? Start = null)
{
    public static PathwayDetail Of(PathwayDefinition d) => new(d.Id, d.Version, d.Title, d.Description, d.Hash, d.Practice,
        [.. d.Roles.Select(r => r.Name)], d.Roles.ToDictionary(r => r.Name, r => r.Label), [.. d.AllStates.Select(s => s.Name)], d.Settings,
        [.. d.Tracks.Select(t => TrackView.Of(d, t))],
        [.. d.Fields.Select(f => StepForms.Field(d, f.Name, required: false)!)],
        [.. d.Instruments.Select(StepForms.Questionnaire)], Domain.Pathways.Diagrams.Mermaid.Render(d), CareStatusView.Of(d),
        [.. d.StartRequires.Select(f => StepForms.Field(d, f, required: true)).OfType<FieldDescription>()]);
}

/// <summary>A pathway's in beeld / in zorg rule (seed 000), in words and by its parts.</summary>
public sealed record CareStatusView(IReadOnlyList<string> InBeeldRecorded, bool InZorgMarked, IReadOnlyList<string> InZorgStates,
    IReadOnlyList<string> ContactIndicators, string ContactWithin, string Description)
{
    public static CareStatusView? Of(PathwayDefinition d) => d.CareStatus is not { } rule ? null : new(rule.InBeeldRecorded, rule.InZorgMarked,
        rule.InZorgStates, rule.ContactIndicators, rule.ContactWithin.ToString(),
        $"In beeld: {string.Join(", ", rule.InBeeldRecorded.Select(f => Label(d, f)))} vastgelegd. In zorg: "
        + (rule.InZorgMarked ? "ingekaart (KB-ruiter), " : "")
        + $"in {string.Join(", ", rule.InZorgStates.Select(s => d.FindState(s)?.Label ?? s))}, met contact van de POH-Kb in de laatste {rule.ContactWithin}.");

    private static string Label(PathwayDefinition d, string name) => (d.FindField(name)?.Label ?? d.FindInstrument(name)?.Label ?? name).ToLowerInvariant();
}

public sealed record TrackView(string Name, string Label, IReadOnlyList<StateView> States, IReadOnlyList<StepView> AnyState)
{
    public static TrackView Of(PathwayDefinition d, TrackDefinition t) =>
        new(t.Name, t.Label, [.. t.States.Select(s => StateView.Of(d, t, s))], [.. t.AnyState.Select(x => StepView.Of(d, t, x))]);
}

public sealed record DeadlineDefinitionView(string Name, string Label, string After, string Fires, bool Repeat);

public sealed record StateView(string Name, string Label, string? Description, bool Initial, bool Final, string? Owner,
    string? Outcome, IReadOnlyList<DeadlineDefinitionView> Deadlines, IReadOnlyList<StepView> Steps)
{
    public static StateView Of(PathwayDefinition d, TrackDefinition t, StateDefinition s) => new(s.Name, s.Label, s.Description, s.Initial,
        s.Final, s.Owner, s.Outcome,
        [.. s.Deadlines.Select(x => new DeadlineDefinitionView(x.Name, x.Label, x.After.ToString(), x.Fires, x.Repeat))],
        [.. s.Transitions.Select(x => StepView.Of(d, t, x))]);
}

/// <summary>A step as the pathway declares it. <see cref="Roles"/> null: any role; empty: only its deadline fires it.</summary>
public sealed record StepView(string Trigger, string Label, IReadOnlyList<string>? Roles, IReadOnlyList<TargetDescription> Targets,
    IReadOnlyList<FieldDescription> Fields, IReadOnlyList<WarningDescription> Warnings, string? Condition, JsonElement Schema)
{
    public static StepView Of(PathwayDefinition d, TrackDefinition t, TransitionDefinition x)
    {
        var action = StepForms.Describe(d, t, x);
        return new(x.Trigger, x.Label, x.Roles, action.Targets, action.Fields, action.Warnings, action.Condition, action.Schema);
    }
}

public sealed record PagedList<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);

/// <summary>The paging of list routes: page 1 and up (any page past the last is empty), 50 items by default, at most 200.</summary>
public static class Paging
{
    public const int MaxPageSize = 200;

    public static (int Number, int Size) Of(int? page, int? pageSize) => (Math.Max(page ?? 1, 1), Math.Clamp(pageSize ?? 50, 1, MaxPageSize));

    /// <summary>Whether the page starts past the last item (in 64 bits: page 2147483647 of 200 is far past any list).</summary>
    public static bool Beyond(int number, int size, int total) => (long)(number - 1) * size >= total;
}
