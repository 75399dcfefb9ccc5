using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace KbPathways.Domain.Pathways.Engine;

/// <summary>
/// A step's own values read over the trajectory's values, without merging them: what the guards of a decision see.
/// The trajectory's dictionary is merged once, when the step's event is applied.
/// </summary>
public sealed class Layered<TValue>(IReadOnlyDictionary<string, TValue> top, IReadOnlyDictionary<string, TValue> below)
    : IReadOnlyDictionary<string, TValue>
{
    /// <summary><paramref name="top"/> over <paramref name="below"/>, or <paramref name="below"/> itself when the step brings nothing.</summary>
    public static IReadOnlyDictionary<string, TValue> Over(IReadOnlyDictionary<string, TValue> top, IReadOnlyDictionary<string, TValue> below) =>
        top.Count == 0 ? below : new Layered<TValue>(top, below);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value) =>
        top.TryGetValue(key, out value) || below.TryGetValue(key, out value);

    public TValue this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    public bool ContainsKey(string key) => top.ContainsKey(key) || below.ContainsKey(key);

    public IEnumerable<string> Keys => this.Select(pair => pair.Key);

    public IEnumerable<TValue> Values => this.Select(pair => pair.Value);

    public int Count => top.Count + below.Keys.Count(key => !top.ContainsKey(key));

    public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator() =>
        top.Concat(below.Where(pair => !top.ContainsKey(pair.Key))).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
