namespace KbPathways.Domain.Pathways.Model;

/// <summary>A declarative condition over a trajectory's data, instrument scores and counters. No code in YAML.</summary>
public abstract record Guard(SourceLocation Location)
{
    public sealed record All(IReadOnlyList<Guard> Parts, SourceLocation At) : Guard(At);
    public sealed record Any(IReadOnlyList<Guard> Parts, SourceLocation At) : Guard(At);
    public sealed record Not(Guard Inner, SourceLocation At) : Guard(At);
    public sealed record Compare(Operand Subject, CompareOp Op, IReadOnlyList<object> Values, SourceLocation At) : Guard(At);

    /// <summary>
    /// A comparison of one of the pathway's settings (<c>{ setting: name, eq: value }</c>): settings are fixed per
    /// definition (a practice overlay sets its own), so the outcome is known when the definition is read.
    /// </summary>
    public sealed record Setting(string Name, string Actual, bool Negated, string Value, SourceLocation At) : Guard(At)
    {
        public bool Holds => string.Equals(Actual, Value, StringComparison.Ordinal) != Negated;
    }
}

/// <summary>A comparison's value that is another counter, read when the guard is evaluated.</summary>
public sealed record CounterReference(string Counter)
{
    public override string ToString() => $"counter({Counter})";
}

public enum CompareOp { Eq, Ne, Lt, Lte, Gt, Gte, In, NotIn, Present, Contains }

public enum OperandKind { Field, Score, Threshold, Counter, Track }

public enum FieldScope { Any, Step, Recorded }

/// <summary>
/// What a comparison looks at: a field (or an instrument item, <c>gfi.boodschappen</c>), an instrument score
/// (<c>gfi</c> or a dimension <c>gfi.lichamelijk</c>), a threshold outcome (<c>gfi.kwetsbaar</c>) or a counter.
/// </summary>
public sealed record Operand(OperandKind Kind, string Path, FieldType Type)
{
    /// <summary>
    /// Which data a field comparison reads (issue 23 item 2): <see cref="FieldScope.Any"/> this step's data over everything
    /// recorded before (language 1, today's meaning), <see cref="FieldScope.Step"/> this step's data only (<c>field:</c> in
    /// language 2), <see cref="FieldScope.Recorded"/> what was recorded up to and with this step (<c>recorded:</c>).
    /// </summary>
    public FieldScope Scope { get; init; }

    /// <summary>The field, instrument or counter the path starts with (<c>gfi</c> of <c>gfi.lichamelijk</c>).</summary>
    public string Root { get; } = Path.Split('.')[0];

    /// <summary>The part after the dot (<c>lichamelijk</c> of <c>gfi.lichamelijk</c>), or null.</summary>
    public string? Member { get; } = Path.IndexOf('.') is var dot and >= 0 ? Path[(dot + 1)..] : null;

    public override string ToString() => Kind switch
    {
        OperandKind.Score => $"score({Path})",
        OperandKind.Threshold => $"threshold({Path})",
        OperandKind.Counter => $"counter({Path})",
        OperandKind.Track => $"track({Path})",
        OperandKind.Field when Scope == FieldScope.Recorded => $"recorded({Path})",
        _ => Path,
    };
}
