using System.Globalization;
using System.Text.Json;
using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Pathways.Engine;

public sealed record FieldError(string Field, string Message);

/// <summary>Per instrument: total points, subtotals per dimension, and which named thresholds were reached.</summary>
public sealed record InstrumentScore(
    decimal Total,
    IReadOnlyDictionary<string, decimal> Dimensions,
    IReadOnlyDictionary<string, bool> Thresholds);

/// <summary>
/// Checks submitted values against their field types. Values stay <see cref="JsonElement"/>s (immutable, and what
/// both the HTTP API and the event store speak). Messages never echo the value: it may be personal data.
/// </summary>
public static class DataValues
{
    public const int MaxTextLength = 4000;

    public static bool Check(FieldDefinition field, JsonElement value, string path, List<FieldError> errors)
    {
        string? problem = field.Type switch
        {
            // A whole number, written as 5 or 5.0 (JSON does not tell them apart), that fits in 64 bits.
            FieldType.Integer => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var l) && l == decimal.Truncate(l)
                                 && l is >= long.MinValue and <= long.MaxValue ? Range(field, l) : "must be a whole number",
            FieldType.Decimal => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) ? Range(field, d) : "must be a number",
            FieldType.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "must be true or false",
            FieldType.Text => value.ValueKind != JsonValueKind.String ? "must be text"
                : Characters(value.GetString()!) > MaxTextLength ? $"must be at most {MaxTextLength} characters" : null,
            FieldType.Date => value.ValueKind == JsonValueKind.String && AsDate(value) is not null ? null : "must be a date (yyyy-mm-dd)",
            FieldType.Enum => value.ValueKind == JsonValueKind.String && field.Values.Contains(value.GetString()!)
                ? null : $"must be one of: {string.Join(", ", field.Values)}",
            FieldType.List => value.ValueKind == JsonValueKind.Array &&
                              value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String && field.Values.Contains(v.GetString()!)) &&
                              value.EnumerateArray().Select(v => v.GetString()).Distinct().Count() == value.GetArrayLength()
                ? null : $"must be a list of distinct values from: {string.Join(", ", field.Values)}",
            FieldType.Decisions when value.ValueKind != JsonValueKind.Array || value.GetArrayLength() is 0 or > Decision.MaxCount =>
                $"must be a list of 1 to {Decision.MaxCount} decisions, each {{ {Decision.Besluit}, {Decision.Eigenaar}, {Decision.Datum} }}",
            FieldType.Decisions => null,
            _ => "has an unknown type",
        };
        if (problem is not null) errors.Add(new FieldError(path, problem));
        else if (field.Type == FieldType.Decisions) return CheckDecisions(field, value, path, errors);
        return problem is null;
    }

    /// <summary>Each decision on its own path (<c>besluiten[1].eigenaar</c>); whether all were right.</summary>
    private static bool CheckDecisions(FieldDefinition field, JsonElement value, string path, List<FieldError> errors)
    {
        var before = errors.Count;
        var index = 0;
        foreach (var decision in value.EnumerateArray())
        {
            var at = $"{path}[{index++}]";
            if (decision.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new FieldError(at, $"must be a decision {{ {Decision.Besluit}, {Decision.Eigenaar}, {Decision.Datum} }}"));
                continue;
            }
            foreach (var property in decision.EnumerateObject().Where(p => p.Name is not (Decision.Besluit or Decision.Eigenaar or Decision.Datum)))
                errors.Add(new FieldError($"{at}.{property.Name}", "is not part of a decision"));
            if (!decision.TryGetProperty(Decision.Besluit, out var besluit) || besluit.ValueKind != JsonValueKind.String || besluit.GetString()!.Length == 0)
                errors.Add(new FieldError($"{at}.{Decision.Besluit}", "is required: what was decided"));
            else if (Characters(besluit.GetString()!) > MaxTextLength)
                errors.Add(new FieldError($"{at}.{Decision.Besluit}", $"must be at most {MaxTextLength} characters"));
            if (!decision.TryGetProperty(Decision.Eigenaar, out var owner) || owner.ValueKind != JsonValueKind.String || !field.Values.Contains(owner.GetString()!))
                errors.Add(new FieldError($"{at}.{Decision.Eigenaar}", $"must be one of the roles: {string.Join(", ", field.Values)}"));
            if (!decision.TryGetProperty(Decision.Datum, out var due) || AsDate(due) is null)
                errors.Add(new FieldError($"{at}.{Decision.Datum}", "must be a date (yyyy-mm-dd)"));
        }
        return errors.Count == before;
    }

    /// <summary>The decisions of a valid <c>decisions</c> value: number (1-based), owner and due date, without what was decided.</summary>
    public static IReadOnlyList<(int Number, string Owner, DateOnly Due)> Decisions(JsonElement value) =>
        [.. value.EnumerateArray().Select((d, i) => (i + 1, d.GetProperty(Decision.Eigenaar).GetString()!, AsDate(d.GetProperty(Decision.Datum))!.Value))];

    /// <summary>Characters as people (and JSON Schema's maxLength) count them: Unicode code points, not UTF-16 units.</summary>
    private static int Characters(string text) => text.Length <= MaxTextLength ? text.Length : text.EnumerateRunes().Count();

    private static string? Range(FieldDefinition field, decimal value) =>
        value < field.Min || value > field.Max ? $"must be between {field.Min} and {field.Max}" : null;

    /// <summary>Checks an instrument's answers and scores them; null when an answer is missing or invalid.</summary>
    public static InstrumentScore? CheckInstrument(InstrumentDefinition instrument, JsonElement answers, List<FieldError> errors)
    {
        if (answers.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(instrument.Name, "must be an object with the instrument's answers"));
            return null;
        }
        var before = errors.Count;
        foreach (var property in answers.EnumerateObject().Where(p => instrument.FindItem(p.Name) is null))
            errors.Add(new FieldError($"{instrument.Name}.{property.Name}", $"is not an item of {instrument.Label}"));
        decimal total = 0;
        var dimensions = instrument.Dimensions.ToDictionary(d => d, _ => 0m);
        foreach (var item in instrument.Items)
        {
            var path = $"{instrument.Name}.{item.Field.Name}";
            if (!answers.TryGetProperty(item.Field.Name, out var answer) || answer.ValueKind == JsonValueKind.Null)
            {
                if (item.Required) errors.Add(new FieldError(path, "is required"));
                continue;
            }
            if (!Check(item.Field, answer, path, errors)) continue;
            var points = Points(item.Scoring, answer);
            total += points;
            if (item.Dimension is not null) dimensions[item.Dimension] += points;
        }
        if (errors.Count > before) return null;
        return new InstrumentScore(total, dimensions,
            instrument.Thresholds.ToDictionary(t => t.Name, t => t.IsReachedBy(t.Dimension is null ? total : dimensions[t.Dimension])));
    }

    private static decimal Points(ItemScoring? scoring, JsonElement answer) => scoring switch
    {
        ItemScoring.Identity => answer.GetDecimal(),
        ItemScoring.Table table => table.Points.GetValueOrDefault(Key(answer)),
        ItemScoring.Bands bands => bands.Ranges.FirstOrDefault(b =>
            (b.Min is null || answer.GetDecimal() >= b.Min) && (b.Max is null || answer.GetDecimal() <= b.Max))?.Points ?? 0,
        _ => 0,
    };

    private static string Key(JsonElement answer) => answer.ValueKind switch
    {
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => answer.GetString() ?? "",
    };

    /// <summary>The value as the CLR type guards compare: decimal, bool, string, DateOnly or string[].</summary>
    public static object? Typed(FieldType type, JsonElement value) => type switch
    {
        FieldType.Integer or FieldType.Decimal when value.ValueKind == JsonValueKind.Number => value.GetDecimal(),
        FieldType.Boolean when value.ValueKind is JsonValueKind.True or JsonValueKind.False => value.GetBoolean(),
        FieldType.Date => AsDate(value),
        FieldType.List when value.ValueKind == JsonValueKind.Array => value.EnumerateArray().Select(v => v.GetString() ?? "").ToArray(),
        FieldType.Decisions when value.ValueKind == JsonValueKind.Array => (decimal)value.GetArrayLength(),
        FieldType.Text or FieldType.Enum when value.ValueKind == JsonValueKind.String => value.GetString(),
        _ => null,
    };

    private static DateOnly? AsDate(JsonElement value) =>
        value.ValueKind == JsonValueKind.String &&
        DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
}
