using System.Collections.Immutable;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Domain.Quality;

/// <summary>The main track entered <see cref="State"/> at <see cref="At"/> (under the definition with <see cref="Hash"/>).</summary>
public sealed record StateVisit(string State, string Hash, DateTimeOffset At);

/// <summary>A step that counted for a quality indicator; <see cref="Warned"/> when it raised a warning (e.g. a session cap).</summary>
public sealed record IndicatorMark(string Indicator, DateTimeOffset At, bool Warned);

public sealed record ScoreAt(decimal Total, DateTimeOffset At);

/// <summary>
/// An open decision of the latest record of its field (an MDO's besluiten): the step that recorded it, its number there,
/// its owner (a role) and due date. A newer record of the same field replaces the list.
/// </summary>
public sealed record OpenDecision(string Trigger, string Field, int Number, string Owner, DateOnly Due, DateTimeOffset DecidedAt);

/// <summary>
/// What the quality cycle needs to know about one trajectory, folded from its events only: when it ran, the main
/// track's states over time, the steps that counted for an indicator, the first and last score per instrument, and when
/// each field of the in beeld rule (<see cref="CareStatusRule"/>) was first recorded (<see cref="Recorded"/>; start data counts
/// whole), the open
/// decisions of the latest MDO, and the yearly-review list the patient is on (<see cref="ReviewGroup"/>).
/// </summary>
public sealed record TrajectoryFacts(
    DateTimeOffset? CompletedAt,
    ImmutableArray<StateVisit> States,
    ImmutableArray<IndicatorMark> Marks,
    ImmutableDictionary<string, ScoreAt> FirstScores,
    ImmutableDictionary<string, ScoreAt> LastScores,
    ImmutableDictionary<string, DateTimeOffset>? Recorded = null,
    IReadOnlyList<OpenDecision>? Decisions = null,
    string? ReviewGroup = null)
{
    public static TrajectoryFacts Start(TrajectoryStarted e) => new(null,
        [new StateVisit(e.Tracks[PathwayDefinition.MainTrack], e.DefinitionHash, e.StartedAt)], [],
        ImmutableDictionary<string, ScoreAt>.Empty, ImmutableDictionary<string, ScoreAt>.Empty, e.Data.Count == 0 ? null : Record(null, e.Data.Keys, e.StartedAt));

    /// <summary>When <paramref name="field"/> was first recorded, or null when it never was.</summary>
    public DateTimeOffset? RecordedAt(string field) => Recorded is { } r && r.TryGetValue(field, out var at) ? at : null;

    private static ImmutableDictionary<string, DateTimeOffset>? Record(ImmutableDictionary<string, DateTimeOffset>? recorded, IEnumerable<string> fields, DateTimeOffset at)
    {
        foreach (var field in fields)
            if (recorded is null || !recorded.ContainsKey(field))
                recorded = (recorded ?? ImmutableDictionary.Create<string, DateTimeOffset>(StringComparer.Ordinal)).Add(field, at);
        return recorded;
    }

    /// <summary>Whether the step recorded a field of the in beeld rule for the first time (the decider names them in <see cref="StepTaken.Tracked"/>).</summary>
    private static bool RecordsNew(TrajectoryFacts facts, StepTaken e)
    {
        if (e.Tracked is not { } tracked) return false;
        foreach (var field in tracked)
            if (facts.Recorded is null || !facts.Recorded.ContainsKey(field)) return true;
        return false;
    }

    public static TrajectoryFacts Evolve(TrajectoryFacts facts, object @event) => @event switch
    {
        // Most steps on other tracks or inside a state count for nothing: the facts stay as they are.
        StepTaken e when !Visits(e) && e.Indicators is not { Count: > 0 } && e.Scores.Count == 0 && !RecordsNew(facts, e) && e.Decisions is null && e.ReviewGroup is null => facts,
        StepTaken e => facts with
        {
            States = Visits(e) ? facts.States.Add(new StateVisit(e.To, e.DefinitionHash, e.At)) : facts.States,
            Marks = e.Indicators is { Count: > 0 } tags
                ? facts.Marks.AddRange(tags.Select(t => new IndicatorMark(t, e.At, e.Warnings.Count > 0))) : facts.Marks,
            FirstScores = e.Scores.Count == 0 ? facts.FirstScores : e.Scores.Where(s => !facts.FirstScores.ContainsKey(s.Key))
                .Aggregate(facts.FirstScores, (d, s) => d.SetItem(s.Key, new ScoreAt(s.Value.Total, e.At))),
            LastScores = e.Scores.Count == 0 ? facts.LastScores
                : e.Scores.Aggregate(facts.LastScores, (d, s) => d.SetItem(s.Key, new ScoreAt(s.Value.Total, e.At))),
            Recorded = RecordsNew(facts, e) ? Record(facts.Recorded, e.Tracked!, e.At) : facts.Recorded,
            Decisions = e.Decisions is { } made
                ? [.. (facts.Decisions ?? []).Where(d => made.All(m => m.Field != d.Field)),
                   .. made.Select(m => new OpenDecision(e.Trigger, m.Field, m.Number, m.Owner, m.Due, e.At))]
                : facts.Decisions,
            ReviewGroup = e.ReviewGroup ?? facts.ReviewGroup,
        },
        TrajectoryMigrated e => facts with { States = facts.States.Add(new StateVisit(e.Tracks[PathwayDefinition.MainTrack], e.ToHash, e.At)) },
        TrajectoryCompleted e => facts with { CompletedAt = e.At },
        _ => facts,
    };

    /// <summary>Whether the step enters a state (again) on the main track.</summary>
    private static bool Visits(StepTaken e) => e.Track == PathwayDefinition.MainTrack && e.Kind != StepKind.Internal;

    /// <summary>The main-track state at <paramref name="at"/>, or null before the trajectory started.</summary>
    public StateVisit? StateAt(DateTimeOffset at)
    {
        for (var i = States.Length - 1; i >= 0; i--)
            if (States[i].At <= at) return States[i];
        return null;
    }
}
