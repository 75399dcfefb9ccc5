using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

/// <summary>
/// Issue 23 item 2: this step's data vs. what was recorded before. Text without <c>language</c> keeps today's meaning
/// (a guard reads everything recorded, with a warning where it reads what the step does not take); <c>language: 2</c>
/// makes <c>field:</c> read this step's data and <c>recorded:</c> what came before.
/// </summary>
public class LanguageEditionTests
{
    /// <summary>A closing step whose guard reads 'akkoord', which an earlier step recorded and the closing step does not take.</summary>
    private static string Text(string edition, string subject) => Pathway
        .Replace("version: 1\n", $"version: 1\n{edition}")
        .Replace("      contact:\n        label: Contact gehad", "      akkoordGegeven: { label: Akkoord gegeven, roles: [poh], requires: [akkoord] }\n      contact:\n        label: Contact gehad")
        .Replace("              afsluiten: { label: Afgesloten, roles: [poh, huisarts], to: Klaar, requires: [akkoord], when: { field: akkoord, eq: true }, because: Akkoord nodig }",
                 $"              afsluiten: {{ label: Afgesloten, roles: [poh, huisarts], to: Klaar, optional: [notitie], when: {{ {subject}: akkoord, eq: true }}, because: Akkoord nodig }}")
        .Replace("      afsluiten: { label: Afgesloten, roles: [poh, huisarts], to: Klaar, requires: [akkoord], when: { field: akkoord, eq: true }, because: Akkoord nodig }",
                 $"      afsluiten: {{ label: Afgesloten, roles: [poh, huisarts], to: Klaar, optional: [notitie], when: {{ {subject}: akkoord, eq: true }}, because: Akkoord nodig }}");

    private const string Laag = """{"lijst": {"a": true, "b": "nee", "c": 8}}""";

    private static Trajectory ToLicht(Pathways.Model.PathwayDefinition d) =>
        Started(d).Fire(d, "akkoordGegeven", "poh", """{"akkoord": true}""").Fire(d, "beoordelen", "huisarts", Laag);

    [Fact]
    public void Given_text_without_a_language_When_a_guard_reads_what_an_earlier_step_recorded_Then_it_holds_as_today_with_a_warning()
    {
        var text = Text("", "field");
        var result = PathwayLoader.Load("oud.yaml", text);

        result.Errors.ShouldBeEmpty();
        var warning = result.Diagnostics.ShouldHaveSingleItem();
        warning.Rule.ShouldBe("guard-reads-earlier");
        text.Split('\n')[warning.Location.Line - 1].ShouldContain("field: akkoord, eq: true");
        var d = result.Definitions.Single();
        d.Language.ShouldBe(1);
        ToLicht(d).Fire(d, "afsluiten", "poh").Completed.ShouldBeTrue();   // the earlier true still satisfies it: the meaning of recorded text never changes
    }

    [Fact]
    public void Given_language_2_When_field_reads_what_the_step_does_not_take_Then_an_error_that_says_to_write_recorded()
    {
        var text = Text("language: 2\n", "field");

        var error = PathwayLoader.Load("nieuw.yaml", text).Errors.ShouldHaveSingleItem();

        error.Rule.ShouldBe("guard-scope");
        error.Message.ShouldContain("{ recorded: akkoord }");
        text.Split('\n')[error.Location.Line - 1].ShouldContain("field: akkoord");
    }

    [Fact]
    public void Given_language_2_with_recorded_Then_it_reads_the_earlier_value_without_a_warning()
    {
        var result = PathwayLoader.Load("nieuw.yaml", Text("language: 2\n", "recorded"));

        result.Diagnostics.ShouldBeEmpty();
        var d = result.Definitions.Single();
        ToLicht(d).Fire(d, "afsluiten", "poh").Completed.ShouldBeTrue();
        var step = TrajectoryDecider.Fire(new FireTrigger("afsluiten", As("poh"), NoData), ToLicht(d), d, T0).OfType<StepTaken>().First();
        step.Decision.ShouldContain(x => x.Condition.StartsWith("recorded(akkoord)"));
    }

    [Fact]
    public void Given_language_2_When_field_reads_an_optional_field_this_step_did_not_give_Then_an_earlier_value_does_not_count()
    {
        // Licht's afsluiten takes 'akkoord' optionally and compares it; an earlier step recorded akkoord = true.
        var text = Text("language: 2\n", "field").Replace("optional: [notitie], when: { field: akkoord", "optional: [notitie, akkoord], when: { field: akkoord");
        var d = PathwayLoader.Load("nieuw.yaml", text).Definitions.Single();

        Should.Throw<PathwayRuleException>(() => ToLicht(d).Fire(d, "afsluiten", "poh")).Kind.ShouldBe(RejectionKind.GuardFailed);
        ToLicht(d).Fire(d, "afsluiten", "poh", """{"akkoord": true}""").Completed.ShouldBeTrue();

        var old = PathwayLoader.Load("oud.yaml", text.Replace("language: 2\n", "")).Definitions.Single();
        ToLicht(old).Fire(old, "afsluiten", "poh").Completed.ShouldBeTrue();   // language 1: the earlier value counts, as it always did
    }

    [Fact]
    public void Given_an_unknown_edition_Then_it_is_refused()
    {
        PathwayLoader.Load("x.yaml", Text("language: 3\n", "field")).Errors.ShouldContain(e => e.Rule == "invalid-value" && e.Message.Contains("'language' is 1 or 2"));
    }
}
