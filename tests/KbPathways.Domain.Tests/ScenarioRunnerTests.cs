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
}
