using System.Globalization;
using System.Text.Json;
using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Pathways.Engine;

/// <summary>One comparison as it was evaluated: kept in the step's event so the decision can be explained later.</summary>
public sealed record GuardTrace(string Condition, string? Actual, bool Result);

/// <summary>What guards look at: data so far (plus this step's), instrument scores and counters.</summary>
public sealed record GuardContext(
    IReadOnlyDictionary<string, JsonElement> Data,
    IReadOnlyDictionary<string, InstrumentScore> Scores,
    IReadOnlyDictionary<string, int> Counters,
    IReadOnlySet<string> Pending,
    IReadOnlyDictionary<string, string>? Tracks = null,
    IReadOnlyDictionary<string, JsonElement>? StepData = null)
{
    public static readonly IReadOnlySet<string> NothingPending = new HashSet<string>();
}

/// <summary>
/// Evaluates guards in three-valued logic: a comparison on data the step has yet to receive (<see cref="GuardContext.Pending"/>)
/// is unknown rather than false, so "which steps are open now" lists a step whose outcome depends on data still to be entered.
/// Missing data that is not pending makes a comparison false (only <c>present: false</c> holds).
/// </summary>
public sealed class GuardEvaluator(GuardContext context, bool traced = true)
{
    private static readonly IReadOnlyDictionary<string, JsonElement> EmptyData = new Dictionary<string, JsonElement>();

    private readonly List<GuardTrace> traces = [];

    /// <summary>Every comparison evaluated, in order (none when created with <c>traced: false</c>, to only decide).</summary>
    public IReadOnlyList<GuardTrace> Traces => traces;

    public bool? Evaluate(Guard guard) => guard switch
    {
        Guard.All all => Combine(all.Parts, dominant: false),
        Guard.Any any => Combine(any.Parts, dominant: true),
        Guard.Not not => !Evaluate(not.Inner),
        Guard.Compare c => Compare(c),
        Guard.Setting s => Setting(s),
        _ => false,
    };

    private bool Setting(Guard.Setting s)
    {
        if (traced) traces.Add(new GuardTrace(GuardText.Render(s), s.Actual, s.Holds));
        return s.Holds;
    }

    /// <summary>
    /// Three-valued "and" (<paramref name="dominant"/> false) or "or" (true): one dominant part decides, else one
    /// unknown part makes it unknown. Every part is evaluated, so every comparison is in the traces.
    /// </summary>
    private bool? Combine(IReadOnlyList<Guard> parts, bool dominant)
    {
        bool? combined = !dominant;
        foreach (var part in parts)
        {
            var result = Evaluate(part);
            if (combined == dominant || result == dominant) combined = dominant;
            else if (result is null) combined = null;
        }
        return combined;
    }

    public bool Holds(Guard? guard) => guard is null || Evaluate(guard) == true;

    private bool? Compare(Guard.Compare c)
    {
        if (c.Subject.Kind is not (OperandKind.Counter or OperandKind.Track) && c.Subject.Scope != FieldScope.Recorded
            && context.Pending.Contains(c.Subject.Root)) return null;
        var actual = Read(c.Subject);
        var value = c.Values[0] is CounterReference other ? (decimal)context.Counters.GetValueOrDefault(other.Counter) : c.Values[0];
        var result = c.Op switch
        {
            CompareOp.Present => (actual is not null) == (bool)c.Values[0],
            _ when actual is null => false,
            CompareOp.Eq => Equals(actual, value),
            CompareOp.Ne => !Equals(actual, value),
            CompareOp.In => c.Values.Any(v => Equals(actual, v)),
            CompareOp.NotIn => c.Values.All(v => !Equals(actual, v)),
            CompareOp.Contains => ((string[])actual).Contains((string)c.Values[0]),
            _ => Order(c.Op, ((IComparable)actual).CompareTo(value)),
        };
        if (traced) traces.Add(new GuardTrace(GuardText.Render(c), Show(actual), result));
        return result;
    }

    private static bool Order(CompareOp op, int cmp) => op switch
    {
        CompareOp.Lt => cmp < 0, CompareOp.Lte => cmp <= 0, CompareOp.Gt => cmp > 0, _ => cmp >= 0,
    };

    private object? Read(Operand operand)
    {
        var (root, member) = (operand.Root, operand.Member);
        switch (operand.Kind)
        {
            case OperandKind.Counter:
                return (decimal)context.Counters.GetValueOrDefault(operand.Path);
            case OperandKind.Track:
                return context.Tracks?.GetValueOrDefault(operand.Path);
            case OperandKind.Score:
                if (!context.Scores.TryGetValue(root, out var score)) return null;
                return member is null ? score.Total : score.Dimensions.TryGetValue(member, out var d) ? d : null;
            case OperandKind.Threshold:
                return context.Scores.TryGetValue(root, out var s) && s.Thresholds.TryGetValue(member!, out var t) ? t : null;
            default:
                var source = operand.Scope == FieldScope.Step ? context.StepData ?? EmptyData : context.Data;
                if (!source.TryGetValue(root, out var value)) return null;
                if (member is not null && (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(member, out value))) return null;
                return value.ValueKind == JsonValueKind.Null ? null : DataValues.Typed(operand.Type, value);
        }
    }

    private static string? Show(object? value) => value switch
    {
        null => null,
        decimal d => d.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        string[] list => "[" + string.Join(", ", list) + "]",
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    public static string ShowValue(object value) => Show(value) ?? "";

    /// <summary>Every instrument and field name a guard reads, to know which step data it depends on.</summary>
    public static IEnumerable<string> Roots(Guard? guard) => guard switch
    {
        Guard.All a => a.Parts.SelectMany(Roots),
        Guard.Any a => a.Parts.SelectMany(Roots),
        Guard.Not n => Roots(n.Inner),
        Guard.Compare { Subject.Kind: OperandKind.Track } => [],
        Guard.Compare c => [c.Subject.Root],
        _ => [],
    };
}

/// <summary>Guards as people read them, in diagrams, explanations and rejections.</summary>
public static class GuardText
{
    // A definition's guards never change, and a decision renders the same comparisons over and over: render each once.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Guard, string> Rendered = new();

    public static string Render(Guard guard) => Rendered.GetValue(guard, RenderNew);

    private static string RenderNew(Guard guard) => guard switch
    {
        Guard.All a => string.Join(" and ", a.Parts.Select(p => Wrap(p))),
        Guard.Any a => string.Join(" or ", a.Parts.Select(p => Wrap(p))),
        Guard.Not n => "not " + Wrap(n.Inner),
        Guard.Compare c => Compare(c),
        Guard.Setting s => $"setting {s.Name} {(s.Negated ? "!=" : "=")} {s.Value}",
        _ => "?",
    };

    private static string Wrap(Guard g) => g is Guard.Compare or Guard.Setting or Guard.Not ? Render(g) : "(" + Render(g) + ")";

    private static string Compare(Guard.Compare c)
    {
        var values = c.Values.Select(GuardEvaluator.ShowValue).ToList();
        return c.Op switch
        {
            CompareOp.Present => $"{c.Subject} is {((bool)c.Values[0] ? "present" : "absent")}",
            CompareOp.In => $"{c.Subject} in [{string.Join(", ", values)}]",
            CompareOp.NotIn => $"{c.Subject} not in [{string.Join(", ", values)}]",
            CompareOp.Contains => $"{c.Subject} contains {values[0]}",
            CompareOp.Eq when c.Subject.Kind == OperandKind.Threshold && (bool)c.Values[0] => $"{c.Subject} reached",
            _ => $"{c.Subject} {Symbol(c.Op)} {values[0]}",
        };
    }

    private static string Symbol(CompareOp op) => op switch
    {
        CompareOp.Eq => "=", CompareOp.Ne => "≠", CompareOp.Lt => "<", CompareOp.Lte => "≤", CompareOp.Gt => ">", _ => "≥",
    };
}
