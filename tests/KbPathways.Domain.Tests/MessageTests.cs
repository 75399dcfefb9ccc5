using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Scenarios;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

/// <summary>
/// Issue 23 item 13: the YAML mistakes practices make get messages in plain words, each at the file:line:col it is about.
/// </summary>
public class MessageTests
{
    private static (int Line, int Column, string Rule, string Message) One(string text)
    {
        var error = PathwayLoader.Load("eigen.yaml", text).Diagnostics.ShouldHaveSingleItem(string.Join(" | ", PathwayLoader.Load("eigen.yaml", text).Diagnostics));
        error.Location.File.ShouldBe("eigen.yaml");
        return (error.Location.Line, error.Location.Column, error.Rule, error.Message);
    }

    private static int LineOf(string text, string find) => text[..text.IndexOf(find, StringComparison.Ordinal)].Count(c => c == '\n') + 1;

    [Fact]
    public void Given_a_tab_in_the_indentation_Then_indentation_on_the_tabs_own_line_and_column()
    {
        var text = Pathway.Replace("    owner: poh\n", "\towner: poh\n");

        var (line, column, rule, message) = One(text);

        (line, column).ShouldBe((LineOf(text, "\towner"), 1));
        rule.ShouldBe("yaml-indentation");
        message.ShouldContain("a tab is used to indent this line");
    }

    [Fact]
    public void Given_a_line_indented_one_space_too_far_Then_indentation_on_that_line()
    {
        var text = Pathway.Replace("    owner: poh\n", "     owner: poh\n");

        var (line, column, rule, message) = One(text);

        (line, column).ShouldBe((LineOf(text, "     owner"), 6));
        rule.ShouldBe("yaml-indentation");
        message.ShouldBe("indentation: this line is indented 5 spaces, the line above 4; keys of one mapping line up, and a key nested under another is indented further");
    }

    [Fact]
    public void Given_to_one_level_too_shallow_Then_it_is_named_as_a_key_at_the_wrong_depth_not_a_trigger()
    {
        var text = Pathway.Replace("      afsluiten: { label: Afgesloten, roles: [poh, huisarts], to: Klaar, requires: [akkoord], when: { field: akkoord, eq: true }, because: Akkoord nodig }",
            "      afsluiten:\n        label: Afgesloten\n        roles: [poh, huisarts]\n      to: Klaar");

        var (line, column, rule, message) = One(text);

        (line, column).ShouldBe((LineOf(text, "      to: Klaar"), 7));
        rule.ShouldBe("key-depth");
        message.ShouldBe("'to' is a key of a step, not a step: indent it under the step it belongs to (one level deeper)");
    }

    [Fact]
    public void Given_a_misspelled_state_Then_did_you_mean_the_right_one()
    {
        var text = Pathway.Replace("to: Klaar, requires: [akkoord]", "to: Klar, requires: [akkoord]");

        var (line, _, rule, message) = One(text);

        line.ShouldBe(LineOf(text, "to: Klar,"));
        rule.ShouldBe("unknown-state");
        message.ShouldEndWith("(did you mean 'Klaar'?)");
    }

    [Fact]
    public void Given_a_guard_with_a_type_error_Then_one_error_and_no_false_unreachable_target_warning()
    {
        var text = Pathway.Replace("when: { threshold: lijst.hoog }", "when: { field: ernst, gt: 3 }");

        var (line, _, rule, _) = One(text);

        rule.ShouldBe("guard-type");
        line.ShouldBe(LineOf(text, "gt: 3"));
    }

    [Fact]
    public void Given_a_value_of_the_wrong_type_in_a_guard_Then_the_message_says_an_integer()
    {
        var (_, _, rule, message) = One(Pathway.Replace("gte: $plafond", "gte: veel"));

        rule.ShouldBe("guard-type");
        message.ShouldContain("is not an integer");
    }

    [Fact]
    public void Given_a_scenario_expecting_acceptance_where_the_guard_refuses_Then_the_because_is_printed_once()
    {
        var scenarios = """
            pathway: demo
            scenarios:
              - name: Afsluiten zonder akkoord
                start: { role: poh }
                steps:
                  - { fire: beoordelen, role: huisarts, data: { lijst: { a: true, b: nee, c: 8 } } }
                  - { fire: afsluiten, role: poh, data: { akkoord: false } }
            """;
        var file = ScenarioReader.Read("demo.scenarios.yaml", scenarios, new Pathways.DiagnosticBag())!;

        var failure = ScenarioRunner.Run(file, [Load()]).Single().Failure!;

        failure.Split("Akkoord nodig").Length.ShouldBe(2, failure);   // once
    }
}
