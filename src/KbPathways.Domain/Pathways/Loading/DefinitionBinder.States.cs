using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Pathways.Yaml;

namespace KbPathways.Domain.Pathways.Loading;

internal sealed partial class DefinitionBinder
{
    internal static readonly string[] StateKeys =
        ["label", "description", "initial", "final", "inZorg", "owner", "outcome", "waits", "deadlines", "on", "indicators", "resets"];
    internal static readonly string[] TransitionKeys =
        ["label", "to", "roles", "requires", "optional", "when", "because", "increments", "restartsDeadlines", "warnings", "indicators", "kbMark", "resets", "assign", "uses", "enters"];

    private TrackDefinition BindTrack(string name, string label, MapView map, SourceLocation at)
    {
        var states = new List<StateDefinition>();
        foreach (var entry in map.Section("states", $"track '{name}'"))
        {
            if (StateKeys.Contains(entry.Key.Value) && entry.Value is not YMapping)
            {
                diagnostics.Error(entry.Key.Location, "key-depth",
                    $"'{entry.Key.Value}' is a key of a state, not a state: indent it under the state it belongs to (one level deeper)");
                continue;
            }
            if (!IsName(entry.Key.Value))
                diagnostics.Error(entry.Key.Location, "invalid-name", $"state '{entry.Key.Value}' may hold only letters, digits, '-' and '_'");
            if (BindState(entry, name) is { } state) states.Add(state);
        }
        var anyState = new List<TransitionDefinition>();
        if (map.Node("anyState") is { } anyNode && MapView.Of(anyNode, "anyState", ["on"], diagnostics) is { } any)
            anyState.AddRange(BindTransitions(any.Section("on", "anyState")));
        return new TrackDefinition(name, label, states, anyState, at);
    }

    private StateDefinition? BindState(YEntry entry, string track)
    {
        var what = $"state '{entry.Key.Value}'";
        var map = MapView.Of(entry.Value, what, StateKeys, diagnostics);
        if (map is null) return null;
        var final = map.Bool("final", what, false);
        var deadlines = map.Section("deadlines", what).Select(BindDeadline).OfType<DeadlineDefinition>().ToList();
        if (map.Node("inZorg") is { } inZorg)
            diagnostics.Warning(inZorg.Location, "obsolete-key",
                $"'inZorg' of {what} no longer counts for anything: who is in zorg follows the pathway's 'careStatus' (seed 000); remove it");
        return new StateDefinition(
            entry.Key.Value, track, map.Text("label", what) ?? entry.Key.Value, map.Text("description", what),
            map.Bool("initial", what, false), final,
            map.Scalar("owner", what)?.Value, map.Text("outcome", what), map.Bool("waits", what, !final),
            deadlines, BindTransitions(map.Section("on", what)), Indicators(map, what), entry.Key.Location) { Resets = Counters(map, what) };
    }

    private DeadlineDefinition? BindDeadline(YEntry entry)
    {
        var what = $"deadline '{entry.Key.Value}'";
        var map = MapView.Of(entry.Value, what, ["label", "after", "fires", "repeat", "at", "workingDays", "on"], diagnostics);
        if (map is null) return null;
        var after = Resolve(map.Scalar("after", what, required: true));
        var fires = map.Scalar("fires", what, required: true);
        IsoPeriod period = default;
        if (after is not null && !IsoPeriod.TryParse(after.Value, out period))
            diagnostics.Error(after.Location, "invalid-period", $"'{after.Value}' is not an ISO 8601 period such as P6W, P3M or P1Y");
        if (after is null || fires is null) return null;
        TimeOnly? at = null;
        if (map.Scalar("at", what) is { } time)
        {
            if (TimeOnly.TryParseExact(time.Value, "HH:mm", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var t)) at = t;
            else diagnostics.Error(time.Location, "invalid-value", $"'at' of {what} is a time of day such as \"09:00\", not '{time.Value}'");
        }
        var on = new List<DayOfWeek>();
        foreach (var day in map.Names("on", what) ?? [])
        {
            if (Weekdays.TryGetValue(day.Value, out var d)) on.Add(d);
            else diagnostics.Error(day.Location, "invalid-value", $"'{day.Value}' is not a weekday: ma, di, wo, do, vr, za or zo");
        }
        return new DeadlineDefinition(entry.Key.Value, map.Text("label", what) ?? entry.Key.Value, period, fires.Value,
            map.Bool("repeat", what, false), entry.Key.Location) { At = at, WorkingDays = map.Bool("workingDays", what, false), On = on };
    }

    private static readonly Dictionary<string, DayOfWeek> Weekdays = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ma"] = DayOfWeek.Monday, ["di"] = DayOfWeek.Tuesday, ["wo"] = DayOfWeek.Wednesday, ["do"] = DayOfWeek.Thursday,
        ["vr"] = DayOfWeek.Friday, ["za"] = DayOfWeek.Saturday, ["zo"] = DayOfWeek.Sunday,
    };

    /// <summary><c>calendar: { timeZone: Europe/Amsterdam, holidays: [2026-12-25, …] }</c>.</summary>
    private CalendarRule? BindCalendar(MapView root)
    {
        if (root.Node("calendar") is not { } node || MapView.Of(node, "calendar", ["timeZone", "holidays"], diagnostics) is not { } map) return null;
        var zone = map.Scalar("timeZone", "calendar", required: true);
        if (zone is not null && !Engine.DeadlineCalendar.Known(zone.Value))
            diagnostics.Error(zone.Location, "invalid-value", $"'{zone.Value}' is not a time zone (e.g. Europe/Amsterdam)");
        var holidays = new HashSet<DateOnly>();
        foreach (var day in map.Names("holidays", "calendar") ?? [])
        {
            if (DateOnly.TryParseExact(day.Value, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var date)) holidays.Add(date);
            else diagnostics.Error(day.Location, "invalid-value", $"holiday '{day.Value}' is not a date (yyyy-mm-dd)");
        }
        return zone is null ? null : new CalendarRule(zone.Value, holidays, map.Location);
    }

    private List<TransitionDefinition> BindTransitions(IReadOnlyList<YEntry> entries)
    {
        var result = new List<TransitionDefinition>();
        foreach (var entry in entries)
        {
            var what = $"transition '{entry.Key.Value}'";
            if (TransitionKeys.Contains(entry.Key.Value) && entry.Key.Value != "label")
            {
                diagnostics.Error(entry.Key.Location, "key-depth",
                    $"'{entry.Key.Value}' is a key of a step, not a step: indent it under the step it belongs to (one level deeper)");
                continue;
            }
            if (!IsName(entry.Key.Value))
                diagnostics.Error(entry.Key.Location, "invalid-name", $"trigger '{entry.Key.Value}' may hold only letters, digits, '-' and '_'");
            var before = diagnostics.Items.Count;
            var (node, template) = Expand(entry);
            var map = MapView.Of(node, what, TransitionKeys, diagnostics);
            if (map is null) continue;
            var warnings = new List<WarningRule>();
            if (map.Node("warnings") is { } wnode)
            {
                if (wnode is YSequence seq) warnings.AddRange(seq.Items.Select(BindWarning).OfType<WarningRule>());
                else diagnostics.Error(wnode.Location, "wrong-kind", $"'warnings' of {what} must be a list");
            }
            result.Add(new TransitionDefinition(
                entry.Key.Value, map.Text("label", what) ?? entry.Key.Value, BindTargets(map.Node("to")),
                map.Names("roles", what)?.Select(s => s.Value).ToList(),
                Names(map, "requires", what), Names(map, "optional", what),
                map.Node("when") is { } when ? BindGuard(when) : null, map.Text("because", what),
                Names(map, "increments", what), Names(map, "restartsDeadlines", what), warnings, Indicators(map, what), entry.Key.Location)
            {
                KbMark = KbMarkOf(map.Scalar("kbMark", what)),
                Resets = Counters(map, what),
                Assign = map.Scalar("assign", what) switch
                {
                    null => AssignAction.None,
                    { Value: "self" } => AssignAction.Self,
                    { Value: "release" } => AssignAction.Release,
                    var other => Invalid(other, "'assign' is 'self' (the person taking the step) or 'release'"),
                },
                Template = template is null ? null : (template.Key.Value, template.Key.Location),
                Enters = map.Node("enters") is { } enters && MapView.Of(enters, "'enters'", ["track", "state"], diagnostics) is { } target
                    && target.Scalar("track", "'enters'", required: true) is { } t && target.Scalar("state", "'enters'", required: true) is { } st
                    ? (t.Value, st.Value, enters.Location) : null,
            });
            if (template is not null) diagnostics.Annotate(before, d => Within(d.Location, template.Value.Location),
                $" (in step template '{template.Key.Value}', used by '{entry.Key.Value}' at {entry.Key.Location.Line}:{entry.Key.Location.Column})");
        }
        return result;
    }

    /// <summary>
    /// A step written <c>{ uses: template, … }</c> takes the keys of the pathway's step template of that name, its own
    /// keys winning; what came from the template keeps the template's place in the file.
    /// </summary>
    private (YNode Node, YEntry? Template) Expand(YEntry entry)
    {
        if (entry.Value is not YMapping use || use.Find("uses") is not { } uses) return (entry.Value, null);
        if (uses.Value is not YScalar { IsNull: false } name || !templates.TryGetValue(name.Value, out var template))
        {
            diagnostics.Error(uses.Value.Location, "unknown-template", $"step '{entry.Key.Value}' uses '{(uses.Value as YScalar)?.Value}', which is not under 'steps'"
                + Scenarios.ScenarioRunner.Suggest((uses.Value as YScalar)?.Value ?? "", templates.Keys));
            return (use with { Entries = [.. use.Entries.Where(e => e.Key.Value != "uses")] }, null);
        }
        var own = use.Entries.Where(e => e.Key.Value != "uses").ToList();
        var merged = ((YMapping)template.Value).Entries.Where(t => own.All(o => o.Key.Value != t.Key.Value)).Concat(own).ToList();
        return (use with { Entries = merged }, template);
    }

    /// <summary>Whether <paramref name="at"/> lies in the node <paramref name="node"/> starts (same file, on or after its line, before the next top-level key).</summary>
    private bool Within(SourceLocation at, SourceLocation node) =>
        at.File == node.File && at.Line >= node.Line && at.Line < (templateEnds.GetValueOrDefault(node.Line, int.MaxValue));

    private AssignAction Invalid(YScalar value, string rule)
    {
        diagnostics.Error(value.Location, "invalid-value", $"{rule}, not '{value.Value}'");
        return AssignAction.None;
    }

    private KbMarkAction KbMarkOf(YScalar? value)
    {
        switch (value?.Value)
        {
            case null: return KbMarkAction.None;
            case "place": return KbMarkAction.Place;
            case "remove": return KbMarkAction.Remove;
            default:
                diagnostics.Error(value.Location, "invalid-value", $"'kbMark' is 'place' or 'remove', not '{value.Value}'");
                return KbMarkAction.None;
        }
    }

    /// <summary>
    /// The pathway's <c>careStatus:</c> (seed 000's in beeld / in zorg), or null when it has none. Its names are checked
    /// here, against the bound fields, main-track states and indicator tags, so each error points at the name itself.
    /// </summary>
    private CareStatusRule? BindCareStatus(MapView root, IReadOnlyList<TrackDefinition> tracks)
    {
        if (root.Node("careStatus") is not { } node || MapView.Of(node, "careStatus", ["inBeeld", "inZorg"], diagnostics) is not { } map) return null;
        var inBeeld = map.Node("inBeeld") is { } b ? MapView.Of(b, "careStatus.inBeeld", ["recorded"], diagnostics) : null;
        var inZorg = map.Node("inZorg") is { } z ? MapView.Of(z, "careStatus.inZorg", ["marked", "states", "contact", "within"], diagnostics) : null;
        if (inBeeld is null || inZorg is null)
        {
            diagnostics.Error(map.Location, "missing-key", "'careStatus' needs both 'inBeeld' and 'inZorg'");
            return null;
        }
        var recorded = inBeeld.Names("recorded", "careStatus.inBeeld");
        if (recorded is null) diagnostics.Error(inBeeld.Location, "missing-key", "'careStatus.inBeeld' needs 'recorded': the fields that must have been recorded");
        foreach (var name in recorded ?? [])
            if (fields.All(f => f.Name != name.Value) && instruments.All(i => i.Name != name.Value))
                diagnostics.Error(name.Location, "unknown-field", $"careStatus.inBeeld names '{name.Value}', which is not a declared field or instrument");
        var states = inZorg.Names("states", "careStatus.inZorg");
        if (states is null) diagnostics.Error(inZorg.Location, "missing-key", "'careStatus.inZorg' needs 'states': the states in which the POH-Kb is in active contact");
        foreach (var name in states ?? [])
            if (tracks[0].FindState(name.Value) is null)
                diagnostics.Error(name.Location, "unknown-state", $"careStatus.inZorg names '{name.Value}', which is not a state of the main track");
        var contact = inZorg.Names("contact", "careStatus.inZorg");
        if (contact is null) diagnostics.Error(inZorg.Location, "missing-key", "'careStatus.inZorg' needs 'contact': the indicator tags of the steps that count as contact");
        var tags = tracks.SelectMany(t => t.States.SelectMany(s => s.Transitions).Concat(t.AnyState)).SelectMany(t => t.Indicators).ToHashSet();
        foreach (var tag in (contact ?? []).Where(t => !tags.Contains(t.Value)))
            diagnostics.Error(tag.Location, "unknown-indicator", $"careStatus.inZorg counts contact tagged '{tag.Value}', but no step carries that indicator");
        var within = Resolve(inZorg.Scalar("within", "careStatus.inZorg", required: true));
        IsoPeriod period = default;
        if (within is not null && !IsoPeriod.TryParse(within.Value, out period))
            diagnostics.Error(within.Location, "invalid-period", $"'{within.Value}' is not an ISO 8601 period such as P6W, P3M or P1Y");
        return new CareStatusRule([.. (recorded ?? []).Select(n => n.Value)], inZorg.Bool("marked", "careStatus.inZorg", true),
            [.. (states ?? []).Select(n => n.Value)], [.. (contact ?? []).Select(n => n.Value)], period, map.Location);
    }

    /// <summary>The counters named under <c>resets:</c>, each checked where it is written.</summary>
    private List<string> Counters(MapView map, string what)
    {
        var names = map.Names("resets", what) ?? [];
        foreach (var name in names.Where(n => counters.All(c => c.Name != n.Value)))
            diagnostics.Error(name.Location, "unknown-counter", $"{what} resets '{name.Value}', which is not declared under 'counters'"
                + Scenarios.ScenarioRunner.Suggest(name.Value, counters.Select(c => c.Name)));
        return [.. names.Select(n => n.Value)];
    }

    private static List<string> Names(MapView map, string key, string what) =>
        map.Names(key, what)?.Select(s => s.Value).ToList() ?? [];

    /// <summary>
    /// Quality-indicator tags (domain brief §7): a lower-case name, optionally with one '/'-qualifier such as
    /// <c>verwijzing/buurtteam</c> or <c>escalatie/3</c>. A step records its transition's tags, so the quality report
    /// counts what the pathway said at the time.
    /// </summary>
    private List<string> Indicators(MapView map, string what)
    {
        var names = map.Names("indicators", what) ?? [];
        foreach (var name in names.Where(n => !IndicatorPattern().IsMatch(n.Value)))
            diagnostics.Error(name.Location, "invalid-indicator",
                $"indicator '{name.Value}' must be lower-case letters, digits and '-', with at most one '/' qualifier (e.g. verwijzing/buurtteam)");
        return [.. names.Select(n => n.Value)];
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)?$")]
    private static partial System.Text.RegularExpressions.Regex IndicatorPattern();

    private List<TargetOption> BindTargets(YNode? node)
    {
        switch (node)
        {
            case null: return [];
            case YScalar s when !s.IsNull: return [new TargetOption(s.Value, null, s.Location)];
            case YSequence seq:
                var options = new List<TargetOption>();
                foreach (var item in seq.Items)
                {
                    var map = MapView.Of(item, "a conditional target", ["state", "when"], diagnostics);
                    var state = map?.Scalar("state", "a conditional target", required: true);
                    if (map is null || state is null) continue;
                    options.Add(new TargetOption(state.Value, map.Node("when") is { } w ? BindGuard(w) : null, item.Location) { WhenWritten = map.Node("when") is not null });
                }
                return options;
            default:
                diagnostics.Error(node.Location, "wrong-kind", "'to' must be a state name or a list of {state, when}");
                return [];
        }
    }

    private WarningRule? BindWarning(YNode node)
    {
        var map = MapView.Of(node, "a warning", ["code", "when", "message", "requires"], diagnostics);
        if (map is null) return null;
        var code = map.Text("code", "a warning", required: true);
        var message = map.Text("message", "a warning", required: true);
        var when = map.Node("when") is { } w ? BindGuard(w) : null;
        if (map.Node("when") is null) diagnostics.Error(map.Location, "missing-key", "a warning needs 'when'");
        if (code is null || message is null || when is null) return null;
        return new WarningRule(code, message, when, Names(map, "requires", "a warning"), map.Location);
    }
}
