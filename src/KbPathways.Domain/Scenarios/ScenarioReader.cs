using System.Globalization;
using System.Text;
using System.Text.Json;
using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Pathways.Yaml;

namespace KbPathways.Domain.Scenarios;

/// <summary>Reads a <c>*.scenarios.yaml</c> file; problems are located diagnostics, like pathway files.</summary>
public static class ScenarioReader
{
    public static readonly DateTimeOffset DefaultStart = new(2026, 1, 5, 9, 0, 0, TimeSpan.Zero);

    public static ScenarioFile? Read(string file, string text, DiagnosticBag diagnostics)
    {
        var root = YamlReader.Read(file, text, diagnostics);
        if (root is null) return null;
        var map = MapView.Of(root, "a scenario file", ["pathway", "practice", "scenarios"], diagnostics);
        var pathway = map?.Text("pathway", "a scenario file", required: true);
        if (map is null || pathway is null) return null;
        var scenarios = new List<Scenario>();
        if (map.Node("scenarios") is YSequence list) scenarios.AddRange(list.Items.Select(n => ReadScenario(n, diagnostics)).OfType<Scenario>());
        else diagnostics.Error(map.Location, "missing-key", "a scenario file needs a list under 'scenarios'");
        return new ScenarioFile(file, pathway, map.Text("practice", "a scenario file"), scenarios);
    }

    private static Scenario? ReadScenario(YNode node, DiagnosticBag diagnostics)
    {
        var before = diagnostics.Items.Count;
        var map = MapView.Of(node, "a scenario", ["name", "start", "steps"], diagnostics);
        var name = map?.Text("name", "a scenario", required: true);
        if (map is null || name is null) return null;
        var at = DefaultStart;
        string role = "";
        IReadOnlyDictionary<string, JsonElement> data = new Dictionary<string, JsonElement>();
        if (map.Node("start") is { } startNode && MapView.Of(startNode, "a start", ["at", "role", "data"], diagnostics) is { } start)
        {
            if (start.Scalar("at", "a start") is { } a)
            {
                if (DateTimeOffset.TryParse(a.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)) at = parsed;
                else diagnostics.Error(a.Location, "wrong-type", $"'{a.Value}' is not a date-time");
            }
            role = start.Text("role", "a start", required: true) ?? "";
            data = Data(start.Node("data"), diagnostics);
        }
        else diagnostics.Error(map.Location, "missing-key", "a scenario needs 'start' with at least a role");
        var steps = map.Node("steps") is YSequence seq ? seq.Items.Select(s => ReadStep(s, diagnostics)).OfType<ScenarioStep>().ToList() : [];
        return new Scenario(name, at, role, data, steps, node.Location,
            [.. diagnostics.Items.Skip(before).Where(d => d.Severity == Severity.Error)]);
    }

    private static ScenarioStep? ReadStep(YNode node, DiagnosticBag diagnostics)
    {
        var map = MapView.Of(node, "a step", ["fire", "role", "data", "wait", "expect"], diagnostics);
        if (map is null) return null;
        var fire = map.Text("fire", "a step");
        var wait = map.Text("wait", "a step");
        if (wait is not null && !IsoPeriod.TryParse(wait, out _))
            diagnostics.Error(map.Node("wait")!.Location, "invalid-period", $"'{wait}' is not an ISO 8601 period");
        if (fire is not null && wait is not null)
            diagnostics.Error(map.Location, "step-shape", "a step either fires a trigger or waits, not both");
        if (fire is not null && map.Text("role", "a step") is null)
            diagnostics.Error(map.Location, "missing-key", "a step that fires needs the 'role' acting");
        var expect = map.Node("expect") is { } e ? ReadExpectation(e, diagnostics) : null;
        return new ScenarioStep(fire, map.Text("role", "a step"), Data(map.Node("data"), diagnostics), wait,
            expect ?? new Expectation(null, new Dictionary<string, string>(), null, null, null, null, null, null, new Dictionary<string, int>(), null, null),
            node.Location);
    }

    private static Expectation? ReadExpectation(YNode node, DiagnosticBag diagnostics)
    {
        var map = MapView.Of(node, "an expectation",
            ["state", "tracks", "rejected", "field", "warnings", "deadlines", "fired", "permitted", "counters", "completed", "outcome"], diagnostics);
        if (map is null) return null;
        var rejected = map.Text("rejected", "an expectation");
        string[] kinds = ["forbidden", "not-permitted", "invalid-data", "guard-failed", "version-conflict", "unknown-trigger", "unknown-role"];
        if (rejected is not null && !kinds.Contains(rejected))
            diagnostics.Error(map.Node("rejected")!.Location, "unknown-value", $"rejected is one of: {string.Join(", ", kinds)}");
        IReadOnlyList<string>? List(string key) => map.Names(key, "an expectation")?.Select(s => s.Value).ToList();
        return new Expectation(
            map.Text("state", "an expectation"),
            map.Section("tracks", "an expectation").ToDictionary(e => e.Key.Value, e => (e.Value as YScalar)?.Value ?? ""),
            rejected, map.Text("field", "an expectation"),
            List("warnings"), List("deadlines"), List("fired"), List("permitted"),
            map.Section("counters", "an expectation").ToDictionary(e => e.Key.Value,
                e => int.TryParse((e.Value as YScalar)?.Value, CultureInfo.InvariantCulture, out var n) ? n : -1),
            map.Node("completed") is null ? null : map.Bool("completed", "an expectation", false),
            map.Text("outcome", "an expectation"));
    }

    /// <summary>YAML data as JSON values: plain true/false/numbers/null are typed, quoted scalars stay text.</summary>
    internal static IReadOnlyDictionary<string, JsonElement> Data(YNode? node, DiagnosticBag diagnostics)
    {
        if (node is null) return new Dictionary<string, JsonElement>();
        if (node is not YMapping map)
        {
            diagnostics.Error(node.Location, "wrong-kind", "'data' must be a mapping of field: value");
            return new Dictionary<string, JsonElement>();
        }
        return map.Entries.ToDictionary(e => e.Key.Value, e => ToJson(e.Value));
    }

    public static JsonElement ToJson(YNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer)) Write(node, writer);
        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }

    private static void Write(YNode node, Utf8JsonWriter writer)
    {
        switch (node)
        {
            case YScalar s when s.IsNull: writer.WriteNullValue(); break;
            case YScalar { Plain: true, Value: "true" or "false" } s: writer.WriteBooleanValue(s.Value == "true"); break;
            case YScalar { Plain: true } s when decimal.TryParse(s.Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
                CultureInfo.InvariantCulture, out var number):
                writer.WriteNumberValue(number); break;
            case YScalar s: writer.WriteStringValue(s.Value); break;
            case YSequence seq:
                writer.WriteStartArray();
                foreach (var item in seq.Items) Write(item, writer);
                writer.WriteEndArray();
                break;
            case YMapping map:
                writer.WriteStartObject();
                foreach (var e in map.Entries) { writer.WritePropertyName(e.Key.Value); Write(e.Value, writer); }
                writer.WriteEndObject();
                break;
        }
    }
}
