using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

/// <summary>Issue 23 item 4: tracks that know each other.</summary>
public class TracksTogetherTests
{
    private const string Text = """
        id: samen
        version: 1
        title: Samen
        roles:
          poh: POH
        states:
          Intake:
            initial: true
            waits: false
            on:
              planGemaakt:
                label: Plan gemaakt
                roles: [poh]
                to: Behandeling
                enters: { track: huisbezoek, state: Gepland }
          Behandeling:
            waits: false
            on:
              afsluiten:
                label: Afgesloten
                roles: [poh]
                when: { track: welzijn, notIn: [Lopend] }
                because: Sluit pas af als de welzijnsroute is teruggekoppeld.
                to: Klaar
          Klaar: { final: true }
        tracks:
          welzijn:
            label: Welzijn
            opensAfter: Behandeling
            states:
              Geen: { initial: true, waits: false, on: { verwezen: { label: Verwezen, roles: [poh], to: Lopend } } }
              Lopend: { waits: false, on: { teruggekoppeld: { label: Teruggekoppeld, roles: [poh], to: Geen } } }
          huisbezoek:
            label: Huisbezoek
            states:
              NietGepland: { initial: true, waits: false, on: { inplannen: { label: Ingepland, roles: [poh], to: Gepland } } }
              Gepland:
                deadlines:
                  bezoek: { after: P2W, fires: bezoekVerlopen }
                on:
                  bezoekVerlopen: { roles: [], label: Bezoek niet afgelegd }
                  afgelegd: { label: Afgelegd, roles: [poh], to: NietGepland }
        """;

    [Fact]
    public void Given_a_main_step_that_enters_a_track_Then_that_track_moves_and_its_deadline_is_armed()
    {
        var d = Load(Text);
        var events = TrajectoryDecider.Fire(new FireTrigger("planGemaakt", As("poh"), NoData), Started(d), d, T0);

        var t = events.Aggregate(Started(d), Trajectory.Evolve);
        t.State.ShouldBe("Behandeling");
        t.Tracks["huisbezoek"].ShouldBe("Gepland");
        t.Deadlines.ShouldContain(x => x.Name == "bezoek" && x.Track == "huisbezoek" && x.DueAt == T0.AddDays(14));
        events.OfType<StepTaken>().Select(s => s.Track).ShouldBe(["main", "huisbezoek"]);
    }

    [Fact]
    public void Given_a_track_that_opens_after_a_main_state_Then_it_cannot_start_before_and_can_after()
    {
        var d = Load(Text);
        var start = Started(d);

        TrajectoryDecider.PermittedTriggers(start, d, new HashSet<string> { "poh" }).ShouldNotContain("verwezen");
        Should.Throw<PathwayRuleException>(() => start.Fire(d, "verwezen", "poh")).Message.ShouldContain("opens once the trajectory has been in 'Behandeling'");

        var behandeling = start.Fire(d, "planGemaakt", "poh");
        behandeling.Fire(d, "verwezen", "poh").Tracks["welzijn"].ShouldBe("Lopend");
    }

    [Fact]
    public void Given_a_guard_on_another_tracks_state_Then_it_decides_and_explains_with_that_state()
    {
        var d = Load(Text);
        var lopend = Started(d).Fire(d, "planGemaakt", "poh").Fire(d, "verwezen", "poh");

        var refused = Should.Throw<PathwayRuleException>(() => lopend.Fire(d, "afsluiten", "poh"));
        refused.Kind.ShouldBe(RejectionKind.GuardFailed);
        refused.Message.ShouldBe("Sluit pas af als de welzijnsroute is teruggekoppeld.");
        var step = TrajectoryDecider.Fire(new FireTrigger("afsluiten", As("poh"), NoData), lopend.Fire(d, "teruggekoppeld", "poh"), d, T0).OfType<StepTaken>().First();
        step.Decision.ShouldContain(x => x.Condition.Contains("track(welzijn)") && x.Actual == "Geen");
    }

    [Theory]
    [InlineData("when: { track: welzijn, notIn: [Lopend] }", "when: { track: welzjin, notIn: [Lopend] }", "unknown-track", "welzjin")]
    [InlineData("when: { track: welzijn, notIn: [Lopend] }", "when: { track: welzijn, notIn: [Loopt] }", "unknown-state", "Loopt")]
    [InlineData("enters: { track: huisbezoek, state: Gepland }", "enters: { track: huisbezoek, state: Gepland2 }", "unknown-state", "Gepland2")]
    [InlineData("opensAfter: Behandeling", "opensAfter: Behandelen", "unknown-state", "welzijn:")]
    public void Given_a_mistake_between_tracks_When_loaded_Then_a_located_error(string find, string replace, string rule, string at)
    {
        var text = Text.Replace(find, replace);

        var error = PathwayLoader.Load("samen.yaml", text).Errors.ShouldHaveSingleItem();

        error.Rule.ShouldBe(rule);
        text.Split('\n')[error.Location.Line - 1].ShouldContain(at);
    }
}
