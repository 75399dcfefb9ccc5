using KbPathways.Domain.Pathways.Yaml;

namespace KbPathways.Domain.Pathways.Loading;

/// <summary>
/// Reads the keys of one YAML mapping against the keys a construct allows, so that a misspelt key is an
/// error at its own line ("unknown key 'tragger' in a transition; expected one of …") instead of being ignored.
/// </summary>
internal sealed class MapView
{
    private readonly YMapping map;
    private readonly DiagnosticBag diagnostics;

    private MapView(YMapping map, DiagnosticBag diagnostics) => (this.map, this.diagnostics) = (map, diagnostics);

    public SourceLocation Location => map.Location;

    public static MapView? Of(YNode node, string what, string[] allowed, DiagnosticBag diagnostics)
    {
        if (node is not YMapping map)
        {
            diagnostics.Error(node.Location, "wrong-kind", $"{what} must be a mapping, not {node.Kind}");
            return null;
        }
        foreach (var entry in map.Entries.Where(e => !allowed.Contains(e.Key.Value)))
            diagnostics.Error(entry.Key.Location, "unknown-key",
                $"unknown key '{entry.Key.Value}' in {what}; expected one of: {string.Join(", ", allowed)}" +
                (entry.Value is YScalar { IsNull: true } ? " (inside { } a comma separates entries: put text with commas in quotes)" : ""));
        return new MapView(map, diagnostics);
    }

    public YNode? Node(string key) => map.Find(key)?.Value;

    public YScalar? Scalar(string key, string what, bool required = false)
    {
        var node = Node(key);
        if (node is null)
        {
            if (required) diagnostics.Error(map.Location, "missing-key", $"{what} needs '{key}'");
            return null;
        }
        if (node is YScalar s && !s.IsNull) return s;
        diagnostics.Error(node.Location, "wrong-kind", $"'{key}' of {what} must be a single value, not {node.Kind}");
        return null;
    }

    public string? Text(string key, string what, bool required = false) => Scalar(key, what, required)?.Value;

    public bool Bool(string key, string what, bool fallback)
    {
        var s = Scalar(key, what);
        if (s is null) return fallback;
        if (s.Value is "true") return true;
        if (s.Value is "false") return false;
        diagnostics.Error(s.Location, "wrong-type", $"'{key}' of {what} must be true or false, not '{s.Value}'");
        return fallback;
    }

    /// <summary>A list of names, written either as a YAML list or as one value.</summary>
    public IReadOnlyList<YScalar>? Names(string key, string what)
    {
        var node = Node(key);
        switch (node)
        {
            case null: return null;
            case YScalar s when s.IsNull: return [];
            case YScalar s: return [s];
            case YSequence seq:
                var result = new List<YScalar>();
                foreach (var item in seq.Items)
                {
                    if (item is YScalar v && !v.IsNull) result.Add(v);
                    else diagnostics.Error(item.Location, "wrong-kind", $"'{key}' of {what} must list names, not {item.Kind}");
                }
                return result;
            default:
                diagnostics.Error(node.Location, "wrong-kind", $"'{key}' of {what} must be a list of names, not {node.Kind}");
                return null;
        }
    }

    /// <summary>The entries of a keyed section such as <c>states:</c> or <c>fields:</c>.</summary>
    public IReadOnlyList<YEntry> Section(string key, string what)
    {
        var node = Node(key);
        switch (node)
        {
            case null: return [];
            case YScalar s when s.IsNull: return [];
            case YMapping m: return m.Entries;
            default:
                diagnostics.Error(node.Location, "wrong-kind", $"'{key}' of {what} must be a mapping of names, not {node.Kind}");
                return [];
        }
    }
}
