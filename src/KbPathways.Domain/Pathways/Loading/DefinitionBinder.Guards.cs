using System.Globalization;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Pathways.Yaml;

namespace KbPathways.Domain.Pathways.Loading;

internal sealed partial class DefinitionBinder
{
    private static readonly string[] SubjectKeys = ["field", "recorded", "score", "threshold", "counter", "track"];
    private static readonly Dictionary<string, CompareOp> Ops = new()
    {
        ["eq"] = CompareOp.Eq, ["ne"] = CompareOp.Ne, ["lt"] = CompareOp.Lt, ["lte"] = CompareOp.Lte,
        ["gt"] = CompareOp.Gt, ["gte"] = CompareOp.Gte, ["in"] = CompareOp.In, ["notIn"] = CompareOp.NotIn,
        ["present"] = CompareOp.Present, ["contains"] = CompareOp.Contains,
    };
    internal static readonly string[] GuardKeys = ["and", "or", "not", "setting", .. SubjectKeys, .. Ops.Keys];

    internal Guard? BindGuard(YNode node)
    {
        var map = MapView.Of(node, "a guard", GuardKeys, diagnostics);
        if (map is null) return null;
        var mapping = (YMapping)node;
        var combinator = mapping.Entries.FirstOrDefault(e => e.Key.Value is "and" or "or" or "not");
        if (combinator is not null)
        {
            if (mapping.Entries.Count > 1)
                diagnostics.Error(node.Location, "guard-shape", $"'{combinator.Key.Value}' must stand alone in its guard");
            if (combinator.Key.Value == "not") return BindGuard(combinator.Value) is { } inner ? new Guard.Not(inner, node.Location) : null;
            if (combinator.Value is not YSequence { Items.Count: > 0 } parts)
            {
                diagnostics.Error(combinator.Value.Location, "guard-shape", $"'{combinator.Key.Value}' takes a non-empty list of guards");
                return null;
            }
            var bound = parts.Items.Select(BindGuard).ToList();
            if (bound.Any(b => b is null)) return null;
            return combinator.Key.Value == "and" ? new Guard.All(bound!, node.Location) : new Guard.Any(bound!, node.Location);
        }
        return BindComparison(mapping);
    }

    private Guard? BindComparison(YMapping node)
    {
        if (node.Entries.FirstOrDefault(e => e.Key.Value == "setting") is { } setting) return BindSetting(node, setting);
        var subjects = node.Entries.Where(e => SubjectKeys.Contains(e.Key.Value)).ToList();
        var ops = node.Entries.Where(e => Ops.ContainsKey(e.Key.Value)).ToList();
        if (subjects.Count != 1)
        {
            diagnostics.Error(node.Location, "guard-shape", "a comparison names exactly one of: field, recorded, score, threshold, counter, track");
            return null;
        }
        var subject = ResolveOperand(subjects[0]);
        if (subject is null) return null;
        if (ops.Count == 0 && subject.Kind == OperandKind.Threshold)
            return new Guard.Compare(subject, CompareOp.Eq, [true], node.Location);
        if (ops.Count != 1)
        {
            diagnostics.Error(node.Location, "guard-shape", $"a comparison needs exactly one operator: {string.Join(", ", Ops.Keys)}");
            return null;
        }
        var op = Ops[ops[0].Key.Value];
        if (!Allowed(op, subject.Type))
        {
            diagnostics.Error(ops[0].Key.Location, "guard-type",
                $"operator '{ops[0].Key.Value}' does not apply to {subject} of type {FieldDefinition.TypeName(subject.Type)}");
            return null;
        }
        var values = BindValues(op, subject, ops[0].Value);
        return values is null ? null : new Guard.Compare(subject, op, values, node.Location);
    }

    /// <summary><c>{ setting: name, eq: value }</c> or <c>ne:</c>: decided now, against the (overlaid) settings.</summary>
    private Guard.Setting? BindSetting(YMapping node, YEntry setting)
    {
        var ops = node.Entries.Where(e => e != setting).ToList();
        if (ops.Count != 1 || ops[0].Key.Value is not ("eq" or "ne") || ops[0].Value is not YScalar { IsNull: false } value)
        {
            diagnostics.Error(node.Location, "guard-shape", "a setting guard is { setting: <name>, eq: <value> } or with 'ne'");
            return null;
        }
        if (setting.Value is not YScalar { IsNull: false } name || !settings.TryGetValue(name.Value, out var actual))
        {
            diagnostics.Error(setting.Value.Location, "unknown-setting", $"guard refers to setting '{(setting.Value as YScalar)?.Value}', which is not declared under 'settings'");
            return null;
        }
        return new Guard.Setting(name.Value, actual.Value, ops[0].Key.Value == "ne", value.Value, node.Location);
    }

    /// <summary>"an" before a vowel (an integer, an enum), "a" otherwise.</summary>
    internal static string Article(string word) => word.Length > 0 && "aeiou".Contains(char.ToLowerInvariant(word[0])) ? "an" : "a";

    private static bool Allowed(CompareOp op, FieldType type) => op switch
    {
        CompareOp.Present => true,
        _ when type == FieldType.Decisions => false,   // decisions are there or not; their contents are not compared
        CompareOp.Contains => type == FieldType.List,
        CompareOp.Lt or CompareOp.Lte or CompareOp.Gt or CompareOp.Gte => type is FieldType.Integer or FieldType.Decimal or FieldType.Date,
        CompareOp.In or CompareOp.NotIn => type is FieldType.Enum or FieldType.Text or FieldType.Integer,
        _ => type != FieldType.List,
    };

    /// <summary><c>recorded:</c> reads what was recorded; <c>field:</c> reads this step's data in language 2, both in language 1.</summary>
    private FieldScope Scope(string key) => key == "recorded" ? FieldScope.Recorded : language >= 2 ? FieldScope.Step : FieldScope.Any;

    private Operand? ResolveOperand(YEntry entry)
    {
        if (entry.Value is not YScalar { IsNull: false } path)
        {
            diagnostics.Error(entry.Value.Location, "guard-shape", $"'{entry.Key.Value}' takes a name");
            return null;
        }
        var parts = path.Value.Split('.');
        var instrument = instruments.FirstOrDefault(i => i.Name == parts[0]);
        Operand? operand = (entry.Key.Value, parts.Length) switch
        {
            ("field" or "recorded", 1) => fields.FirstOrDefault(f => f.Name == parts[0]) is { } f ? new(OperandKind.Field, f.Name, f.Type) { Scope = Scope(entry.Key.Value) } : null,
            ("field" or "recorded", 2) => instrument?.FindItem(parts[1]) is { } item ? new(OperandKind.Field, path.Value, item.Field.Type) { Scope = Scope(entry.Key.Value) } : null,
            ("score", 1) when instrument is { IsScored: true } => new(OperandKind.Score, path.Value, FieldType.Decimal),
            ("score", 2) when instrument is { IsScored: true } && instrument.Dimensions.Contains(parts[1]) =>
                new(OperandKind.Score, path.Value, FieldType.Decimal),
            ("threshold", 2) when instrument?.Thresholds.Any(t => t.Name == parts[1]) == true =>
                new(OperandKind.Threshold, path.Value, FieldType.Boolean),
            ("counter", 1) when counters.Any(c => c.Name == parts[0]) => new(OperandKind.Counter, path.Value, FieldType.Integer),
            // Another track's state: { track: welzijn, in: [Lopend] }; the track and its states are checked with the whole pathway.
            ("track", 1) => new(OperandKind.Track, path.Value, FieldType.Enum),
            _ => null,
        };
        if (operand is null)
            diagnostics.Error(path.Location, "unknown-field", entry.Key.Value switch
            {
                "field" or "recorded" => $"guard refers to '{path.Value}', which is not a declared field or instrument item"
                    + Scenarios.ScenarioRunner.Suggest(path.Value, fields.Select(f => f.Name)),
                "score" => $"guard refers to score '{path.Value}', which is not a scored instrument or one of its dimensions",
                "threshold" => $"guard refers to threshold '{path.Value}'; write <instrument>.<threshold> with a declared threshold",
                _ => $"guard refers to counter '{path.Value}', which is not declared under 'counters'",
            });
        return operand;
    }

    private List<object>? BindValues(CompareOp op, Operand subject, YNode node)
    {
        if (op == CompareOp.Present)
            return Constant(node as YScalar ?? Bad(node), FieldType.Boolean, null, subject) is { } p ? [p] : null;
        IReadOnlyList<YNode> raw;
        if (op is CompareOp.In or CompareOp.NotIn)
        {
            if (node is not YSequence seq || seq.Items.Count == 0)
            {
                diagnostics.Error(node.Location, "guard-type", $"'{(op == CompareOp.In ? "in" : "notIn")}' takes a non-empty list");
                return null;
            }
            raw = seq.Items;
        }
        else raw = [node];
        // A counter compared with another counter: { counter: contacten, gte: { counter: afspraken } }.
        if (subject.Kind == OperandKind.Counter && raw is [YMapping reference])
        {
            var other = reference.Entries is [{ Key.Value: "counter", Value: YScalar { IsNull: false } name }] ? name : null;
            if (other is null || op is CompareOp.In or CompareOp.NotIn)
            {
                diagnostics.Error(reference.Location, "guard-shape", "a counter is compared with a number, a $setting, or { counter: <name> }");
                return null;
            }
            if (counters.All(c => c.Name != other.Value))
            {
                diagnostics.Error(other.Location, "unknown-counter", $"guard refers to counter '{other.Value}', which is not declared under 'counters'");
                return null;
            }
            return [new CounterReference(other.Value)];
        }
        var type = subject.Type == FieldType.List ? FieldType.Enum : subject.Type;
        var allowed = subject.Kind == OperandKind.Field ? FieldOf(subject.Path)?.Values : null;
        var values = raw.Select(r => Constant(r as YScalar ?? Bad(r), type, allowed, subject)).ToList();
        return values.Any(v => v is null) ? null : values.OfType<object>().ToList();
    }

    private FieldDefinition? FieldOf(string path)
    {
        var parts = path.Split('.');
        return parts.Length == 1 ? fields.FirstOrDefault(f => f.Name == path)
            : instruments.FirstOrDefault(i => i.Name == parts[0])?.FindItem(parts[1])?.Field;
    }

    private object? Constant(YScalar? raw, FieldType type, IReadOnlyList<string>? allowed, Operand subject)
    {
        var scalar = Resolve(raw);
        if (scalar is null) return null;
        var v = scalar.Value;
        object? value = type switch
        {
            FieldType.Integer when long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => (decimal)l,
            FieldType.Decimal when decimal.TryParse(v, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) => d,
            FieldType.Boolean when v is "true" or "false" => v == "true",
            FieldType.Date when DateOnly.TryParseExact(v, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) => date,
            FieldType.Text => v,
            FieldType.Enum when allowed is null || allowed.Contains(v) => v,
            _ => null,
        };
        if (value is null)
            diagnostics.Error(scalar.Location, "guard-type", type == FieldType.Enum
                ? $"'{v}' is not a value of {subject} ({string.Join(", ", allowed ?? [])})"
                : $"'{v}' is not {Article(FieldDefinition.TypeName(type))} {FieldDefinition.TypeName(type)}, which {subject} is compared with");
        return value;
    }
}
