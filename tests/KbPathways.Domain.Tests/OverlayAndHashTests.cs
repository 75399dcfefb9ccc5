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
