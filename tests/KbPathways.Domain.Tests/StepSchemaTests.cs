using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Json.Schema;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Domain.Tests;

/// <summary>
/// The JSON Schema a step publishes and the decider's data check agree: over every step of every shipped pathway,
/// random data (each field left out, null, valid, or wrong in one of the ways a form can get it wrong) is valid under
/// the schema exactly when the decider accepts it, and a rejection names the field that is wrong.
/// </summary>
public class StepSchemaTests
{
    private static readonly EvaluationOptions Strict = new() { RequireFormatValidation = true };
    private static readonly IReadOnlyList<PathwayDefinition> Shipped = ShippedPathwayTests.LoadShipped().Definitions;

    public static TheoryData<string> Pathways => [.. Shipped.Where(d => d.Practice is null).Select(d => d.Id)];

    [Theory]
    [MemberData(nameof(Pathways))]
    public void Given_random_data_for_every_step_Then_the_schema_and_the_decider_agree(string pathway)
    {
        var definition = Shipped.Single(d => d.Id == pathway && d.Practice is null);
        var steps = definition.Tracks.SelectMany(t => t.States.SelectMany(s => s.Transitions).Concat(t.AnyState).Select(x => (Track: t, Step: x)))
            .Where(x => x.Step.Roles is not { Count: 0 }).DistinctBy(x => x.Step.Trigger + "@" + x.Step.Location).ToList();
        steps.ShouldNotBeEmpty();
        var (valid, invalid) = (0, 0);
        foreach (var (track, step) in steps)
        {
            var schema = JsonSchema.FromText(StepForms.Describe(definition, track, step).Schema.GetRawText());
            foreach (var data in DataFor(definition, step).Sample(10, 60))
            {
                var json = JsonSerializer.SerializeToElement(data);
                var byDecider = StepForms.CheckData(definition, step, json.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()));
                var bySchema = schema.Evaluate(json, Strict).IsValid;
                var shown = json.GetRawText();
                bySchema.ShouldBe(byDecider.Count == 0,
                    $"{pathway} '{step.Trigger}': schema says {(bySchema ? "valid" : "invalid")}, decider says [{string.Join("; ", byDecider)}] for {shown[..Math.Min(shown.Length, 400)]}");
                if (bySchema) valid++;
                else
                {
                    invalid++;
                    byDecider.ShouldAllBe(e => data.ContainsKey(Root(e.Field)) || step.Requires.Contains(e.Field));
                }
            }
        }
        valid.ShouldBeGreaterThan(steps.Count); // both sides were exercised
        invalid.ShouldBeGreaterThan(steps.Count);
    }

    [Fact]
    public void Given_a_step_Then_its_action_describes_the_fields_labels_options_and_questionnaires()
    {
        var ouderen = Shipped.Single(d => d.Id == "proactieve-ouderenzorg" && d.Practice is null);
        var track = ouderen.Main;
        var screening = StepForms.Describe(ouderen, track, track.FindState("Op75PlusLijst")!.Transitions.Single(t => t.Trigger == "gescreend"));

        screening.Label.ShouldBe("GFI-screening gedaan");
        screening.Targets.Single().Label.ShouldBe("Gescreend");
        var gfi = screening.Fields.Single();
        (gfi.Name, gfi.Type, gfi.Required).ShouldBe(("gfi", "questionnaire", true));
        gfi.Questionnaire!.Items.Count.ShouldBe(15);
        var somber = gfi.Questionnaire.Items.Single(i => i.Name == "somber");
        somber.Options!.Select(o => (o.Value, o.Label)).ShouldBe([("ja", "Ja"), ("soms", "Soms"), ("nee", "Nee")]);
        somber.Scoring!.Points!["soms"].ShouldBe(1);
        gfi.Questionnaire.Thresholds.Single().AtLeast.ShouldBe(4);
        screening.Schema.GetProperty("properties").GetProperty("gfi").GetProperty("properties").EnumerateObject().Count().ShouldBe(15);
        screening.Schema.GetProperty("required").EnumerateArray().Select(r => r.GetString()).ShouldBe(["gfi"]);

        var solk = Shipped.Single(d => d.Id == "solk" && d.Practice is null);
        var ernst = StepForms.Describe(solk, solk.Main, solk.Main.FindState("Werkhypothese")!.Transitions.Single());
        ernst.Targets.Select(t => t.State).ShouldBe(["Ernstig", "Matig", "Mild"]);
        ernst.Fields.Single(f => f.Name == "beperking").Options!.Select(o => o.Label).ShouldBe(["Licht", "Matig", "Ernstig"]);
        ernst.Fields.Single(f => f.Name == "klachtenclusters").ShouldSatisfyAllConditions(f => f.Min.ShouldBe(1), f => f.Max.ShouldBe(5));
    }

    /// <summary>Per taken field: left out, null, a valid value or an invalid one; sometimes a key the step does not take.</summary>
    private static Gen<Dictionary<string, JsonNode?>> DataFor(PathwayDefinition definition, TransitionDefinition step)
    {
        var names = step.Accepted.OrderBy(n => n, StringComparer.Ordinal).ToList();
        var parts = names.Select(name =>
            from choice in Gen.Frequency((2, Gen.Constant(Choice.Omit)), (1, Gen.Constant(Choice.Null)), (6, Gen.Constant(Choice.Valid)), (2, Gen.Constant(Choice.Invalid)))
            from value in ValueFor(definition, name, choice)
            select (name, choice, value)).ToList();
        var extra = Gen.Frequency((9, Gen.Constant<string?>(null)), (1, Gen.Constant<string?>("bestaatNiet")));
        return from chosen in parts.Count == 0 ? Gen.Constant(new List<(string, Choice, JsonNode?)>()) : Gen.CollectToList(parts)
               from unknown in extra
               select Build(chosen, unknown);

        static Dictionary<string, JsonNode?> Build(IEnumerable<(string Name, Choice Choice, JsonNode? Value)> chosen, string? unknown)
        {
            var data = chosen.Where(c => c.Choice != Choice.Omit).ToDictionary(c => c.Name, c => c.Value);
            if (unknown is not null) data[unknown] = JsonValue.Create(1);
            return data;
        }
    }

    private enum Choice { Omit, Null, Valid, Invalid }

    private static Gen<JsonNode?> ValueFor(PathwayDefinition definition, string name, Choice choice)
    {
        if (choice is Choice.Omit or Choice.Null) return Gen.Constant<JsonNode?>(null);
        if (definition.FindField(name) is { } field) return choice == Choice.Valid ? Valid(field) : Invalid(field);
        var instrument = definition.FindInstrument(name)!;
        if (choice == Choice.Invalid && instrument.Items.Count > 0)
            return Gen.OneOf(Gen.Constant<JsonNode?>(JsonValue.Create("geen object")), Answers(instrument, invalidOne: true));
        return Answers(instrument, invalidOne: false);
    }

    /// <summary>A valid answer to each item (a non-required one sometimes left out); with <paramref name="invalidOne"/>, one answer wrong.</summary>
    private static Gen<JsonNode?> Answers(InstrumentDefinition instrument, bool invalidOne) =>
        from answers in Gen.CollectToList(instrument.Items.Select(item =>
            from leave in Gen.Frequency((8, Gen.Constant(false)), (item.Required ? 0 : 2, Gen.Constant(true)))
            from value in Valid(item.Field)
            select (item.Field.Name, Leave: leave, Value: value)))
        from spoiled in Gen.Choose(0, Math.Max(instrument.Items.Count - 1, 0))
        from bad in Invalid(instrument.Items[spoiled].Field)
        select Sheet(answers, invalidOne ? instrument.Items[spoiled].Field.Name : null, bad);

    private static JsonNode? Sheet(IEnumerable<(string Name, bool Leave, JsonNode? Value)> answers, string? spoiled, JsonNode? bad)
    {
        var sheet = new JsonObject();
        foreach (var (name, leave, value) in answers)
            if (name == spoiled) sheet[name] = bad;
            else if (!leave) sheet[name] = value;
        return sheet;
    }

    private static Gen<JsonNode?> Valid(FieldDefinition field) => field.Type switch
    {
        // A whole number is also valid written as 3.0 (JSON does not tell them apart).
        FieldType.Integer => from i in Gen.Choose((int)Math.Max(field.Min ?? -1000, -1000), (int)Math.Min(field.Max ?? 1000, 1000))
                             from fraction in Gen.Elements(false, true)
                             select (JsonNode?)(fraction ? JsonValue.Create(i + 0.0m) : JsonValue.Create(i)),
        FieldType.Decimal => Gen.Choose(0, 1000).Select(i => (JsonNode?)JsonValue.Create(Math.Clamp(i / 10m, field.Min ?? 0, field.Max ?? 100))),
        FieldType.Boolean => Gen.Elements(true, false).Select(b => (JsonNode?)JsonValue.Create(b)),
        FieldType.Text => Gen.Elements("", "kort", "Een notitie met é, ü en 😊", new string('x', 4000)).Select(t => (JsonNode?)JsonValue.Create(t)),
        FieldType.Date => Gen.Elements("2026-01-31", "2024-02-29", "1950-12-01").Select(t => (JsonNode?)JsonValue.Create(t)),
        FieldType.Enum => Gen.Elements(field.Values.ToArray()).Select(v => (JsonNode?)JsonValue.Create(v)),
        FieldType.Decisions => from count in Gen.Choose(1, 4)
                               from owners in Gen.ArrayOf(Gen.Elements(field.Values.ToArray()), count)
                               from texts in Gen.ArrayOf(Gen.Elements("x", "Buurtteam neemt de schulden op", "é 😊"), count)
                               select (JsonNode?)new JsonArray([.. owners.Zip(texts, (o, t) => (JsonNode?)Decision(t, o, "2026-03-01"))]),
        _ => Gen.SubListOf(field.Values.ToArray()).Select(v => (JsonNode?)new JsonArray([.. v.Select(x => (JsonNode?)JsonValue.Create(x))])),
    };

    /// <summary>The field an error's path starts with: <c>gfi</c> of <c>gfi.zien</c>, <c>besluiten</c> of <c>besluiten[1].eigenaar</c>.</summary>
    private static string Root(string path) => path.Split(['.', '['])[0];

    private static JsonObject Decision(string besluit, string eigenaar, string datum) =>
        new() { ["besluit"] = besluit, ["eigenaar"] = eigenaar, ["datum"] = datum };

    private static Gen<JsonNode?> Invalid(FieldDefinition field)
    {
        var wrongType = field.Type == FieldType.Text || field.Type == FieldType.Date || field.Type == FieldType.Enum
            ? Gen.Elements<JsonNode?>(JsonValue.Create(12), JsonValue.Create(true), new JsonArray())
            : Gen.Elements<JsonNode?>(JsonValue.Create("tekst"), new JsonObject());
        var wrongValue = field.Type switch
        {
            FieldType.Integer => Gen.Elements<JsonNode?>([JsonValue.Create(2.5m), JsonValue.Create(1e30),
                .. field.Max is { } max ? [JsonValue.Create(max + 1)] : Array.Empty<JsonNode?>(),
                .. field.Min is { } min ? [JsonValue.Create(min - 1)] : Array.Empty<JsonNode?>()]),
            FieldType.Decimal => Gen.Elements<JsonNode?>([JsonValue.Create(1e30), .. field.Max is { } max ? [JsonValue.Create(max + 0.5m)] : Array.Empty<JsonNode?>(),
                .. field.Min is { } min ? [JsonValue.Create(min - 0.5m)] : Array.Empty<JsonNode?>()]),
            FieldType.Boolean => Gen.Elements<JsonNode?>(JsonValue.Create("true"), JsonValue.Create(1)),
            FieldType.Text => Gen.Constant<JsonNode?>(JsonValue.Create(new string('y', 4001))),
            FieldType.Date => Gen.Elements<JsonNode?>(JsonValue.Create("2026-02-30"), JsonValue.Create("31-01-2026"), JsonValue.Create("2026-1-5")),
            FieldType.Enum => Gen.Elements<JsonNode?>(JsonValue.Create("bestaatNiet"), JsonValue.Create(field.Values[0].ToUpperInvariant() + "!")),
            FieldType.Decisions => Gen.Elements<JsonNode?>(new JsonArray(), new JsonArray(Decision("", field.Values[0], "2026-03-01")),
                new JsonArray(Decision("x", "bestaatNiet", "2026-03-01")), new JsonArray(Decision("x", field.Values[0], "2026-02-30")),
                new JsonArray(JsonValue.Create("besluit")), new JsonArray(new JsonObject { ["besluit"] = "x", ["eigenaar"] = field.Values[0] }),
                new JsonArray([.. Enumerable.Range(0, 21).Select(_ => (JsonNode?)Decision("x", field.Values[0], "2026-03-01"))])),
            _ => Gen.Elements<JsonNode?>(new JsonArray(JsonValue.Create(field.Values[0]), JsonValue.Create(field.Values[0])),
                new JsonArray(JsonValue.Create("bestaatNiet")), new JsonArray(JsonValue.Create(3))),
        };
        return Gen.OneOf(wrongType, wrongValue);
    }
}
