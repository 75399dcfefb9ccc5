using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

public class MigrationTests
{
    private static readonly Actor Manager = new("m1", "praktijkmanager");
    private static readonly Dictionary<string, string> NoMapping = [];

    [Fact]
    public void Given_a_new_version_with_the_same_states_When_migrating_Then_one_event_and_fresh_deadlines()
    {
        var v1 = Load();
        var v2 = Load(Pathway.Replace("version: 1", "version: 2").Replace("termijn: P2W", "termijn: P3W"));
        var state = Started(v1);

        var events = Migration.Decide(state, v2, NoMapping, Manager, T0.AddDays(1));

        var migrated = events[0].ShouldBeOfType<TrajectoryMigrated>();
        (migrated.FromVersion, migrated.ToVersion, migrated.ToHash).ShouldBe((1, 2, v2.Hash));
        events[1].ShouldBe(new DeadlineScheduled(Guid.Empty, "herinnering", "main", "Start", "herinneren", T0.AddDays(22), T0.AddDays(1)));
        var after = events.Aggregate(state, Trajectory.Evolve);
        after.DefinitionVersion.ShouldBe(2);
        after.Deadlines.Single().DueAt.ShouldBe(T0.AddDays(22));
        Migration.Decide(after, v2, NoMapping, Manager, T0.AddDays(2)).ShouldBeEmpty();
    }

    [Fact]
    public void Given_a_version_without_the_current_state_When_migrating_Then_refused_unless_mapped()
    {
        var v1 = Load();
        var v2 = Load(Pathway.Replace("version: 1", "version: 2").Replace("Start", "Begin"));
        var state = Started(v1);

        var refused = Should.Throw<PathwayRuleException>(() => Migration.Decide(state, v2, NoMapping, Manager, T0));
        refused.Kind.ShouldBe(RejectionKind.InvalidData);
        refused.FieldErrors.Single().Field.ShouldBe("Start");

        var events = Migration.Decide(state, v2, new Dictionary<string, string> { ["Start"] = "Begin" }, Manager, T0);
        events.Aggregate(state, Trajectory.Evolve).State.ShouldBe("Begin");
    }

    [Fact]
    public void Given_a_completed_trajectory_When_migrating_Then_not_permitted()
    {
        var d = Load();
        var done = Started(d).Fire(d, "stoppen", "poh");
        Should.Throw<PathwayRuleException>(() => Migration.Decide(done, Load(Pathway.Replace("version: 1", "version: 2")), NoMapping, Manager, T0))
            .Kind.ShouldBe(RejectionKind.NotPermitted);
    }
}
