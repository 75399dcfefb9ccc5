using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Pathways.Model;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

public class OverlayAndHashTests
{
    private const string Overlay = """
        extends: demo
        practice: overvecht
        settings:
          drempel: 5
          termijn: P1W
        roles:
          poh: { label: Praktijkverpleegkundige }
        """;

    [Fact]
    public void Given_an_overlay_When_loaded_Then_its_values_replace_the_base_and_change_the_outcome()
    {
        var result = PathwayLoader.Load([new PathwaySource("demo.yaml", Pathway), new PathwaySource("overvecht/demo.yaml", Overlay)]);

        result.Diagnostics.ShouldBeEmpty();
        var base_ = result.Definitions.Single(x => x.Practice is null);
        var practice = result.Definitions.Single(x => x.Practice == "overvecht");
        practice.FindRole("poh")!.Label.ShouldBe("Praktijkverpleegkundige");
        practice.Main.States[0].Deadlines[0].After.ShouldBe(new IsoPeriod(0, 0, 1, 0, 0, 0));
        practice.Hash.ShouldNotBe(base_.Hash);
        practice.Sources.Select(s => s.File).ShouldBe(["demo.yaml", "overvecht/demo.yaml"]);

        const string vier = """{"lijst": {"a": false, "b": "ja", "c": 5}}""";
        Started(base_).Fire(base_, "beoordelen", "huisarts", vier).State.ShouldBe("Zwaar");
        Started(practice).Fire(practice, "beoordelen", "huisarts", vier).State.ShouldBe("Licht");
    }

    [Fact]
    public void Given_an_overlay_with_a_key_the_base_lacks_When_loaded_Then_overlay_unknown_key_in_the_overlay_file()
    {
        var overlay = Overlay.Replace("  termijn: P1W", "  termijn: P1W\n  nieuw: 3");
        var result = PathwayLoader.Load([new PathwaySource("demo.yaml", Pathway), new PathwaySource("o.yaml", overlay)]);

        var error = result.Errors.Single();
        error.Rule.ShouldBe("overlay-unknown-key");
        error.Location.ShouldBe(new Pathways.SourceLocation("o.yaml", 6, 3));
        error.Message.ShouldContain("settings.nieuw");
        result.Definitions.Count.ShouldBe(1);
    }

    [Fact]
    public void Given_an_overlay_value_that_breaks_a_rule_When_loaded_Then_the_error_points_into_the_overlay()
    {
        var result = PathwayLoader.Load([new PathwaySource("demo.yaml", Pathway), new PathwaySource("o.yaml", Overlay.Replace("P1W", "een week"))]);
        result.Errors.Single().Location.File.ShouldBe("o.yaml");
    }

    [Fact]
    public void Given_an_overlay_of_an_unknown_pathway_When_loaded_Then_unknown_pathway() =>
        PathwayLoader.Load([new PathwaySource("o.yaml", Overlay)]).Errors.Single().Rule.ShouldBe("unknown-pathway");

    [Fact]
    public void Given_the_same_meaning_in_another_layout_When_hashed_Then_the_hash_is_equal()
    {
        var relaid = "# a comment\n" + Pathway.Replace("title: Demo", "title: \"Demo\"   # quoted now");
        Load(relaid).Hash.ShouldBe(Load().Hash);
        Load(Pathway.Replace("drempel: 4", "drempel: 3")).Hash.ShouldNotBe(Load().Hash);
    }
}

/// <summary>Issue 23 item 7: overlays that add a state, a step, a deadline or an option, and remove a step.</summary>
public class OverlayAdditionTests
{
    private const string Base = Fixtures.Pathway;

    private static LoadResult Load(string overlay) =>
        PathwayLoader.Load([new PathwaySource("demo.yaml", Base), new PathwaySource("praktijk/demo.yaml", "extends: demo\npractice: praktijk\n" + overlay)]);

    [Fact]
    public void Given_an_overlay_that_adds_a_state_a_step_to_it_and_a_deadline_Then_the_practice_runs_them()
    {
        var result = Load("""
            states:
              Licht:
                deadlines:
                  nabellen: { after: P1W, fires: nabellen }
                on:
                  nabellen: { label: Nagebeld, roles: [] }
                  naarNazorg: { label: Naar nazorg, roles: [poh], to: Nazorg }
              Nazorg:
                label: Nazorg
                waits: false
                on:
                  afgerond: { label: Nazorg afgerond, roles: [poh], to: Klaar }
            fields:
              ernst:
                values: { licht: Licht, zwaar: Zwaar, onbekend: Nog onbekend }
            """);

        result.Errors.ShouldBeEmpty();
        var practice = result.Definitions.Single(d => d.Practice == "praktijk");
        practice.FindState("Nazorg").ShouldNotBeNull().Location.File.ShouldBe("praktijk/demo.yaml");
        practice.FindField("ernst")!.Values.ShouldBe(["licht", "zwaar", "onbekend"]);
        var licht = Fixtures.Started(practice).Fire(practice, "beoordelen", "huisarts", """{"lijst": {"a": true, "b": "nee", "c": 8}}""");
        licht.Deadlines.ShouldContain(d => d.Name == "nabellen");
        licht.Fire(practice, "naarNazorg", "poh").Fire(practice, "afgerond", "poh").Completed.ShouldBeTrue();
        result.Definitions.Single(d => d.Practice is null).FindState("Nazorg").ShouldBeNull();   // the base is untouched
    }

    [Fact]
    public void Given_an_overlay_that_removes_a_step_Then_the_practice_has_it_no_more_and_the_base_still_does()
    {
        var result = Load("states:\n  Start:\n    on:\n      contact: { remove: true }\n");

        result.Errors.ShouldBeEmpty();
        result.Definitions.Single(d => d.Practice == "praktijk").Main.FindState("Start")!.Transitions.ShouldNotContain(t => t.Trigger == "contact");
        result.Definitions.Single(d => d.Practice is null).Main.FindState("Start")!.Transitions.ShouldContain(t => t.Trigger == "contact");
    }

    [Theory]
    [InlineData("states:\n  Nieuw:\n    label: Nieuw\n    waits: false\n    on:\n      verder: { label: Verder, roles: [poh], to: Klaar }\n", "unreachable-state", "Nieuw:")]
    [InlineData("states:\n  Licht:\n    on:\n      naarNergens: { label: Naar nergens, roles: [poh], to: Nergens }\n", "unknown-state", "naarNergens")]
    [InlineData("anyState:\n  on:\n    stoppen: { remove: true }\n", "unreachable-state", "")]
    [InlineData("tracks:\n  zijspoor:\n    states:\n      Actief:\n        on:\n          terug: { remove: true }\n", "dead-end", "")]
    [InlineData("states:\n  Licht:\n    ownr: poh\n", "overlay-unknown-key", "ownr")]
    [InlineData("states:\n  Licht: { remove: true }\n", "overlay-remove", "Licht")]
    [InlineData("settings:\n  termijnn: P1W\n", "overlay-unknown-key", "termijnn")]
    public void Given_an_overlay_whose_addition_or_removal_breaks_the_pathway_Then_the_error_is_located_in_the_overlay_where_it_can_be(string overlay, string rule, string at)
    {
        var result = Load(overlay);

        var error = result.Errors.FirstOrDefault(e => e.Rule == rule);
        error.ShouldNotBeNull(string.Join(" | ", result.Diagnostics));
        if (at.Length > 0)
        {
            error.Location.File.ShouldBe("praktijk/demo.yaml");
            ("extends: demo\npractice: praktijk\n" + overlay).Split('\n')[error.Location.Line - 1].ShouldContain(at);
        }
        result.Definitions.ShouldNotContain(d => d.Practice == "praktijk");
    }
}
