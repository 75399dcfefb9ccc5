using System.Security.Cryptography;
using System.Text;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Domain.Scenarios;

/// <summary>
/// Runs scenarios against the real decider, in memory and on a simulated clock: a practice can check that its
/// pathway (or overlay) behaves as intended before a patient ever runs on it.
/// </summary>
public static class ScenarioRunner
{
    private const int MaxDeadlinesPerWait = 1000;

    public static IEnumerable<ScenarioResult> Run(ScenarioFile file, IReadOnlyList<PathwayDefinition> definitions)
    {
        var definition = definitions.FirstOrDefault(d => d.Id == file.Pathway && d.Practice == file.Practice);
        foreach (var scenario in file.Scenarios)
        {
            var failure = scenario.Problems is { Count: > 0 } problems
                ? $"not run: {string.Join("; ", problems)}"
                : definition is null
                ? $"pathway '{file.Pathway}'{(file.Practice is null ? "" : $" for practice '{file.Practice}'")} is not loaded (see pathways validate)"
                : RunOne(scenario, definition);
            yield return new ScenarioResult(file.File, scenario.Name, failure is null, failure);
        }
    }

    /// <summary>" (did you mean 'X'?)" for the known name nearest to <paramref name="given"/>, if one is near.</summary>
    internal static string Suggest(string given, IEnumerable<string> known)
    {
        var candidates = known.Distinct().Select(k => (Name: k, Distance: Distance(given.ToLowerInvariant(), k.ToLowerInvariant()))).ToList();
        if (candidates.Count == 0) return "";
        var best = candidates.MinBy(x => x.Distance);
        return best.Name is not null && best.Distance <= Math.Max(2, given.Length / 4) ? $" (did you mean '{best.Name}'?)" : "";
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }
        return row[b.Length];
    }

    public static string KindName(RejectionKind kind) => kind switch
    {
        RejectionKind.Forbidden => "forbidden",
        RejectionKind.NotPermitted => "not-permitted",
        RejectionKind.InvalidData => "invalid-data",
        RejectionKind.GuardFailed => "guard-failed",
        _ => "version-conflict",
    };

    private static string? RunOne(Scenario scenario, PathwayDefinition definition)
    {
        var now = scenario.StartAt;
        var id = new Guid(MD5.HashData(Encoding.UTF8.GetBytes(scenario.Name)));
        Trajectory state;
        try
        {
            var start = new StartTrajectory(id, "scenario-patient", "scenario-practice",
                new Caller("scenario", new HashSet<string> { scenario.StartRole }), scenario.StartData);
            state = Trajectory.Replay(TrajectoryDecider.Start(start, definition, now));
        }
        catch (PathwayRuleException e)
        {
            return $"start (line {scenario.Location.Line}): rejected ({KindName(e.Kind)}): {e.Message}";
        }

        for (var i = 0; i < scenario.Steps.Count; i++)
        {
            var step = scenario.Steps[i];
            var outcome = new StepOutcome();
            if (step.Fire is not null)
            {
                var roles = new HashSet<string> { step.Role ?? "" };
                // A typo in a trigger or a role is its own rejection, never a not-permitted or forbidden that was meant.
                if (definition.TrackOf(step.Fire) is null)
                    outcome.Unknown = ("unknown-trigger", $"'{step.Fire}' is not a step of pathway '{definition.Id}'{Suggest(step.Fire, definition.Tracks.SelectMany(t => t.States.SelectMany(st => st.Transitions).Concat(t.AnyState)).Select(x => x.Trigger))}");
                else if (definition.FindRole(step.Role ?? "") is null)
                    outcome.Unknown = ("unknown-role", $"'{step.Role}' is not a role of pathway '{definition.Id}'{Suggest(step.Role ?? "", definition.Roles.Select(r => r.Name))}");
                else
                try
                {
                    var events = TrajectoryDecider.Fire(new FireTrigger(step.Fire, new Caller("scenario", roles), step.Data), state, definition, now);
                    state = Apply(state, events, outcome);
                }
                catch (PathwayRuleException e)
                {
                    outcome.Rejection = e;
                }
            }
            if (step.Wait is not null && IsoPeriod.TryParse(step.Wait, out var period))
            {
                var until = period.AddTo(now);
                for (var n = 0; n < MaxDeadlinesPerWait && state.Deadlines.Where(d => d.DueAt <= until).MinBy(d => d.DueAt) is { } due; n++)
                {
                    now = due.DueAt;
                    var events = TrajectoryDecider.FireDeadline(new DeadlineDue(due.Name, due.Track, due.DueAt), state, definition, now);
                    if (events.Count == 0) break; // a lapsed deadline stays overdue; nothing further can fire in this wait
                    state = Apply(state, events, outcome);
                }
                now = until;
            }
            var differences = Compare(step, state, definition, outcome);
            if (differences.Count > 0)
                return $"step {i + 1} (line {step.Location.Line}{(step.Fire is null ? "" : $", {step.Fire}")}): {string.Join("; ", differences)}";
        }
        return null;
    }

    private sealed class StepOutcome
    {
        public PathwayRuleException? Rejection;
        public (string Name, string Message)? Unknown;
        public readonly List<string> Warnings = [];
        public readonly List<string> Fired = [];
    }

    private static Trajectory Apply(Trajectory state, IReadOnlyList<object> events, StepOutcome outcome)
    {
        foreach (var e in events)
        {
            if (e is StepTaken step)
            {
                outcome.Warnings.AddRange(step.Warnings.Select(w => w.Code));
                if (step.Deadline is not null) outcome.Fired.Add(step.Trigger);
            }
            state = Trajectory.Evolve(state, e);
        }
        return state;
    }

    private static List<string> Compare(ScenarioStep step, Trajectory state, PathwayDefinition definition, StepOutcome outcome)
    {
        var x = step.Expect;
        var d = new List<string>();
        var rejected = outcome.Unknown?.Name ?? (outcome.Rejection is null ? null : KindName(outcome.Rejection.Kind));
        if (x.Rejected != rejected)
            d.Add(rejected is null ? $"expected rejection '{x.Rejected}', but the step was accepted"
                : $"expected {(x.Rejected is null ? "acceptance" : $"rejection '{x.Rejected}'")}, but it was rejected ({rejected}): {outcome.Unknown?.Message ?? outcome.Rejection!.Message}" +
                  (outcome.Rejection?.FieldErrors.Where(f => f.Message != outcome.Rejection.Message).ToList() is { Count: > 0 } errors
                      ? $" [{string.Join(", ", errors.Select(f => $"{f.Field} {f.Message}"))}]" : ""));
        if (x.Field is not null && outcome.Rejection?.FieldErrors.Any(f => f.Field == x.Field) != true)
            d.Add($"expected an error on field '{x.Field}', got: {string.Join(", ", outcome.Rejection?.FieldErrors.Select(f => f.Field) ?? [])}");
        if (x.State is not null && state.State != x.State) d.Add($"expected state '{x.State}', was '{state.State}'");
        foreach (var (track, expected) in x.Tracks)
            if (state.Tracks.GetValueOrDefault(track) != expected)
                d.Add($"expected track '{track}' in '{expected}', was '{state.Tracks.GetValueOrDefault(track)}'");
        Same("warnings", x.Warnings, outcome.Warnings, d);
        Same("fired deadlines", x.Fired, outcome.Fired, d, ordered: true);
        Same("armed deadlines", x.Deadlines, state.Deadlines.Select(dl => dl.Name), d);
        if (x.Permitted is not null)
            Same("permitted triggers", x.Permitted, TrajectoryDecider.PermittedTriggers(state, definition, new HashSet<string> { step.Role ?? "" }), d);
        foreach (var (counter, expected) in x.Counters)
            if (state.Counters.GetValueOrDefault(counter) != expected)
                d.Add($"expected counter '{counter}' = {expected}, was {state.Counters.GetValueOrDefault(counter)}");
        if (x.Completed is { } completed && state.Completed != completed) d.Add($"expected completed = {completed}, was {state.Completed}");
        if (x.Outcome is not null && state.Outcome != x.Outcome) d.Add($"expected outcome '{x.Outcome}', was '{state.Outcome ?? "none"}'");
        return d;
    }

    /// <param name="ordered">Compare in order (deadlines fire one after another); otherwise as sets.</param>
    private static void Same(string what, IReadOnlyList<string>? expected, IEnumerable<string> actual, List<string> differences, bool ordered = false)
    {
        if (expected is null) return;
        var a = ordered ? actual.ToList() : actual.Order(StringComparer.Ordinal).ToList();
        if (!(ordered ? expected.AsEnumerable() : expected.Order(StringComparer.Ordinal)).SequenceEqual(a))
            differences.Add($"expected {what} [{string.Join(", ", expected)}], was [{string.Join(", ", a)}]");
    }
}
