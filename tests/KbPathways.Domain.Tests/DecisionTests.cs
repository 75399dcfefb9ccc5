using KbPathways.Domain.Pathways.Engine;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

/// <summary>The <c>decisions</c> field: an MDO's besluiten, each with an owner (a role) and a date, as open actions.</summary>
public class DecisionTests
{
    private static readonly PathwayDefinition Mdo = Load(Pathway
        .Replace("  reden: { type: text }", "  reden: { type: text }\n  besluiten: { type: decisions, label: Besluiten }")
        .Replace("optional: [notitie]", "optional: [notitie, besluiten]"));

    private static string Besluiten(params string[] rows) => $$"""{"lijst": {"a": true, "b": "nee", "c": 8}, "besluiten": [{{string.Join(", ", rows)}}]}""";

    [Fact]
    public void Given_a_decisions_field_Then_its_owners_are_the_pathways_roles_with_their_labels()
    {
        var field = Mdo.FindField("besluiten")!;
        field.Type.ShouldBe(FieldType.Decisions);
        field.Values.ShouldBe(["poh", "huisarts"]);
        field.LabelOf("huisarts").ShouldBe("Huisarts");
    }

    [Fact]
    public void Given_decisions_with_mistakes_When_taken_Then_each_mistake_is_named_on_its_own_path_and_nothing_is_recorded()
    {
        var t = Started(Mdo);
        var refused = Should.Throw<PathwayRuleException>(() => t.Fire(Mdo, "beoordelen", "huisarts",
            Besluiten("""{"besluit": "", "eigenaar": "poh", "datum": "2026-03-10"}""", """{"besluit": "x", "eigenaar": "kassier", "datum": "10-03-2026", "extra": 1}""")));

        refused.FieldErrors.Select(e => e.Field).Order().ShouldBe(["besluiten[0].besluit", "besluiten[1].datum", "besluiten[1].eigenaar", "besluiten[1].extra"]);
        Should.Throw<PathwayRuleException>(() => t.Fire(Mdo, "beoordelen", "huisarts", """{"lijst": {"a": true, "b": "nee", "c": 8}, "besluiten": []}"""))
            .FieldErrors.ShouldHaveSingleItem().Field.ShouldBe("besluiten");
    }

    [Fact]
    public void Given_an_MDO_with_two_decisions_Then_they_are_open_actions_until_the_next_record_of_the_field_replaces_them()
    {
        var t = Started(Mdo).Fire(Mdo, "beoordelen", "huisarts",
            Besluiten("""{"besluit": "fysio", "eigenaar": "poh", "datum": "2026-03-10"}""", """{"besluit": "medicatie", "eigenaar": "huisarts", "datum": "2026-03-20"}"""));

        var step = t.Facts.Decisions.ShouldNotBeNull();
        step.Select(d => (d.Number, d.Owner, d.Due)).ShouldBe([(1, "poh", new DateOnly(2026, 3, 10)), (2, "huisarts", new DateOnly(2026, 3, 20))]);
        step.ShouldAllBe(d => d.Trigger == "beoordelen" && d.Field == "besluiten");

        var again = t.Fire(Mdo, "afsluiten", "huisarts", """{"akkoord": true}""");
        again.Facts.Decisions.ShouldBe(step);   // a step without besluiten leaves them open
    }

    [Theory]
    [InlineData("  reden: { type: text }", "  reden: { type: text }\n  besluiten: { type: decisions, values: [a] }", "values: [a]", "wrong-kind")]
    [InlineData("      d: { type: text, required: false }", "      d: { type: decisions, required: false }", "d: { type: decisions", "unknown-type")]
    [InlineData("  reden: { type: text }", "  reden: { type: text }\n  besluiten: { type: decisions }", "besluiten: { type: decisions }", null)]
    public void Given_a_decisions_field_in_the_wrong_place_When_loaded_Then_it_is_refused_at_its_line(string find, string replace, string at, string? rule)
    {
        var text = Pathway.Replace(find, replace);
        if (rule is null) text = text.Replace("when: { not: { field: ernst, eq: zwaar } }", "when: { field: besluiten, eq: zwaar }");
        rule ??= "guard-type";

        var result = PathwayLoader.Load("besluit.yaml", text);

        var hit = result.Errors.FirstOrDefault(e => e.Rule == rule);
        hit.ShouldNotBeNull(string.Join(" | ", result.Diagnostics));
        text.Split('\n')[hit.Location.Line - 1].ShouldContain(rule == "guard-type" ? "besluiten, eq" : at);
    }
}
