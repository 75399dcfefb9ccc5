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
    ImmutableList<ScheduledDeadline> Deadlines,
    bool Completed,
    string? Outcome,
    int Version,
    DateTimeOffset StartedAt,
    DateTimeOffset LastChangedAt,
    Quality.TrajectoryFacts Facts)
{
    public string State => Tracks[Pathways.Model.PathwayDefinition.MainTrack];

    public static Trajectory Create(TrajectoryStarted e) => new(
        e.TrajectoryId, e.PatientId, e.Practice, e.PathwayId, e.DefinitionVersion, e.DefinitionHash,
        e.Tracks.ToImmutableDictionary(), e.Data.ToImmutableDictionary(), ImmutableDictionary<string, InstrumentScore>.Empty,
        ImmutableDictionary<string, int>.Empty, [], false, null, 1, e.StartedAt, e.StartedAt, Quality.TrajectoryFacts.Start(e));

    public static Trajectory Evolve(Trajectory state, object @event) => (@event switch
    {
        StepTaken e => state with
        {
            Tracks = state.Tracks.SetItem(e.Track, e.To),
            Data = e.Data.Count == 0 ? state.Data : state.Data.SetItems(e.Data),
            Scores = e.Scores.Count == 0 ? state.Scores : state.Scores.SetItems(e.Scores),
            Counters = e.Increments.Aggregate(state.Counters, (c, name) => c.SetItem(name, c.GetValueOrDefault(name) + 1)),
            Deadlines = state.Deadlines.IsEmpty ? state.Deadlines
                : e.Kind == StepKind.Internal
                    ? state.Deadlines.RemoveAll(d => d.Name == e.Deadline && d.Track == e.Track)
                    : state.Deadlines.RemoveAll(d => d.Track == e.Track),
            LastChangedAt = e.At,
        },
        DeadlineScheduled e => state with
        {
            Deadlines = state.Deadlines.RemoveAll(d => d.Name == e.Name && d.Track == e.Track)
                .Add(new ScheduledDeadline(e.Name, e.Track, e.State, e.Trigger, e.DueAt)),
        },
        TrajectoryCompleted e => state with { Completed = true, Outcome = e.Outcome, Deadlines = [], LastChangedAt = e.At },
        TrajectoryMigrated e => state with
        {
            DefinitionVersion = e.ToVersion, DefinitionHash = e.ToHash, Tracks = e.Tracks.ToImmutableDictionary(),
            Deadlines = [], LastChangedAt = e.At,
        },
        _ => state,
    }) with { Version = state.Version + 1, Facts = Quality.TrajectoryFacts.Evolve(state.Facts, @event) };

    public static Trajectory Replay(IEnumerable<object> events)
    {
        Trajectory? state = null;
        foreach (var e in events)
            state = state is null ? Create((TrajectoryStarted)e) : Evolve(state, e);
        return state ?? throw new InvalidOperationException("a trajectory starts with TrajectoryStarted");
    }
}
