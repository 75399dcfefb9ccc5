using System.Collections.Immutable;
using System.Text.Json;
using KbPathways.Domain.Pathways.Engine;

namespace KbPathways.Domain.Trajectories;

public sealed record ScheduledDeadline(string Name, string Track, string State, string Trigger, DateTimeOffset DueAt);

/// <summary>
/// A patient's run of one pathway version, rebuilt from its events only (no definition needed):
/// the current state per track, the latest value of every field, scores, counters and armed deadlines, and the
/// <see cref="Quality.TrajectoryFacts"/> the quality cycle reports on.
/// </summary>
public sealed record Trajectory(
    Guid Id,
    string PatientId,
    string Practice,
    string PathwayId,
    int DefinitionVersion,
    string DefinitionHash,
    ImmutableDictionary<string, string> Tracks,
    ImmutableDictionary<string, JsonElement> Data,
    ImmutableDictionary<string, InstrumentScore> Scores,
    ImmutableDictionary<string, int> Counters,
    ImmutableArray<ScheduledDeadline> Deadlines,
    bool Completed,
    string? Outcome,
    int Version,
    DateTimeOffset StartedAt,
    DateTimeOffset LastChangedAt,
    Quality.TrajectoryFacts Facts,
    ImmutableDictionary<string, string>? Assignees = null)
{
    /// <summary>Per track, the user it is assigned to (work for a person, not only a role); none when empty.</summary>
    public ImmutableDictionary<string, string> AssignedTo => Assignees ?? ImmutableDictionary<string, string>.Empty;

    public string State => Tracks[Pathways.Model.PathwayDefinition.MainTrack];

    public static Trajectory Create(TrajectoryStarted e) => new(
        e.TrajectoryId, e.PatientId, e.Practice, e.PathwayId, e.DefinitionVersion, e.DefinitionHash,
        e.Tracks.ToImmutableDictionary(), e.Data.ToImmutableDictionary(), ImmutableDictionary<string, InstrumentScore>.Empty,
        ImmutableDictionary<string, int>.Empty, [], false, null, 1, e.StartedAt, e.StartedAt, Quality.TrajectoryFacts.Start(e));

    public static Trajectory Evolve(Trajectory state, object @event)
    {
        // One new state per event (replays and what-if fold millions of them).
        var version = state.Version + 1;
        var facts = Quality.TrajectoryFacts.Evolve(state.Facts, @event);
        return @event switch
        {
            StepTaken e => state with
            {
                Tracks = state.Tracks.SetItem(e.Track, e.To),
                Data = e.Data.Count == 0 ? state.Data : state.Data.SetItems(e.Data),
                Scores = e.Scores.Count == 0 ? state.Scores : state.Scores.SetItems(e.Scores),
                Counters = e.Increments.Count == 0 && e.Resets is not { Count: > 0 } ? state.Counters
                    : e.Increments.Aggregate((e.Resets ?? []).Aggregate(state.Counters, (c, name) => c.SetItem(name, 0)),
                        (c, name) => c.SetItem(name, c.GetValueOrDefault(name) + 1)),
                // A step leaves its track's deadlines behind; an internal step only the deadline that fired it.
                Deadlines = e.Kind != StepKind.Internal ? Without(state.Deadlines, e.Track, name: null)
                    : e.Deadline is { } fired ? Without(state.Deadlines, e.Track, fired) : state.Deadlines,
                Assignees = e.AssignedTo switch
                {
                    null => state.Assignees,
                    "" => state.AssignedTo.Remove(e.Track),
                    var user => state.AssignedTo.SetItem(e.Track, user),
                },
                LastChangedAt = e.At, Version = version, Facts = facts,
            },
            DeadlineScheduled e => state with
            {
                Deadlines = Without(state.Deadlines, e.Track, e.Name).Add(new ScheduledDeadline(e.Name, e.Track, e.State, e.Trigger, e.DueAt)),
                Version = version, Facts = facts,
            },
            TrajectoryCompleted e => state with { Completed = true, Outcome = e.Outcome, Deadlines = [], LastChangedAt = e.At, Version = version, Facts = facts },
            TrajectoryMigrated e => state with
            {
                DefinitionVersion = e.ToVersion, DefinitionHash = e.ToHash, Tracks = e.Tracks.ToImmutableDictionary(),
                Deadlines = [], LastChangedAt = e.At, Version = version, Facts = facts,
            },
            _ => state with { Version = version, Facts = facts },
        };
    }

    /// <summary>The deadlines without those of <paramref name="track"/> (only the one called <paramref name="name"/>, when given).</summary>
    private static ImmutableArray<ScheduledDeadline> Without(ImmutableArray<ScheduledDeadline> deadlines, string track, string? name)
    {
        var kept = deadlines;
        for (var i = deadlines.Length - 1; i >= 0; i--)
            if (deadlines[i].Track == track && (name is null || deadlines[i].Name == name)) kept = kept.RemoveAt(i);
        return kept;
    }

    public static Trajectory Replay(IEnumerable<object> events)
    {
        Trajectory? state = null;
        foreach (var e in events)
            state = state is null ? Create((TrajectoryStarted)e) : Evolve(state, e);
        return state ?? throw new InvalidOperationException("a trajectory starts with TrajectoryStarted");
    }
}
