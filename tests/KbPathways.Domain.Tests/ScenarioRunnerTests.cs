using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Scenarios;

namespace KbPathways.Domain.Tests;

public class ScenarioRunnerTests
{
    private static IReadOnlyList<ScenarioResult> Run(string scenarios)
    {
        var definitions = PathwayLoader.Load("demo.yaml", Fixtures.Pathway).Definitions;
        var file = ScenarioReader.Read("demo.scenarios.yaml", scenarios, new DiagnosticBag())!;
        return [.. ScenarioRunner.Run(file, definitions)];
    }

    [Fact]
    public void Given_an_expectation_with_a_misspelled_key_Then_the_scenario_fails_naming_the_key_and_its_line()
    {
        var results = Run("""
            pathway: demo
            scenarios:
              - name: een typfout
                start: { role: poh }
                steps:
                  - fire: contact
                    role: poh
                    expect: { staat: Start }
              - name: goed
                start: { role: poh }
                steps:
                  - fire: contact
                    role: poh
                    expect: { state: Start }
            """);

        var typo = results.Single(r => r.Name == "een typfout");
        typo.Passed.ShouldBeFalse();
        typo.Failure!.ShouldStartWith("not run: demo.scenarios.yaml:8:");
        typo.Failure.ShouldContain("staat");
        results.Single(r => r.Name == "goed").Passed.ShouldBeTrue();
    }

    [Fact]
    public void Given_a_misspelled_trigger_or_role_Then_its_own_rejection_not_one_that_was_meant()
    {
        var results = Run("""
            pathway: demo
            scenarios:
              - name: trigger
                start: { role: poh }
                steps:
                  - { fire: contcat, role: poh, expect: { rejected: not-permitted } }
              - name: rol
                start: { role: poh }
                steps:
                  - { fire: contact, role: phö, expect: { rejected: forbidden } }
              - name: bedoeld
                start: { role: poh }
                steps:
                  - { fire: contcat, role: poh, expect: { rejected: unknown-trigger } }
                  - { fire: contact, role: huisartss, expect: { rejected: unknown-role } }
            """);

        var trigger = results.Single(r => r.Name == "trigger");
        trigger.Passed.ShouldBeFalse();
        trigger.Failure!.ShouldContain("rejected (unknown-trigger): 'contcat' is not a step of pathway 'demo' (did you mean 'contact'?)");
        results.Single(r => r.Name == "rol").Failure!.ShouldContain("rejected (unknown-role)");
        results.Single(r => r.Name == "bedoeld").Passed.ShouldBeTrue(results.Single(r => r.Name == "bedoeld").Failure);
    }
}
