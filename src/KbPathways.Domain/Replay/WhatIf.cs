using System.Collections.Immutable;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Domain.Replay;

public sealed record WhatIfResult(
    Guid TrajectoryId, string PatientId, string RecordedState, string CandidateState, bool RecordedCompleted, bool CandidateCompleted,
    IReadOnlyList<string> Differences)
{
    public bool Affected => Differences.Count > 0;
}

/// <summary>
/// "What would this candidate pathway have done to this patient?" Re-runs a trajectory's recorded human steps
/// (same role, same data, same time) against a candidate definition, letting the candidate's own deadlines fire on a
/// simulated clock, and lists what differs. Pure: it reads recorded events and writes nothing.
/// </summary>
public static class WhatIf
{
    public static WhatIfResult Run(IReadOnlyList<object> recorded, PathwayDefinition candidate, DateTimeOffset until)
    {
        var original = Trajectory.Replay(recorded);
        var started = (TrajectoryStarted)recorded[0];
        var differences = new List<string>();
        var callers = new Dictionary<Actor, Caller>();
        Caller CallerOf(Actor a) => callers.TryGetValue(a, out var known) ? known : callers[a] = new Caller(a.UserId, new HashSet<string> { a.Role });
        Trajectory state;
        try
        {
            state = Trajectory.Replay(TrajectoryDecider.Start(
                new StartTrajectory(started.TrajectoryId, started.PatientId, started.Practice, CallerOf(started.Actor), started.Data), candidate, started.StartedAt));
        }
        catch (PathwayRuleException e)
        {
            return new WhatIfResult(original.Id, original.PatientId, original.State, "(not started)", original.Completed, false,
                [$"the start would be rejected ({e.Kind}): {e.Message}"]);
        }

        var candidateFired = new List<(string Trigger, DateTimeOffset At)>();
        var candidateWarnings = new List<string>();
        var steps = recorded.OfType<StepTaken>().ToList();
        var number = 0;
        foreach (var step in steps.Where(s => s.Deadline is null))
        {
            number++;
            state = FireDue(state, candidate, step.At, candidateFired);
            try
            {
                var events = TrajectoryDecider.Fire(new FireTrigger(step.Trigger, CallerOf(step.Actor), step.Data), state, candidate, step.At, explained: false);
                candidateWarnings.AddRange(events.OfType<StepTaken>().SelectMany(s => s.Warnings).Select(w => $"{step.Trigger}:{w.Code}"));
                state = events.Aggregate(state, Trajectory.Evolve);
            }
            catch (PathwayRuleException e)
            {
                differences.Add($"step {number} '{step.Trigger}' ({step.At:yyyy-MM-dd}) would be rejected ({e.Kind}): {e.Message}");
            }
        }
        state = FireDue(state, candidate, until, candidateFired);

        var recordedFired = steps.Where(s => s.Deadline is not null).Select(s => (s.Trigger, s.At)).ToList();
        foreach (var trigger in recordedFired.Select(f => f.Trigger).Union(candidateFired.Select(f => f.Trigger)).Distinct())
        {
            var was = recordedFired.Where(f => f.Trigger == trigger).Select(f => f.At).ToList();
            var would = candidateFired.Where(f => f.Trigger == trigger).Select(f => f.At).ToList();
            if (!was.SequenceEqual(would))
                differences.Add($"deadline '{trigger}' fired {Times(was)}; the candidate would fire it {Times(would)}");
        }
        var recordedWarnings = steps.SelectMany(s => s.Warnings.Select(w => $"{s.Trigger}:{w.Code}")).ToList();
        if (!recordedWarnings.SequenceEqual(candidateWarnings))
            differences.Add($"warnings were [{string.Join(", ", recordedWarnings)}]; the candidate would raise [{string.Join(", ", candidateWarnings)}]");
        if (original.State != state.State || original.Completed != state.Completed)
            differences.Add($"state reached: '{original.State}' recorded, '{state.State}' with the candidate");
        return new WhatIfResult(original.Id, original.PatientId, original.State, state.State, original.Completed, state.Completed, differences);
    }

    private static Trajectory FireDue(Trajectory state, PathwayDefinition candidate, DateTimeOffset until, List<(string, DateTimeOffset)> fired)
    {
        for (var n = 0; n < 1000 && Earliest(state.Deadlines, until) is { } due; n++)
        {
            var events = TrajectoryDecider.FireDeadline(new DeadlineDue(due.Name, due.Track, due.DueAt), state, candidate, due.DueAt, explained: false);
            if (events.Count == 0) break;
            fired.Add((due.Trigger, due.DueAt));
            state = events.Aggregate(state, Trajectory.Evolve);
        }
        return state;
    }

    /// <summary>The armed deadline that falls due first, by <paramref name="until"/>; null when none does.</summary>
    private static ScheduledDeadline? Earliest(ImmutableArray<ScheduledDeadline> deadlines, DateTimeOffset until)
    {
        ScheduledDeadline? earliest = null;
        foreach (var d in deadlines)
            if (d.DueAt <= until && (earliest is null || d.DueAt < earliest.DueAt)) earliest = d;
        return earliest;
    }

    private static string Times(List<DateTimeOffset> times) =>
        times.Count == 0 ? "never" : string.Join(", ", times.Select(t => t.ToString("yyyy-MM-dd HH:mm")));
}
