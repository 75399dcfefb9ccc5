using System.Text.Json;
using KbPathways.Domain.Pathways.Loading;

namespace KbPathways.Domain.Tests;

/// <summary>pathway.schema.json (for editors) and the binder (for the engine) must allow exactly the same keys.</summary>
public class SchemaTests
{
    private static readonly JsonElement Schema =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(ShippedPathwayTests.Root, "pathway.schema.json"))).RootElement;

    private static IEnumerable<string> Keys(params string[] path)
    {
        var node = Schema;
        foreach (var step in path) node = node.GetProperty(step);
        return node.GetProperty("properties").EnumerateObject().Select(p => p.Name);
    }

    public static TheoryData<string, string[], string[]> Constructs => new()
    {
        { "root", [], [.. DefinitionBinder.RootKeys, .. Overlay.OwnKeys] },
        { "field", ["$defs", "field"], DefinitionBinder.FieldKeys },
        { "item", ["$defs", "instrument", "properties", "items", "additionalProperties"], DefinitionBinder.ItemKeys },
        { "state", ["$defs", "state"], DefinitionBinder.StateKeys },
        { "transition", ["$defs", "transition"], DefinitionBinder.TransitionKeys },
        { "guard", ["$defs", "guard"], DefinitionBinder.GuardKeys },
    };

    [Theory]
    [MemberData(nameof(Constructs))]
    public void Given_a_construct_Then_schema_and_binder_allow_the_same_keys(string construct, string[] path, string[] binderKeys)
    {
        Keys(path).Order().ShouldBe(binderKeys.Order(), construct);
    }
}
