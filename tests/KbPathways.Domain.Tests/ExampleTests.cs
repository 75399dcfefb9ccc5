using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Scenarios;

namespace KbPathways.Domain.Tests;

/// <summary>
/// The practice manager's pathway of issue 23, written with the second edition's constructs (counters that reset,
/// templates, assign, tracks that enter and open after, calendar deadlines, start data, decisions, language 2), and its
/// scenario: it loads without a warning and every scenario passes.
/// </summary>
public class ExampleTests
{
    private static string Example(string file) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Examples", file));

    [Fact]
    public void Given_the_tapering_contact_example_Then_it_validates_cleanly_and_its_scenarios_pass()
    {
        var loaded = PathwayLoader.Load("afbouwend-contact.yaml", Example("afbouwend-contact.yaml"));
        loaded.Diagnostics.ShouldBeEmpty(string.Join(" | ", loaded.Diagnostics));
        var diagnostics = new DiagnosticBag();
        var file = ScenarioReader.Read("afbouwend-contact.scenarios.yaml", Example("afbouwend-contact.scenarios.yaml"), diagnostics)!;
        ScenarioValidator.Validate(file, loaded.Definitions, diagnostics);
        diagnostics.Items.ShouldBeEmpty(string.Join(" | ", diagnostics.Items));

        var results = ScenarioRunner.Run(file, loaded.Definitions).ToList();

        results.ShouldNotBeEmpty();
        results.ShouldAllBe(r => r.Passed, string.Join("\n", results.Where(r => !r.Passed).Select(r => r.Failure)));
    }

    [Theory]
    [InlineData("afbouwend-contact.yaml", false)]
    [InlineData("afbouwend-contact.scenarios.yaml", true)]
    public void Given_the_example_Then_it_is_valid_under_its_schema(string file, bool scenarios)
    {
        var node = Pathways.Yaml.YamlReader.Read(file, Example(file), new DiagnosticBag()).ShouldNotBeNull();
        var json = scenarios ? SchemaFileTests.ScenarioSchema : SchemaFileTests.Schema;

        var result = json.Evaluate(ScenarioReader.ToJson(node), new Json.Schema.EvaluationOptions { OutputFormat = Json.Schema.OutputFormat.List });

        result.IsValid.ShouldBeTrue(string.Join("\n", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).Take(20)));
    }
}
