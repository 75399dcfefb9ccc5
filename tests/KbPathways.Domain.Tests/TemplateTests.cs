using KbPathways.Domain.Pathways.Loading;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

/// <summary>Issue 23 item 6: reuse without copying — a named step template used in several states (<c>uses:</c>).</summary>
public class TemplateTests
{
    private static string With(string template) => Pathway
        .Replace("roles:\n", "steps:\n" + template + "\nroles:\n", StringComparison.Ordinal)
        .Replace("              afsluiten: { label: Afgesloten, roles: [poh, huisarts], to: Klaar, requires: [akkoord], when: { field: akkoord, eq: true }, because: Akkoord nodig }",
                 "              afsluiten: { uses: afsluiten }")
        .Replace("      afsluiten: { label: Afgesloten, roles: [poh, huisarts], to: Klaar, requires: [akkoord], when: { field: akkoord, eq: true }, because: Akkoord nodig }",
                 "      afsluiten: { uses: afsluiten }")
        .Replace("      afsluiten: { label: Afgesloten, roles: [huisarts], to: Klaar, requires: [ernst], when: { not: { field: ernst, eq: zwaar } } }",
                 "      afsluiten: { uses: afsluiten, roles: [huisarts] }");

    private const string Template = "  afsluiten: { label: Afgesloten, roles: [poh, huisarts], to: Klaar, requires: [akkoord], indicators: [uitstroom-stap] }";

    [Fact]
    public void Given_a_template_used_in_two_states_Then_both_steps_are_it_with_their_own_keys_winning_and_one_change_changes_both()
    {
        var d = Load(With(Template));
        var licht = d.Main.FindState("Licht")!.Transitions.Single(t => t.Trigger == "afsluiten");
        var zwaar = d.Main.FindState("Zwaar")!.Transitions.Single(t => t.Trigger == "afsluiten");

        licht.Label.ShouldBe("Afgesloten");
        licht.Roles.ShouldBe(["poh", "huisarts"]);
        licht.Requires.ShouldBe(["akkoord"]);
        zwaar.Roles.ShouldBe(["huisarts"]);                           // the use's own roles win
        zwaar.Requires.ShouldBe(["akkoord"]);
        licht.Template!.Value.Name.ShouldBe("afsluiten");

        var changed = Load(With(Template.Replace("requires: [akkoord]", "requires: [akkoord, notitie]")));
        changed.Main.FindState("Licht")!.Transitions.Single(t => t.Trigger == "afsluiten").Requires.ShouldBe(["akkoord", "notitie"]);
        changed.Main.FindState("Zwaar")!.Transitions.Single(t => t.Trigger == "afsluiten").Requires.ShouldBe(["akkoord", "notitie"]);
        changed.Hash.ShouldNotBe(d.Hash);
    }

    [Fact]
    public void Given_a_use_of_an_unknown_template_Then_an_error_at_the_use_with_did_you_mean()
    {
        var text = With(Template).Replace("afsluiten: { uses: afsluiten, roles: [huisarts] }", "afsluiten: { uses: afsluitn, roles: [huisarts] }");

        var error = PathwayLoader.Load("t.yaml", text).Errors.First(e => e.Rule == "unknown-template");

        error.Message.ShouldEndWith("(did you mean 'afsluiten'?)");
        text.Split('\n')[error.Location.Line - 1].ShouldContain("uses: afsluitn");
    }

    [Fact]
    public void Given_a_mistake_inside_the_template_Then_the_error_points_at_the_template_and_names_the_use()
    {
        var text = With(Template.Replace("indicators: [uitstroom-stap]", "indicators: [Uitstroom]"));

        var errors = PathwayLoader.Load("t.yaml", text).Errors.Where(e => e.Rule == "invalid-indicator").ToList();

        errors.Count.ShouldBe(2);                                                           // once per use
        errors.ShouldAllBe(e => text.Split('\n')[e.Location.Line - 1].Contains("indicators: [Uitstroom]"));
        errors.ShouldContain(e => e.Message.Contains("in step template 'afsluiten', used by 'afsluiten' at"));
    }

    [Fact]
    public void Given_a_template_naming_an_unknown_role_Then_the_error_at_each_use_names_the_template()
    {
        var text = With(Template.Replace("roles: [poh, huisarts]", "roles: [poh, arts]"));

        var error = PathwayLoader.Load("t.yaml", text).Errors.Single(e => e.Rule == "unknown-role");   // Zwaar's use overrides roles

        text.Split('\n')[error.Location.Line - 1].ShouldContain("afsluiten: { uses: afsluiten }");
        error.Message.ShouldContain("the step uses template 'afsluiten' at");
    }

    [Fact]
    public void Given_a_mistake_in_the_use_not_the_template_Then_it_is_not_said_to_be_in_the_template()
    {
        // The last template: its span ends where the next top-level key starts, not at the end of the file (the fuzz test found it).
        var text = With(Template).Replace("afsluiten: { uses: afsluiten, roles: [huisarts] }", "afsluiten: { uses: afsluiten, roles: [huisarts], assign: ik }");

        var error = PathwayLoader.Load("t.yaml", text).Errors.Single(e => e.Rule == "invalid-value");

        text.Split('\n')[error.Location.Line - 1].ShouldContain("assign: ik");
        error.Message.ShouldNotContain("in step template");
    }
}
