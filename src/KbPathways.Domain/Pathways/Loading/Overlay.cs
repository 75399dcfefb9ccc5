using KbPathways.Domain.Pathways.Yaml;

namespace KbPathways.Domain.Pathways.Loading;

/// <summary>
/// A practice overlay is a YAML file with <c>extends: &lt;pathway id&gt;</c> whose other keys override the base
/// pathway's: mappings merge key by key, values and lists replace. It can change what exists, never add to it,
/// so a typo in an overlay is an error instead of a silently ignored setting.
/// </summary>
internal static class Overlay
{
    public static readonly string[] OwnKeys = ["extends", "practice"];

    public static YMapping Merge(YMapping baseMap, YMapping overlay, DiagnosticBag diagnostics, string path = "")
    {
        var entries = baseMap.Entries.ToList();
        foreach (var change in overlay.Entries.Where(e => path.Length > 0 || !OwnKeys.Contains(e.Key.Value)))
        {
            var index = entries.FindIndex(e => e.Key.Value == change.Key.Value);
            var at = path.Length == 0 ? change.Key.Value : $"{path}.{change.Key.Value}";
            if (index < 0)
            {
                diagnostics.Error(change.Key.Location, "overlay-unknown-key", $"overlay changes '{at}', which does not exist in the base pathway");
                continue;
            }
            var merged = (entries[index].Value, change.Value) switch
            {
                (YMapping b, YMapping o) => Merge(b, o, diagnostics, at),
                _ => change.Value,
            };
            entries[index] = entries[index] with { Value = merged };
        }
        return baseMap with { Entries = entries };
    }
}
