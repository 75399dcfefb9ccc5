using System.Collections.Concurrent;

namespace KbPathways.Projections;

/// <summary>
/// A bounded cache without bookkeeping per read: entries go into a young generation; when it holds half the capacity it
/// becomes the old one, and the old one is dropped. An entry written again moves to the young generation, so what is in
/// use stays and the rest falls out within two turnovers. Holds at most about <c>capacity</c> entries; a capacity of 0
/// or less keeps nothing. Safe for concurrent use.
/// </summary>
internal sealed class GenerationalCache<TKey, TValue>(int capacity) where TKey : notnull
{
    private readonly Lock turning = new();
    private ConcurrentDictionary<TKey, TValue> young = new(), old = new();
    // Counted here: ConcurrentDictionary.Count takes every one of its locks (up to 1,024 in a large dictionary), and
    // a bulk key load writes thousands of entries. Approximate under races, which a bound does not mind.
    private int youngCount;

    public int Count => young.Count + old.Count;

    public bool TryGetValue(TKey key, out TValue value) => young.TryGetValue(key, out value!) || old.TryGetValue(key, out value!);

    public bool ContainsKey(TKey key) => young.ContainsKey(key) || old.ContainsKey(key);

    public void Set(TKey key, TValue value)
    {
        if (capacity <= 0) return;
        if (young.TryAdd(key, value)) Interlocked.Increment(ref youngCount);
        else young[key] = value;
        old.TryRemove(key, out _);
        if (Volatile.Read(ref youngCount) >= Math.Max(1, capacity / 2))
            lock (turning)
                if (Volatile.Read(ref youngCount) >= Math.Max(1, capacity / 2))
                {
                    (old, young) = (young, new ConcurrentDictionary<TKey, TValue>());
                    Volatile.Write(ref youngCount, 0);
                }
    }

    public bool Remove(TKey key, out TValue value)
    {
        var inYoung = young.TryRemove(key, out var fromYoung);
        if (inYoung) Interlocked.Decrement(ref youngCount);
        var inOld = old.TryRemove(key, out var fromOld);
        value = inYoung ? fromYoung! : fromOld!;
        return inYoung || inOld;
    }

    public IEnumerable<KeyValuePair<TKey, TValue>> Entries => young.Concat(old);

    public void Clear()
    {
        lock (turning)
        {
            young = new ConcurrentDictionary<TKey, TValue>();
            old = new ConcurrentDictionary<TKey, TValue>();
            Volatile.Write(ref youngCount, 0);
        }
    }
}
