using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

/// <summary>Issue 23 item 8: a pathway may require data at the start (<c>start: { requires: [...] }</c>).</summary>
public class StartDataTests
{
    private static readonly string WithStart = Pathway.Replace("roles:\n", "start:\n  requires: [reden, datum]\nroles:\n", StringComparison.Ordinal);

    [Fact]
    public void Given_a_pathway_that_requires_start_data_When_started_without_it_Then_each_missing_field_is_named_and_nothing_starts()
    {
        var d = Load(WithStart);
        d.StartRequires.ShouldBe(["reden", "datum"]);

        var refused = Should.Throw<PathwayRuleException>(() =>
            TrajectoryDecider.Start(new StartTrajectory(Guid.NewGuid(), "p1", "praktijk", As("poh"), Data("""{"reden": "signaal buurtteam"}""")), d, T0));

        refused.Kind.ShouldBe(RejectionKind.InvalidData);
        refused.FieldErrors.ShouldBe([new Pathways.Engine.FieldError("datum", "is required")]);
        var started = TrajectoryDecider.Start(new StartTrajectory(Guid.NewGuid(), "p1", "praktijk", As("poh"),
            Data("""{"reden": "signaal buurtteam", "datum": "2026-03-02"}""")), d, T0).OfType<TrajectoryStarted>().Single();
        started.Data.Keys.Order().ShouldBe(["datum", "reden"]);
    }

    [Theory]
    [InlineData("start:\n  requires: [bestaatNiet]\n", "bestaatNiet", "not a declared field")]
    [InlineData("start:\n  requires: [lijst]\n", "lijst", "instruments are recorded in a step")]
    public void Given_a_start_that_requires_what_it_cannot_When_loaded_Then_a_located_error(string start, string at, string message)
    {
        var text = Pathway.Replace("roles:\n", start + "roles:\n", StringComparison.Ordinal);

        var error = PathwayLoader.Load("start.yaml", text).Errors.ShouldHaveSingleItem();

        error.Rule.ShouldBe("unknown-field");
        error.Message.ShouldContain(message);
        text.Split('\n')[error.Location.Line - 1].ShouldContain(at);
    }
}
