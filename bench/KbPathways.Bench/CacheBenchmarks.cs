using BenchmarkDotNet.Attributes;
using BitFaster.Caching.Lru;
using KbPathways.Projections;

namespace KbPathways.Bench;

/// <summary>
/// GenerationalCache (ours: the key ring's and the trajectory states' caches) against BitFaster.Caching's ConcurrentLru,
/// as the host uses them: a read of a present key (every step), a write of a new key past the capacity (a bulk key load,
/// a busy host's new trajectories), and 8 threads reading and writing at once (90 % reads, a working set twice the
/// capacity). <c>-- --caches</c> runs only these.
/// </summary>
[MemoryDiagnoser]
public class CacheBenchmarks
{
    private const int Operations = 10_000;

    [Params(1_024, 100_000)]
    public int Capacity { get; set; }

    private GenerationalCache<Guid, object> generational = null!;
    private ConcurrentLru<Guid, object> lru = null!;
    private Guid[] present = [];
    private Guid[] fresh = [];
    private Guid[] working = [];
    private static readonly object Value = new();

    [GlobalSetup]
    public void Setup()
    {
        generational = new GenerationalCache<Guid, object>(Capacity);
        lru = new ConcurrentLru<Guid, object>(Capacity);
        present = [.. Enumerable.Range(0, Math.Min(Capacity / 4, Operations)).Select(_ => Guid.NewGuid())];
        foreach (var key in present) { generational.Set(key, Value); lru.AddOrUpdate(key, Value); }
        fresh = [.. Enumerable.Range(0, Operations).Select(_ => Guid.NewGuid())];
        working = [.. Enumerable.Range(0, Capacity * 2).Select(_ => Guid.NewGuid())];
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public int Generational_read_hit()
    {
        var found = 0;
        for (var i = 0; i < Operations; i++) if (generational.TryGetValue(present[i % present.Length], out _)) found++;
        return found;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public int Lru_read_hit()
    {
        var found = 0;
        for (var i = 0; i < Operations; i++) if (lru.TryGet(present[i % present.Length], out _)) found++;
        return found;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public void Generational_write_new()
    {
        foreach (var key in fresh) generational.Set(key, Value);
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public void Lru_write_new()
    {
        foreach (var key in fresh) lru.AddOrUpdate(key, Value);
    }

    [Benchmark(OperationsPerInvoke = Operations * 8)]
    public void Generational_8_threads_mixed() => Parallel.For(0, 8, t =>
    {
        var random = new Random(t);
        for (var i = 0; i < Operations; i++)
        {
            var key = working[random.Next(working.Length)];
            if (i % 10 == 0) generational.Set(key, Value);
            else generational.TryGetValue(key, out _);
        }
    });

    [Benchmark(OperationsPerInvoke = Operations * 8)]
    public void Lru_8_threads_mixed() => Parallel.For(0, 8, t =>
    {
        var random = new Random(t);
        for (var i = 0; i < Operations; i++)
        {
            var key = working[random.Next(working.Length)];
            if (i % 10 == 0) lru.AddOrUpdate(key, Value);
            else lru.TryGet(key, out _);
        }
    });
}
