using KbPathways.Domain.Pathways.Engine;
using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Trajectories;

/// <summary>
/// Moves a running trajectory to another version of its pathway. Every track's current state must exist in the
/// target (under its own name or the one <c>mapping</c> gives it); otherwise the move is refused, naming the state.
/// The target's deadlines for the resulting states are armed from the moment of migration.
/// </summary>
public static class Migration
{
    public static IReadOnlyList<object> Decide(Trajectory state, PathwayDefinition target, IReadOnlyDictionary<string, string> mapping,
        Actor actor, DateTimeOffset now)
    {
        if (state.Completed) throw new PathwayRuleException(RejectionKind.NotPermitted, "the trajectory is completed");
        if (target.Id != state.PathwayId)
            throw new PathwayRuleException(RejectionKind.InvalidData, $"the target is pathway '{target.Id}', not '{state.PathwayId}'");
        if (target.Hash == state.DefinitionHash) return [];
        var tracks = new Dictionary<string, string>();
        var errors = new List<FieldError>();
        foreach (var track in target.Tracks)
        {
            if (!state.Tracks.TryGetValue(track.Name, out var current))
            {
                tracks[track.Name] = track.Initial.Name; // a track new in this version starts at its beginning
                continue;
            }
            var mapped = mapping.GetValueOrDefault(current, current);
            if (track.States.Any(s => s.Name == mapped)) tracks[track.Name] = mapped;
            else errors.Add(new FieldError(current, $"state '{current}' does not exist in version {target.Version}; map it to a state of track '{track.Name}'"));
        }
        foreach (var gone in state.Tracks.Keys.Where(t => target.Tracks.All(x => x.Name != t)))
            errors.Add(new FieldError(gone, $"track '{gone}' does not exist in version {target.Version}"));
        if (errors.Count > 0) throw new PathwayRuleException(RejectionKind.InvalidData, "the trajectory cannot move to this version as it is", errors);

        var events = new List<object>
        {
            new TrajectoryMigrated(state.Id, state.DefinitionVersion, state.DefinitionHash, target.Version, target.Hash, tracks, actor, now),
        };
        foreach (var track in target.Tracks)
        {
            var at = track.FindState(tracks[track.Name])
                     ?? throw new InvalidOperationException($"'{tracks[track.Name]}' is not a state of track '{track.Name}'");
            events.AddRange(at.Deadlines.Select(d => new DeadlineScheduled(state.Id, d.Name, track.Name, at.Name, d.Fires, d.After.AddTo(now), now)));
        }
        return events;
    }
}
