using System.Globalization;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Pathways.Yaml;

namespace KbPathways.Domain.Pathways.Loading;

/// <summary>
/// Turns a (merged) YAML tree into a <see cref="PathwayDefinition"/>. Reports every structural problem it meets
/// and keeps going, so one run shows them all; cross-references between states are checked by <see cref="DefinitionValidator"/>.
/// </summary>
internal sealed partial class DefinitionBinder(DiagnosticBag diagnostics)
{
    internal static readonly string[] RootKeys =
        ["id", "version", "title", "description", "roles", "settings", "fields", "instruments", "counters", "states", "anyState", "tracks", "careStatus", "indicatorWindows", "yearlyReview", "start", "steps", "language", "calendar"];

    private readonly Dictionary<string, YScalar> settings = new(StringComparer.Ordinal);
    private readonly List<FieldDefinition> fields = [];
    private readonly List<InstrumentDefinition> instruments = [];
    private readonly List<CounterDefinition> counters = [];
    private readonly Dictionary<string, YEntry> templates = new(StringComparer.Ordinal);
    private readonly Dictionary<int, int> templateEnds = [];
    private int language = 1;

    public (PathwayDefinition Definition, bool Complete)? Bind(YNode root, string? practice, string hash, IReadOnlyList<PathwaySource> sources)
    {
        var map = MapView.Of(root, "a pathway", RootKeys, diagnostics);
        if (map is null) return null;

        var id = map.Scalar("id", "a pathway", required: true);
        if (id is not null && !IsName(id.Value))
            diagnostics.Error(id.Location, "invalid-name", $"pathway id '{id.Value}' may hold only letters, digits, '-' and '_'");
        var version = Integer(map.Scalar("version", "a pathway", required: true), "version") ?? 0;
        // The edition of the language the file is written in: text without it keeps language 1's meaning for good.
        if (map.Scalar("language", "a pathway") is { } edition)
        {
            if (edition.Value is "1" or "2") language = int.Parse(edition.Value);
            else diagnostics.Error(edition.Location, "invalid-value", $"'language' is 1 or 2, not '{edition.Value}'");
        }
        if (version < 1 && map.Node("version") is { } v) diagnostics.Error(v.Location, "out-of-range", "version must be 1 or higher");
        var title = map.Text("title", "a pathway", required: true) ?? id?.Value ?? "";

        foreach (var entry in map.Section("settings", "a pathway"))
        {
            if (entry.Value is YScalar s && !s.IsNull) settings[entry.Key.Value] = s;
            else diagnostics.Error(entry.Value.Location, "wrong-kind", $"setting '{entry.Key.Value}' must be a single value");
        }
        var roles = map.Section("roles", "a pathway").Select(BindRole).OfType<RoleDefinition>().ToList();
        if (roles.Count == 0) diagnostics.Error(map.Location, "missing-key", "a pathway needs at least one role under 'roles'");
        fields.AddRange(map.Section("fields", "a pathway").Select(e => BindField(e, "field", null)).OfType<FieldDefinition>());
        for (var i = 0; i < fields.Count; i++)   // a decision's owner is one of the pathway's roles
            if (fields[i].Type == FieldType.Decisions)
                fields[i] = fields[i] with { Values = [.. roles.Select(r => r.Name)], ValueLabels = roles.ToDictionary(r => r.Name, r => r.Label) };
        instruments.AddRange(map.Section("instruments", "a pathway").Select(BindInstrument).OfType<InstrumentDefinition>());
        counters.AddRange(map.Section("counters", "a pathway").Select(e =>
            new CounterDefinition(e.Key.Value, LabelOf(e.Value) ?? e.Key.Value, e.Key.Location)));
        foreach (var instrument in instruments.Where(i => fields.Any(f => f.Name == i.Name)))
            diagnostics.Error(instrument.Location, "duplicate-id", $"'{instrument.Name}' is both a field and an instrument");

        // Step templates (steps: { name: { … } }), used by steps written { uses: name }.
        var templateEntries = map.Section("steps", "a pathway");
        // Where the steps section ends: the next top-level key (a template's span runs to the next template or there).
        var rootEntries = ((YMapping)root).Entries;
        var stepsAt = rootEntries.ToList().FindIndex(e => e.Key.Value == "steps");
        var sectionEnd = stepsAt >= 0 && stepsAt + 1 < rootEntries.Count ? rootEntries[stepsAt + 1].Key.Location.Line : int.MaxValue;
        for (var i = 0; i < templateEntries.Count; i++)
        {
            var template = templateEntries[i];
            if (template.Value is not YMapping body)
            {
                diagnostics.Error(template.Value.Location, "wrong-kind", $"step template '{template.Key.Value}' must be a mapping of a step's keys");
                continue;
            }
            if (body.Find("uses") is { } nested)
                diagnostics.Error(nested.Key.Location, "wrong-kind", $"step template '{template.Key.Value}' cannot itself use a template");
            templates[template.Key.Value] = template;
            templateEnds[template.Value.Location.Line] = i + 1 < templateEntries.Count ? templateEntries[i + 1].Key.Location.Line : sectionEnd;
        }
        var tracks = new List<TrackDefinition>();
        if (map.Node("states") is null) diagnostics.Error(map.Location, "missing-key", "a pathway needs 'states'");
        tracks.Add(BindTrack(PathwayDefinition.MainTrack, title, map, map.Location));
        foreach (var entry in map.Section("tracks", "a pathway"))
        {
            var track = MapView.Of(entry.Value, $"track '{entry.Key.Value}'", ["label", "states", "anyState", "opensAfter"], diagnostics);
            if (track is null) continue;
            if (entry.Key.Value == PathwayDefinition.MainTrack)
                diagnostics.Error(entry.Key.Location, "duplicate-id", "'main' is the name of the top-level states; choose another track name");
            tracks.Add(BindTrack(entry.Key.Value, track.Text("label", "a track") ?? entry.Key.Value, track, entry.Key.Location)
                with { OpensAfter = track.Scalar("opensAfter", "a track")?.Value });
        }

        var definition = new PathwayDefinition(
            id?.Value ?? "", version, title, map.Text("description", "a pathway"), practice, roles,
            settings.ToDictionary(s => s.Key, s => s.Value.Value), fields, instruments, counters, tracks, hash, sources)
        {
            CareStatus = BindCareStatus(map, tracks),
            IndicatorWindows = BindIndicatorWindows(map),
            YearlyReview = BindYearlyReview(map, tracks),
            StartRequires = BindStart(map),
            Language = language,
            Calendar = BindCalendar(map),
        };
        return (definition, id is not null);
    }

    /// <summary><c>start: { requires: [field, …] }</c>: data a trajectory cannot start without; fields only (instruments are step data).</summary>
    private List<string> BindStart(MapView root)
    {
        if (root.Node("start") is not { } node || MapView.Of(node, "start", ["requires"], diagnostics) is not { } map) return [];
        var names = map.Names("requires", "start") ?? [];
        foreach (var name in names.Where(n => fields.All(f => f.Name != n.Value)))
            diagnostics.Error(name.Location, "unknown-field", instruments.Any(i => i.Name == name.Value)
                ? $"start requires '{name.Value}', an instrument: instruments are recorded in a step, not at the start"
                : $"start requires '{name.Value}', which is not a declared field");
        return [.. names.Select(n => n.Value)];
    }

    /// <summary><c>yearlyReview: { per: field, reviewed: tag, every: period }</c>, its names checked where they are written.</summary>
    private YearlyReviewRule? BindYearlyReview(MapView root, IReadOnlyList<TrackDefinition> tracks)
    {
        if (root.Node("yearlyReview") is not { } node || MapView.Of(node, "yearlyReview", ["per", "reviewed", "every"], diagnostics) is not { } map) return null;
        var per = map.Scalar("per", "yearlyReview", required: true);
        var reviewed = map.Scalar("reviewed", "yearlyReview", required: true);
        var every = Resolve(map.Scalar("every", "yearlyReview", required: true));
        if (per is not null && fields.FirstOrDefault(f => f.Name == per.Value) is not { Type: FieldType.Text or FieldType.Enum })
            diagnostics.Error(per.Location, "unknown-field", $"yearlyReview.per names '{per.Value}', which is not a declared text or enum field");
        if (reviewed is not null && !tracks.SelectMany(t => t.States.SelectMany(s => s.Transitions).Concat(t.AnyState)).Any(t => t.Indicators.Contains(reviewed.Value)))
            diagnostics.Error(reviewed.Location, "unknown-indicator", $"yearlyReview.reviewed is '{reviewed.Value}', but no step carries that indicator");
        IsoPeriod period = default;
        if (every is not null && !IsoPeriod.TryParse(every.Value, out period))
            diagnostics.Error(every.Location, "invalid-period", $"'{every.Value}' is not an ISO 8601 period such as P6W, P3M or P1Y");
        return per is null || reviewed is null || every is null ? null : new YearlyReviewRule(per.Value, reviewed.Value, period, map.Location);
    }

    private Dictionary<string, IsoPeriod> BindIndicatorWindows(MapView map)
    {
        var windows = new Dictionary<string, IsoPeriod>(StringComparer.Ordinal);
        foreach (var entry in map.Section("indicatorWindows", "a pathway"))
        {
            if (Resolve(entry.Value as YScalar) is not { } value || value.IsNull)
                diagnostics.Error(entry.Value.Location, "wrong-kind", $"the window of indicator '{entry.Key.Value}' must be a period such as P6M or $mdoInterval");
            else if (!IsoPeriod.TryParse(value.Value, out var period))
                diagnostics.Error(value.Location, "invalid-period", $"'{value.Value}' is not an ISO 8601 period such as P6W, P3M or P1Y");
            else windows[entry.Key.Value] = period;
        }
        return windows;
    }

    private RoleDefinition? BindRole(YEntry entry)
    {
        if (!IsName(entry.Key.Value))
            diagnostics.Error(entry.Key.Location, "invalid-name", $"role '{entry.Key.Value}' may hold only letters, digits, '-' and '_'");
        return new RoleDefinition(entry.Key.Value, LabelOf(entry.Value) ?? entry.Key.Value, entry.Key.Location);
    }

    /// <summary>Roles and counters may be written as <c>name: Label</c> or <c>name: { label: Label }</c>.</summary>
    private string? LabelOf(YNode node)
    {
        if (node is YScalar s) return s.IsNull ? null : s.Value;
        return MapView.Of(node, "a label", ["label"], diagnostics)?.Text("label", "a label");
    }

    internal static readonly string[] FieldKeys = ["type", "label", "min", "max", "values", "unit", "help", "measure"];
    internal static readonly string[] ItemKeys = ["type", "label", "min", "max", "values", "unit", "help", "dimension", "required", "points"];

    private FieldDefinition? BindField(YEntry entry, string what, MapView? preread)
    {
        var name = entry.Key.Value;
        var map = preread ?? MapView.Of(entry.Value, $"{what} '{name}'", FieldKeys, diagnostics);
        if (map is null) return null;
        var typeNode = map.Scalar("type", $"{what} '{name}'", required: true);
        if (typeNode is null) return null;
        FieldType? type = typeNode.Value switch
        {
            "integer" => FieldType.Integer, "decimal" => FieldType.Decimal, "boolean" => FieldType.Boolean,
            "text" => FieldType.Text, "date" => FieldType.Date, "enum" => FieldType.Enum, "list" => FieldType.List,
            "decisions" when what == "field" => FieldType.Decisions,
            _ => null,
        };
        if (type is null)
        {
            diagnostics.Error(typeNode.Location, "unknown-type",
                $"unknown type '{typeNode.Value}' for {what} '{name}'; expected integer, decimal, boolean, text, date, enum or list"
                + (what == "field" ? ", or decisions" : " (decisions only as a field)"));
            return null;
        }
        // values: a list of names, or a map of name: label (in the order written)
        Dictionary<string, string>? labels = null;
        List<string> values;
        if (map.Node("values") is YMapping labelled)
        {
            labels = [];
            values = [];
            foreach (var option in labelled.Entries)
            {
                values.Add(option.Key.Value);
                if (option.Value is YScalar { IsNull: false } label) labels[option.Key.Value] = label.Value;
                else if (option.Value is not YScalar) diagnostics.Error(option.Value.Location, "wrong-kind", $"the label of value '{option.Key.Value}' of {what} '{name}' must be text");
            }
        }
        else values = map.Names("values", $"{what} '{name}'")?.Select(s => s.Value).ToList() ?? [];
        if (type == FieldType.Decisions && map.Node("values") is { } ownValues)
            diagnostics.Error(ownValues.Location, "wrong-kind", $"{what} '{name}' of type decisions takes no 'values': a decision's owner is one of the pathway's roles");
        if (type is FieldType.Enum or FieldType.List && values.Count == 0)
            diagnostics.Error(typeNode.Location, "missing-key", $"{what} '{name}' of type {typeNode.Value} needs 'values'");
        foreach (var dup in values.GroupBy(v => v).Where(g => g.Count() > 1))
            diagnostics.Error(map.Node("values")!.Location, "duplicate-id", $"value '{dup.Key}' is listed twice in {what} '{name}'");
        var min = Number(map.Scalar("min", what));
        var max = Number(map.Scalar("max", what));
        if ((min ?? max) is not null && type is not (FieldType.Integer or FieldType.Decimal))
            diagnostics.Error(map.Location, "wrong-type", $"min/max apply only to integer and decimal {what}s");
        if (min > max) diagnostics.Error(map.Location, "out-of-range", $"min {min} is above max {max} in {what} '{name}'");
        var measure = preread is null && map.Bool("measure", what, false);
        if (measure && type is not (FieldType.Integer or FieldType.Decimal))
            diagnostics.Error(map.Node("measure")!.Location, "wrong-type", $"'measure' applies only to integer and decimal fields, not to '{name}'");
        return new FieldDefinition(name, map.Text("label", what) ?? name, type.Value, min, max, values, entry.Key.Location, labels,
            map.Text("unit", what), map.Text("help", what)) { Measure = measure };
    }

    private InstrumentDefinition? BindInstrument(YEntry entry)
    {
        var what = $"instrument '{entry.Key.Value}'";
        var map = MapView.Of(entry.Value, what, ["label", "items", "thresholds"], diagnostics);
        if (map is null) return null;
        var items = new List<InstrumentItem>();
        foreach (var itemEntry in map.Section("items", what))
        {
            var itemMap = MapView.Of(itemEntry.Value, $"item '{itemEntry.Key.Value}'", ItemKeys, diagnostics);
            if (itemMap is null || BindField(itemEntry, "item", itemMap) is not { } field) continue;
            items.Add(new InstrumentItem(field, itemMap.Text("dimension", "an item"), itemMap.Bool("required", "an item", true),
                BindScoring(itemMap.Node("points"), field)));
        }
        if (items.Count == 0) diagnostics.Error(map.Location, "missing-key", $"{what} needs at least one item under 'items'");
        var instrument = new InstrumentDefinition(entry.Key.Value, map.Text("label", what) ?? entry.Key.Value, items, [], entry.Key.Location);
        var thresholds = map.Section("thresholds", what).Select(t => BindThreshold(t, instrument)).OfType<ThresholdDefinition>().ToList();
        if (thresholds.Count > 0 && !instrument.IsScored)
            diagnostics.Error(map.Node("thresholds")!.Location, "wrong-type", $"{what} has thresholds but no item gives points");
        return instrument with { Thresholds = thresholds };
    }

    private ItemScoring? BindScoring(YNode? node, FieldDefinition item)
    {
        switch (node)
        {
            case null: return null;
            case YScalar { Value: "value" } when item.Type is FieldType.Integer or FieldType.Decimal:
                return new ItemScoring.Identity();
            case YMapping table when item.Type is FieldType.Enum or FieldType.Boolean:
                var points = new Dictionary<string, decimal>();
                foreach (var e in table.Entries)
                {
                    var allowed = item.Type == FieldType.Boolean ? ["true", "false"] : item.Values;
                    if (!allowed.Contains(e.Key.Value))
                        diagnostics.Error(e.Key.Location, "unknown-value", $"'{e.Key.Value}' is not an answer of item '{item.Name}' ({string.Join(", ", allowed)})");
                    if (Number(e.Value as YScalar ?? Bad(e.Value)) is { } p) points[e.Key.Value] = p;
                }
                return new ItemScoring.Table(points);
            case YSequence bands when item.Type is FieldType.Integer or FieldType.Decimal:
                var ranges = new List<Band>();
                foreach (var b in bands.Items)
                {
                    var band = MapView.Of(b, "a points band", ["min", "max", "points"], diagnostics);
                    if (band is null) continue;
                    var p = Number(band.Scalar("points", "a points band", required: true));
                    if (p is not null) ranges.Add(new Band(Number(band.Scalar("min", "a band")), Number(band.Scalar("max", "a band")), p.Value));
                }
                return new ItemScoring.Bands(ranges);
            default:
                diagnostics.Error(node.Location, "wrong-type", $"points of {FieldDefinition.TypeName(item.Type)} item '{item.Name}' must be " +
                    (item.Type is FieldType.Integer or FieldType.Decimal ? "'value' or a list of {min, max, points} bands" :
                     item.Type is FieldType.Enum or FieldType.Boolean ? "a table of answer: points" : "absent: this type gives no points"));
                return null;
        }
    }

    private ThresholdDefinition? BindThreshold(YEntry entry, InstrumentDefinition instrument)
    {
        var what = $"threshold '{entry.Key.Value}'";
        var map = MapView.Of(entry.Value, what, ["label", "dimension", "atLeast", "atMost"], diagnostics);
        if (map is null) return null;
        var dimension = map.Scalar("dimension", what);
        if (dimension is not null && !instrument.Dimensions.Contains(dimension.Value))
            diagnostics.Error(dimension.Location, "unknown-dimension", $"instrument '{instrument.Name}' has no dimension '{dimension.Value}'");
        if (instrument.Items.Any(i => i.Field.Name == entry.Key.Value) || instrument.Dimensions.Contains(entry.Key.Value))
            diagnostics.Error(entry.Key.Location, "duplicate-id", $"threshold '{entry.Key.Value}' has the name of an item or dimension of '{instrument.Name}'");
        var atLeast = Number(map.Scalar("atLeast", what));
        var atMost = Number(map.Scalar("atMost", what));
        if (atLeast is null && atMost is null) diagnostics.Error(map.Location, "missing-key", $"{what} needs 'atLeast' or 'atMost'");
        return new ThresholdDefinition(entry.Key.Value, map.Text("label", what) ?? entry.Key.Value, dimension?.Value, atLeast, atMost, entry.Key.Location);
    }

    private YScalar? Bad(YNode node)
    {
        diagnostics.Error(node.Location, "wrong-kind", $"expected a single value, not {node.Kind}");
        return null;
    }

    /// <summary>A value written as <c>$name</c> is taken from the pathway's settings, which overlays may override.</summary>
    internal YScalar? Resolve(YScalar? scalar)
    {
        if (scalar is null || !scalar.Plain || !scalar.Value.StartsWith('$')) return scalar;
        var name = scalar.Value[1..];
        if (settings.TryGetValue(name, out var value)) return value; // errors in the value point at the setting (or the overlay that set it)
        diagnostics.Error(scalar.Location, "unknown-setting", $"'{scalar.Value}' refers to no entry under 'settings'");
        return null;
    }

    internal decimal? Number(YScalar? raw)
    {
        var scalar = Resolve(raw);
        if (scalar is null) return null;
        if (decimal.TryParse(scalar.Value, NumberStyles.Number, CultureInfo.InvariantCulture, out var d)) return d;
        diagnostics.Error(scalar.Location, "wrong-type", $"'{scalar.Value}' is not a number");
        return null;
    }

    private int? Integer(YScalar? raw, string what)
    {
        var scalar = Resolve(raw);
        if (scalar is null) return null;
        if (int.TryParse(scalar.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i)) return i;
        diagnostics.Error(scalar.Location, "wrong-type", $"{what} '{scalar.Value}' is not a whole number");
        return null;
    }

    internal static bool IsName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsLetterOrDigit(c) || c is '-' or '_');
}
