using KbPathways.Domain.Pathways;
using KbPathways.Domain.Scenarios;

namespace KbPathways.Domain.Tests;

/// <summary>Issue 23 item 12: <c>pathways validate</c> checks scenario files too; each mistake is a located error.</summary>
public class ScenarioValidatorTests
{
    private const string Good = """
        pathway: demo
        scenarios:
          - name: Goed
            start: { role: poh }
            steps:
              - { fire: contact, role: poh, expect: { state: Start, deadlines: [herinnering], counters: { contacten: 1 } } }
              - { fire: aanmelden, role: poh, expect: { tracks: { zijspoor: Actief } } }
              - { fire: bestaatNiet, role: poh, expect: { rejected: unknown-trigger } }
              - { fire: contact, role: kassier, expect: { rejected: unknown-role } }
              - { fire: contact, role: poh, data: { onbekend: 1 }, expect: { rejected: invalid-data, field: onbekend } }
        """;

    private static List<Diagnostic> Validate(string text)
    {
        var diagnostics = new DiagnosticBag();
        var file = ScenarioReader.Read("demo.scenarios.yaml", text, diagnostics)!;
        ScenarioValidator.Validate(file, [Fixtures.Load()], diagnostics);
        return [.. diagnostics.Items];
    }

    [Fact]
    public void Given_a_scenario_file_that_names_only_what_the_pathway_has_Then_no_errors_even_where_it_expects_a_rejection_for_an_unknown_name()
    {
        Validate(Good).ShouldBeEmpty();
    }

    /// <summary>find, replace, rule, what the message says, and what the line it points at holds (the scenario's for its start).</summary>
    public static TheoryData<string, string, string, string, string> Mistakes => new()
    {
        { "pathway: demo", "pathway: demi", "unknown-pathway", "'demi'", "pathway: demi" },
        { "start: { role: poh }", "start: { role: pohh }", "unknown-role", "did you mean 'poh'?", "name: Goed" },
        { "{ fire: contact, role: poh, expect: { state: Start,", "{ fire: contakt, role: poh, expect: { state: Start,", "unknown-trigger", "did you mean 'contact'?", "contakt" },
        { "expect: { state: Start, deadlines", "expect: { state: Strat, deadlines", "unknown-state", "did you mean 'Start'?", "Strat" },
        { "deadlines: [herinnering]", "deadlines: [herinering]", "unknown-deadline", "did you mean 'herinnering'?", "herinering" },
        { "counters: { contacten: 1 }", "counters: { contact: 1 }", "unknown-counter", "'contact'", "counters: { contact: 1 }" },
        { "tracks: { zijspoor: Actief }", "tracks: { zijspor: Actief }", "unknown-track", "did you mean 'zijspoor'?", "zijspor" },
        { "{ fire: aanmelden, role: poh,", "{ fire: aanmelden, role: poh, data: { notitje: x },", "unknown-field", "did you mean 'notitie'?", "notitje" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void Given_a_scenario_with_a_mistake_When_validated_Then_an_error_with_its_rule_on_the_steps_line(string find, string replace, string rule, string says, string line)
    {
        Good.ShouldContain(find);
        var text = Good.Replace(find, replace);

        var error = Validate(text).ShouldHaveSingleItem();

        error.Rule.ShouldBe(rule);
        error.Message.ShouldContain(says);
        error.Location.File.ShouldBe("demo.scenarios.yaml");
        text.Split('\n')[error.Location.Line - 1].ShouldContain(line);
    }
}
