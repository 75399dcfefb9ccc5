using System.Text.Json;
using System.Text.Json.Nodes;
using KbPathways.Domain.Pathways.Engine;
using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Trajectories;

/// <summary>An option of an enum or list field: the value sent, and the Dutch label shown.</summary>
public sealed record OptionDescription(string Value, string Label);

/// <summary>How an answer becomes points: <c>value</c> (the answer itself), <c>table</c> (points per answer), or <c>bands</c>.</summary>
public sealed record ScoringDescription(string Kind, IReadOnlyDictionary<string, decimal>? Points, IReadOnlyList<Band>? Bands);

/// <summary>One question of a questionnaire.</summary>
public sealed record ItemDescription(string Name, string Label, string Type, bool Required, decimal? Min, decimal? Max,
    IReadOnlyList<OptionDescription>? Options, string? Dimension, ScoringDescription? Scoring);

public sealed record ThresholdDescription(string Name, string Label, string? Dimension, decimal? AtLeast, decimal? AtMost);

/// <summary>An instrument as a questionnaire: its items, and how a total is scored and judged.</summary>
public sealed record QuestionnaireDescription(string Name, string Label, bool Scored, IReadOnlyList<ItemDescription> Items,
    IReadOnlyList<ThresholdDescription> Thresholds);

/// <summary>
/// A piece of data a step takes: a field (<see cref="Type"/> integer, decimal, boolean, text, date, enum or list, or
/// <c>decisions</c>: a list of { besluit, eigenaar, datum } whose owners are <see cref="Options"/>) or an instrument
/// (<see cref="Type"/> <c>questionnaire</c>, with <see cref="Questionnaire"/>).
/// </summary>
public sealed record FieldDescription(string Name, string Label, string Type, bool Required, decimal? Min, decimal? Max, string? Unit,
    string? Help, int? MaxLength, IReadOnlyList<OptionDescription>? Options, QuestionnaireDescription? Questionnaire);

/// <summary>A warning the step may raise; when it does, the step also needs <see cref="Requires"/>.</summary>
public sealed record WarningDescription(string Code, string Message, IReadOnlyList<string> Requires);

public sealed record TargetDescription(string State, string Label);

/// <summary>
/// A step the caller may take now, described so that any client can build its form: the trigger and its label, the
/// track, where it may lead, the data it takes (and the JSON Schema of that data), the condition in words, and the
/// warnings that would ask for more.
/// </summary>
public sealed record ActionDescription(string Trigger, string Label, string Track, IReadOnlyList<TargetDescription> Targets,
    IReadOnlyList<FieldDescription> Fields, IReadOnlyList<WarningDescription> Warnings, string? Condition, JsonElement Schema);

/// <summary>Describes steps and data for clients: labels, types, options, questionnaires, and a JSON Schema (2020-12).</summary>
public static class StepForms
{
    public const string SchemaDialect = "https://json-schema.org/draft/2020-12/schema";

    /// <summary>The actions <paramref name="roles"/> may take on <paramref name="state"/> now (those of <see cref="TrajectoryDecider.PermittedTriggers"/>).</summary>
    public static IReadOnlyList<ActionDescription> Actions(Trajectory state, PathwayDefinition definition, IReadOnlySet<string> roles) =>
        Actions(state, definition, TrajectoryDecider.PermittedTriggers(state, definition, roles));

    /// <summary>The actions of <paramref name="permitted"/> (triggers already worked out for the caller).</summary>
    public static IReadOnlyList<ActionDescription> Actions(Trajectory state, PathwayDefinition definition, IReadOnlyList<string> permitted)
    {
        var actions = new List<ActionDescription>();
        foreach (var trigger in permitted)
        {
            var track = definition.TrackOf(trigger);
            var current = track?.FindState(state.Tracks[track.Name]);
            if (track is null || current is null || track.TransitionFrom(current, trigger) is not { } transition) continue;
            actions.Add(Describe(definition, track, transition));
        }
        return actions;
    }

    /// <summary>
    /// The description of one step; worked out once per step of a definition (a definition never changes), so a busy
    /// host answers each step with descriptions it already has.
    /// </summary>
    public static ActionDescription Describe(PathwayDefinition definition, TrackDefinition track, TransitionDefinition transition) =>
        Described.GetValue(definition, _ => new(ReferenceEqualityComparer.Instance)).GetOrAdd(transition, _ => new ActionDescription(
            transition.Trigger, transition.Label, track.Name,
            [.. transition.Targets.Select(t => new TargetDescription(t.State, track.FindState(t.State)?.Label ?? t.State))],
            [.. Taken(transition).Select(x => Field(definition, x.Name, x.Required)).OfType<FieldDescription>()],
            [.. transition.Warnings.Select(w => new WarningDescription(w.Code, w.Message, w.Requires))],
            transition.WhenMessage, JsonSerializer.SerializeToElement(Schema(definition, transition))));

    // Per definition (kept beside it, gone with it), per step by reference.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<PathwayDefinition,
        System.Collections.Concurrent.ConcurrentDictionary<object, ActionDescription>> Described = new();

    /// <summary>
    /// What a deadline is called: its own label, else the label of the step it fires (which says what happens when it
    /// passes, e.g. "Werkhypothese nog niet vastgelegd"), else its name.
    /// </summary>
    public static string DeadlineLabel(PathwayDefinition definition, StateDefinition? state, string name)
    {
        var deadline = state?.Deadlines.FirstOrDefault(d => d.Name == name);
        if (deadline is null) return name;
        if (deadline.Label != deadline.Name) return deadline.Label;
        var fired = definition.Tracks.FirstOrDefault(t => t.Name == state!.Track)?.TransitionFrom(state!, deadline.Fires);
        return fired is not null && fired.Label != fired.Trigger ? fired.Label : deadline.Name;
    }

    /// <summary>The data a step takes, required first, each once.</summary>
    private static IEnumerable<(string Name, bool Required)> Taken(TransitionDefinition t) =>
        t.Requires.Select(n => (n, true)).Concat(t.Optional.Concat(t.Warnings.SelectMany(w => w.Requires)).Except(t.Requires).Distinct().Select(n => (n, false)));

    /// <summary>The field or instrument <paramref name="name"/> as a client shows it; null when the pathway has neither.</summary>
    public static FieldDescription? Field(PathwayDefinition definition, string name, bool required)
    {
        if (definition.FindField(name) is { } field)
            return new FieldDescription(field.Name, field.Label, FieldDefinition.TypeName(field.Type), required, field.Min, field.Max, field.Unit,
                field.Help, field.Type == FieldType.Text ? DataValues.MaxTextLength : null, Options(field), null);
        if (definition.FindInstrument(name) is { } instrument)
            return new FieldDescription(instrument.Name, instrument.Label, "questionnaire", required, null, null, null, null, null, null, Questionnaire(instrument));
        return null;
    }

    public static QuestionnaireDescription Questionnaire(InstrumentDefinition instrument) => new(instrument.Name, instrument.Label, instrument.IsScored,
        [.. instrument.Items.Select(i => new ItemDescription(i.Field.Name, i.Field.Label, FieldDefinition.TypeName(i.Field.Type), i.Required,
            i.Field.Min, i.Field.Max, Options(i.Field), i.Dimension, i.Scoring switch
            {
                ItemScoring.Identity => new ScoringDescription("value", null, null),
                ItemScoring.Table table => new ScoringDescription("table", table.Points, null),
                ItemScoring.Bands bands => new ScoringDescription("bands", null, bands.Ranges),
                _ => null,
            }))],
        [.. instrument.Thresholds.Select(t => new ThresholdDescription(t.Name, t.Label, t.Dimension, t.AtLeast, t.AtMost))]);

    private static IReadOnlyList<OptionDescription>? Options(FieldDefinition field) =>
        field.Type is FieldType.Enum or FieldType.List or FieldType.Decisions ? [.. field.Values.Select(v => new OptionDescription(v, field.LabelOf(v)))] : null;

    /// <summary>
    /// The JSON Schema (2020-12) of the step's <c>data</c>: exactly what the decider's data check accepts. Required
    /// fields are required and not null; the others may be left out or null; nothing else is allowed. Fields a warning
    /// may ask for are optional here: whether the warning is raised depends on the step's condition.
    /// </summary>
    public static JsonObject Schema(PathwayDefinition definition, TransitionDefinition transition)
    {
        var properties = new JsonObject();
        foreach (var (name, required) in Taken(transition))
        {
            var schema = definition.FindField(name) is { } field ? FieldSchema(field)
                : definition.FindInstrument(name) is { } instrument ? InstrumentSchema(instrument) : new JsonObject();
            properties[name] = required ? schema : Nullable(schema);
        }
        return new JsonObject
        {
            ["$schema"] = SchemaDialect,
            ["title"] = transition.Label,
            ["type"] = "object",
            ["properties"] = properties,
            ["required"] = new JsonArray([.. transition.Requires.Select(r => (JsonNode)JsonValue.Create(r))]),
            ["additionalProperties"] = false,
        };
    }

    private static JsonObject Nullable(JsonObject schema) => new() { ["anyOf"] = new JsonArray(schema, new JsonObject { ["type"] = "null" }) };

    /// <summary>The bounds of what the decider can hold: a whole number in 64 bits, a number in .NET's decimal.</summary>
    private static readonly (decimal Min, decimal Max) WholeBounds = (long.MinValue, long.MaxValue);
    private static readonly (decimal Min, decimal Max) NumberBounds = (decimal.MinValue, decimal.MaxValue);

    public static JsonObject FieldSchema(FieldDefinition field)
    {
        var schema = new JsonObject { ["title"] = field.Label };
        if (field.Help is not null) schema["description"] = field.Help;
        switch (field.Type)
        {
            case FieldType.Integer or FieldType.Decimal:
                var (min, max) = field.Type == FieldType.Integer ? WholeBounds : NumberBounds;
                schema["type"] = field.Type == FieldType.Integer ? "integer" : "number";
                schema["minimum"] = field.Min ?? min;
                schema["maximum"] = field.Max ?? max;
                break;
            case FieldType.Boolean:
                schema["type"] = "boolean";
                break;
            case FieldType.Text:
                schema["type"] = "string";
                schema["maxLength"] = DataValues.MaxTextLength;
                break;
            case FieldType.Date:
                schema["type"] = "string";
                schema["format"] = "date";
                schema["pattern"] = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
                break;
            case FieldType.Enum:
                schema["oneOf"] = Options(field);
                break;
            case FieldType.List:
                schema["type"] = "array";
                schema["items"] = new JsonObject { ["oneOf"] = Options(field) };
                schema["uniqueItems"] = true;
                break;
            case FieldType.Decisions:
                schema["type"] = "array";
                schema["minItems"] = 1;
                schema["maxItems"] = Decision.MaxCount;
                schema["items"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject
                    {
                        [Decision.Besluit] = new JsonObject { ["title"] = "Besluit", ["type"] = "string", ["minLength"] = 1, ["maxLength"] = DataValues.MaxTextLength },
                        [Decision.Eigenaar] = new JsonObject { ["title"] = "Eigenaar", ["oneOf"] = Options(field) },
                        [Decision.Datum] = new JsonObject { ["title"] = "Uiterlijk", ["type"] = "string", ["format"] = "date", ["pattern"] = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" },
                    },
                    ["required"] = new JsonArray(Decision.Besluit, Decision.Eigenaar, Decision.Datum),
                    ["additionalProperties"] = false,
                };
                break;
        }
        return schema;

        static JsonArray Options(FieldDefinition field) =>
            new([.. field.Values.Select(v => (JsonNode)new JsonObject { ["const"] = v, ["title"] = field.LabelOf(v) })]);
    }

    public static JsonObject InstrumentSchema(InstrumentDefinition instrument)
    {
        var items = new JsonObject();
        foreach (var item in instrument.Items) items[item.Field.Name] = item.Required ? FieldSchema(item.Field) : Nullable(FieldSchema(item.Field));
        return new JsonObject
        {
            ["title"] = instrument.Label,
            ["type"] = "object",
            ["properties"] = items,
            ["required"] = new JsonArray([.. instrument.Items.Where(i => i.Required).Select(i => (JsonNode)JsonValue.Create(i.Field.Name))]),
            ["additionalProperties"] = false,
        };
    }

    /// <summary>
    /// The decider's check of a step's data alone (types, ranges, options, required fields, fields the step does not
    /// take), without its condition or warnings: what <see cref="Schema"/> describes.
    /// </summary>
    public static IReadOnlyList<FieldError> CheckData(PathwayDefinition definition, TransitionDefinition transition, IReadOnlyDictionary<string, JsonElement> data)
    {
        var errors = new List<FieldError>();
        StepData.Check(definition, data, transition.Accepted, transition.Requires, errors);
        return errors;
    }
}
