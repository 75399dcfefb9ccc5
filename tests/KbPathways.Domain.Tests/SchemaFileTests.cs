using System.Text.Json;
using Json.Schema;
using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Yaml;
using KbPathways.Domain.Scenarios;

namespace KbPathways.Domain.Tests;

/// <summary>
/// Every shipped pathway and overlay is valid under pathway.schema.json, the schema an editor uses for completion and
/// checking: values, not only key names (issue 23).
/// </summary>
public class SchemaFileTests
{
    /// <summary>Parsed once for every test: a schema's $id is registered globally, so a second parse of it fails.</summary>
    internal static readonly JsonSchema Schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(ShippedPathwayTests.Root, "pathway.schema.json")));

    public static TheoryData<string> Files =>
        [.. Directory.EnumerateFiles(ShippedPathwayTests.Root, "*.yaml", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".scenarios.yaml", StringComparison.Ordinal)).Select(f => Path.GetRelativePath(ShippedPathwayTests.Root, f)).Order()];

    [Theory]
    [MemberData(nameof(Files))]
    public void Given_a_shipped_pathway_or_overlay_Then_it_is_valid_under_the_schema(string file)
    {
        var node = YamlReader.Read(file, File.ReadAllText(Path.Combine(ShippedPathwayTests.Root, file)), new DiagnosticBag()).ShouldNotBeNull();

        var result = Schema.Evaluate(ScenarioReader.ToJson(node), new EvaluationOptions { OutputFormat = OutputFormat.List });

        result.IsValid.ShouldBeTrue(string.Join("\n", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).Take(20)));
    }

    internal static readonly JsonSchema ScenarioSchema = JsonSchema.FromText(File.ReadAllText(Path.Combine(ShippedPathwayTests.Root, "scenarios.schema.json")));

    [Theory]
    [MemberData(nameof(ShippedPathwayTests.ScenarioFiles), MemberType = typeof(ShippedPathwayTests))]
    public void Given_a_shipped_scenario_file_Then_it_is_valid_under_the_scenario_schema(string file)
    {
        var node = YamlReader.Read(file, File.ReadAllText(Path.Combine(ShippedPathwayTests.Root, file)), new DiagnosticBag()).ShouldNotBeNull();

        var result = ScenarioSchema.Evaluate(ScenarioReader.ToJson(node), new EvaluationOptions { OutputFormat = OutputFormat.List });

        result.IsValid.ShouldBeTrue(string.Join("\n", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).Take(20)));
    }

    [Fact]
    public void Given_a_scenario_with_an_unknown_expectation_Then_the_scenario_schema_refuses_it()
    {
        var node = YamlReader.Read("x.scenarios.yaml", "pathway: demo\nscenarios:\n  - name: x\n    steps:\n      - { fire: a, expect: { staat: B } }\n", new DiagnosticBag())!;

        ScenarioSchema.Evaluate(ScenarioReader.ToJson(node)).IsValid.ShouldBeFalse();
    }

    [Fact]
    public void Given_a_pathway_with_a_wrong_value_Then_the_schema_refuses_it()
    {
        var node = YamlReader.Read("x.yaml", Fixtures.Pathway.Replace("type: integer", "type: getal"), new DiagnosticBag()).ShouldNotBeNull();

        Schema.Evaluate(ScenarioReader.ToJson(node)).IsValid.ShouldBeFalse();
    }
}
