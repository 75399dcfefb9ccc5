using KbPathways.Domain.Replay;
using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

public class WhatIfTests
{
    /// <summary>Records what the decider would append: start, then a step after 20 days (the 14-day reminder fires first).</summary>
    private static List<object> Recorded(Pathways.Model.PathwayDefinition d, string lijst)
    {
        var events = TrajectoryDecider.Start(new StartTrajectory(Guid.Empty, "p1", "pr", As("poh"), NoData), d, T0).ToList();
        var state = Trajectory.Replay(events);
        var due = state.Deadlines.Single();
        var fired = TrajectoryDecider.FireDeadline(new DeadlineDue(due.Name, due.Track, due.DueAt), state, d, due.DueAt);
        events.AddRange(fired);
        state = fired.Aggregate(state, Trajectory.Evolve);
        events.AddRange(TrajectoryDecider.Fire(new FireTrigger("beoordelen", As("huisarts"), Data(lijst)), state, d, T0.AddDays(20)));
        return events;
    }

    private const string Vier = """{"lijst": {"a": false, "b": "ja", "c": 5}}""";

    [Fact]
    public void Given_the_same_definition_When_replayed_Then_nothing_differs()
    {
        var d = Load();
        WhatIf.Run(Recorded(d, Vier), d, T0.AddDays(20)).Differences.ShouldBeEmpty();
    }

    [Fact]
    public void Given_a_stricter_threshold_When_replayed_Then_the_state_reached_differs()
    {
        var d = Load();
        var stricter = Load(Pathway.Replace("drempel: 4", "drempel: 5"));

        var result = WhatIf.Run(Recorded(d, Vier), stricter, T0.AddDays(20));

        result.RecordedState.ShouldBe("Zwaar");
        result.CandidateState.ShouldBe("Licht");
        result.Differences.ShouldBe(["state reached: 'Zwaar' recorded, 'Licht' with the candidate"]);
    }

    [Fact]
    public void Given_a_shorter_deadline_When_replayed_Then_it_reports_earlier_and_extra_firings()
    {
        var d = Load();
        var sooner = Load(Pathway.Replace("termijn: P2W", "termijn: P1W"));

        var result = WhatIf.Run(Recorded(d, Vier), sooner, T0.AddDays(20));

        result.Differences.ShouldBe([
            "deadline 'herinneren' fired 2026-03-16 09:00; the candidate would fire it 2026-03-09 09:00, 2026-03-16 09:00"]);
    }

    [Fact]
    public void Given_a_candidate_that_refuses_a_recorded_step_When_replayed_Then_the_rejection_is_reported()
    {
        var d = Load();
        var other = Load(Pathway.Replace("roles: [huisarts]\n        requires: [lijst]", "roles: [poh]\n        requires: [lijst]"));

        var result = WhatIf.Run(Recorded(d, Vier), other, T0.AddDays(20));

        result.Differences[0].ShouldStartWith("step 1 'beoordelen' (2026-03-22) would be rejected (Forbidden)");
        result.CandidateState.ShouldBe("Start");
    }
}
