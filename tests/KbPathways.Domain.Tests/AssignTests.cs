using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

/// <summary>Issue 23 item 5: work for a person, not only a role (<c>assign: self | release</c>).</summary>
public class AssignTests
{
    private static readonly string WithAssign = Pathway
        .Replace("      contact:\n        label: Contact gehad", "      oppakken: { label: Opgepakt, roles: [poh, huisarts], assign: self }\n      loslaten: { label: Losgelaten, roles: [poh, huisarts], assign: release }\n      contact:\n        label: Contact gehad");

    [Fact]
    public void Given_a_step_that_assigns_When_taken_Then_the_track_is_the_takers_until_released_and_replays_keep_it()
    {
        var d = Load(WithAssign);
        var start = Started(d);

        var taken = TrajectoryDecider.Fire(new FireTrigger("oppakken", new Caller("anna", new HashSet<string> { "poh" }), NoData), start, d, T0);
        var anna = taken.Aggregate(start, Trajectory.Evolve);

        taken.OfType<StepTaken>().Single().AssignedTo.ShouldBe("anna");
        anna.AssignedTo.ShouldBe(new Dictionary<string, string> { ["main"] = "anna" });
        anna.Fire(d, "contact", "poh").AssignedTo["main"].ShouldBe("anna");      // other steps leave it
        anna.Fire(d, "loslaten", "poh").AssignedTo.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("oppakken: { label: Opgepakt, roles: [poh, huisarts], assign: self }", "oppakken: { label: Opgepakt, roles: [poh, huisarts], assign: ik }", "invalid-value")]
    [InlineData("herinneren: { roles: [] }", "herinneren: { roles: [], assign: self }", "assign-deadline")]
    public void Given_a_wrong_assign_When_loaded_Then_a_located_error(string find, string replace, string rule)
    {
        WithAssign.ShouldContain(find);
        var text = WithAssign.Replace(find, replace);

        var error = PathwayLoader.Load("assign.yaml", text).Errors.ShouldHaveSingleItem();

        error.Rule.ShouldBe(rule);
        text.Split('\n')[error.Location.Line - 1].ShouldContain(replace.Split(':')[0].Trim());
    }
}
