namespace KbPathways.Domain.Pathways.Model;

public enum FieldType { Integer, Decimal, Boolean, Text, Date, Enum, List, Decisions }

/// <summary>
/// A typed piece of data a step can ask for. <see cref="Values"/> lists the options of enum and list fields, in the
/// pathway's order (for a <c>decisions</c> field: the pathway's roles, who may own a decision); <see cref="ValueLabels"/>
/// holds the Dutch label of each option that has one. <see cref="Unit"/> (e.g.
/// "kg", "weken") and <see cref="Help"/> are shown beside the input.
/// </summary>
public sealed record FieldDefinition(
    string Name,
    string Label,
    FieldType Type,
    decimal? Min,
    decimal? Max,
    IReadOnlyList<string> Values,
    SourceLocation Location,
    IReadOnlyDictionary<string, string>? ValueLabels = null,
    string? Unit = null,
    string? Help = null)
{
    /// <summary>
    /// A number the quality cycle follows over time (<c>measure: true</c>, e.g. BMI-SDS): each step that records it keeps
    /// it like an instrument's score, so the report compares the first and the last.
    /// </summary>
    public bool Measure { get; init; }

    /// <summary>The label of option <paramref name="value"/>, falling back to the value itself.</summary>
    public string LabelOf(string value) => ValueLabels?.GetValueOrDefault(value) ?? value;

    public static string TypeName(FieldType type) => type switch
    {
        FieldType.List => "list",
        _ => type.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// The decisions of an MDO or casusoverleg (a <c>decisions</c> field): each with what was decided (<see cref="Besluit"/>),
/// its owner (<see cref="Eigenaar"/>, a role of the pathway) and the date it is due (<see cref="Datum"/>). The JSON keys
/// are these Dutch names.
/// </summary>
public static class Decision
{
    public const string Besluit = "besluit", Eigenaar = "eigenaar", Datum = "datum";

    /// <summary>At most this many decisions per record.</summary>
    public const int MaxCount = 20;
}

/// <summary>
/// A questionnaire or structured sheet (GFI, CVG, 4D). Its answers are submitted as one object; scored items
/// add up to a total and per-dimension subtotals, and named thresholds turn the total into yes/no outcomes.
/// </summary>
public sealed record InstrumentDefinition(
    string Name,
    string Label,
    IReadOnlyList<InstrumentItem> Items,
    IReadOnlyList<ThresholdDefinition> Thresholds,
    SourceLocation Location)
{
    public bool IsScored => Items.Any(i => i.Scoring is not null);
    public IEnumerable<string> Dimensions => Items.Select(i => i.Dimension).OfType<string>().Distinct();
    public InstrumentItem? FindItem(string name) => Items.FirstOrDefault(i => i.Field.Name == name);
}

public sealed record InstrumentItem(FieldDefinition Field, string? Dimension, bool Required, ItemScoring? Scoring);

/// <summary>How an answer becomes points: the answer itself, a table per answer, or numeric bands.</summary>
public abstract record ItemScoring
{
    public sealed record Identity : ItemScoring;
    public sealed record Table(IReadOnlyDictionary<string, decimal> Points) : ItemScoring;
    public sealed record Bands(IReadOnlyList<Band> Ranges) : ItemScoring;
}

public sealed record Band(decimal? Min, decimal? Max, decimal Points);

/// <summary>Reached when the score (total, or one dimension's subtotal) lies in [AtLeast, AtMost].</summary>
public sealed record ThresholdDefinition(string Name, string Label, string? Dimension, decimal? AtLeast, decimal? AtMost, SourceLocation Location)
{
    public bool IsReachedBy(decimal score) => (AtLeast is null || score >= AtLeast) && (AtMost is null || score <= AtMost);
}
