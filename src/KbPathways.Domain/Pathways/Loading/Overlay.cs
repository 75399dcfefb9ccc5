using KbPathways.Domain.Pathways.Yaml;

namespace KbPathways.Domain.Pathways.Loading;

/// <summary>
/// A practice overlay is a YAML file with <c>extends: &lt;pathway id&gt;</c> whose other keys override the base
/// pathway's: mappings merge key by key, values and lists replace. It may add entries only where a pathway is a
/// collection of named things — states, steps (under <c>on</c>), deadlines, tracks, fields, options of a field, roles,
/// counters (not settings: a misspelled setting must not pass as a new one) — and remove a step or a deadline with <c>{ remove: true }</c>. Anywhere else a key the base does
/// not have is an error, so a typo in an overlay is never a silently ignored setting. The merged pathway is validated
/// whole (reachability, dead ends …), and what came from the overlay is located in the overlay's file.
/// </summary>
internal static class Overlay
{
    public static readonly string[] OwnKeys = ["extends", "practice"];

    /// <summary>Whether the mapping at <paramref name="path"/> is a collection an overlay may add entries to.</summary>
    private static bool Open(string path)
    {
        var parts = path.Split('.');
        return path switch
        {
            "states" or "tracks" or "fields" or "roles" or "counters" => true,
            _ => parts is [.., "on"] or [.., "deadlines"] or ["tracks", _, "states"] or ["fields", _, "values"],
        };
    }

    /// <summary>Whether <paramref name="key"/> is one a state, step or field may have, added where the base left it out.</summary>
    private static bool Allowed(string path, string key) => path.Split('.') switch
    {
        ["states", _] or ["tracks", _, "states", _] => DefinitionBinder.StateKeys.Contains(key),
        [.., "on", _] => DefinitionBinder.TransitionKeys.Contains(key),
        ["fields", _] => DefinitionBinder.FieldKeys.Contains(key),
        _ => false,
    };

    /// <summary>Whether an entry of the mapping at <paramref name="path"/> may be removed: a step or a deadline.</summary>
    private static bool Removable(string path) => path.Split('.') is [.., "on"] or [.., "deadlines"];

    private static bool IsRemoval(YNode node) => node is YMapping { Entries: [{ Key.Value: "remove", Value: YScalar { Value: "true" } }] };

    public static YMapping Merge(YMapping baseMap, YMapping overlay, DiagnosticBag diagnostics, string path = "")
    {
        var entries = baseMap.Entries.ToList();
        foreach (var change in overlay.Entries.Where(e => path.Length > 0 || !OwnKeys.Contains(e.Key.Value)))
        {
            var index = entries.FindIndex(e => e.Key.Value == change.Key.Value);
            var at = path.Length == 0 ? change.Key.Value : $"{path}.{change.Key.Value}";
            if (IsRemoval(change.Value))
            {
                if (!Removable(path))
                    diagnostics.Error(change.Key.Location, "overlay-remove", $"overlay removes '{at}'; an overlay removes only a step (under 'on') or a deadline");
                else if (index < 0)
                    diagnostics.Error(change.Key.Location, "overlay-unknown-key", $"overlay removes '{at}', which does not exist in the base pathway");
                else entries.RemoveAt(index);
                continue;
            }
            if (index < 0)
            {
                if (Open(path) || Allowed(path, change.Key.Value)) entries.Add(change); // a new state, step, deadline, field, option …: checked with the merged pathway
                else diagnostics.Error(change.Key.Location, "overlay-unknown-key", $"overlay changes '{at}', which does not exist in the base pathway");
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
