using System.Collections.Concurrent;
using Marten;
using Npgsql;

namespace KbPathways.Projections;

/// <summary>One practice's trajectory summaries and KB-mark histories as they were committed when they were read.</summary>
public sealed record PracticeSnapshot(IReadOnlyList<TrajectorySummary> Summaries, IReadOnlyList<PatientMarks> Marks);

/// <summary>
/// What the dashboard, the worklist and the quality report read: a practice's summaries and KB-mark histories, kept in
/// memory and brought up to date on every read. One query lists the practice's document ids with their versions
/// (Marten gives a document a new <c>mt_version</c> on every write); only documents that are new or changed since the
/// last read are read and deserialised again, and documents no longer listed (erased) are dropped. A read therefore
/// sees everything committed before it, by any host, without reading every document. At most <c>capacity</c>
/// practices are held; the one read longest ago is dropped first. The documents handed out are shared between
/// readers and must not be changed.
/// </summary>
public sealed class PracticeSnapshots(NpgsqlDataSource dataSource, IDocumentStore store, int capacity)
{
    private sealed record Versioned<T>(Guid Version, T Document);

    private sealed class Held(Dictionary<Guid, Versioned<TrajectorySummary>> summaries, Dictionary<Guid, Versioned<PatientMarks>> marks)
    {
        public Dictionary<Guid, Versioned<TrajectorySummary>> Summaries { get; } = summaries;
        public Dictionary<Guid, Versioned<PatientMarks>> Marks { get; } = marks;
        public PracticeSnapshot Snapshot { get; } = new([.. summaries.Values.Select(v => v.Document)], [.. marks.Values.Select(v => v.Document)]);
        public long LastRead;
    }

    private readonly ConcurrentDictionary<string, Held> held = new(StringComparer.Ordinal);
    private readonly string summaries = store.Options.Schema.For<TrajectorySummary>();
    private readonly string marks = store.Options.Schema.For<PatientMarks>();
    private long reads;

    /// <summary>How many practices are held now.</summary>
    public int Count => held.Count;

    /// <summary>Forgets every practice held (after an erasure); the next read of each reads it whole.</summary>
    public void Clear() => held.Clear();

    /// <summary>
    /// The practice as committed now. When nothing changed since the last read, this is the same snapshot instance as
    /// then, so whatever a caller derived from it can be kept with it.
    /// </summary>
    public async Task<PracticeSnapshot> ReadAsync(string practice, CancellationToken ct = default)
    {
        held.TryGetValue(practice, out var before);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var summaryDocs = await RefreshAsync(connection, summaries, practice, before?.Summaries, ct);
        var markDocs = await RefreshAsync(connection, marks, practice, before?.Marks, ct);
        var now = before is not null && summaryDocs == before.Summaries && markDocs == before.Marks ? before : new Held(summaryDocs, markDocs);
        now.LastRead = Interlocked.Increment(ref reads);
        // Concurrent reads of one practice each answer from their own listing; whichever stores last is kept, and the
        // next read corrects it either way.
        held[practice] = now;
        if (held.Count > capacity) Evict();
        return now.Snapshot;
    }

    private void Evict()
    {
        foreach (var (practice, _) in held.OrderBy(p => p.Value.LastRead).Take(held.Count - capacity).ToList())
            held.TryRemove(practice, out _);
    }

    /// <summary>The documents listed now: <paramref name="known"/> itself when every listed version is known and none is gone.</summary>
    private async Task<Dictionary<Guid, Versioned<T>>> RefreshAsync<T>(NpgsqlConnection connection, string table, string practice,
        Dictionary<Guid, Versioned<T>>? known, CancellationToken ct)
    {
        var listing = new List<(Guid Id, Guid Version)>(known?.Count ?? 0);
        var unchanged = 0;
        await using (var list = new NpgsqlCommand($"SELECT id, mt_version FROM {table} WHERE practice = $1", connection)
                     { Parameters = { new() { Value = practice } } })
        await using (var reader = await list.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                var (id, version) = (reader.GetGuid(0), reader.GetGuid(1));
                listing.Add((id, version));
                if (known is not null && known.TryGetValue(id, out var doc) && doc.Version == version) unchanged++;
            }
        if (known is not null && unchanged == listing.Count && unchanged == known.Count) return known;
        var listed = new Dictionary<Guid, Versioned<T>>(listing.Count);
        var stale = new List<Guid>();
        foreach (var (id, version) in listing)
            if (known is not null && known.TryGetValue(id, out var doc) && doc.Version == version) listed[id] = doc;
            else stale.Add(id);
        if (stale.Count == 0) return listed;
        var serializer = store.Options.Serializer();
        await using (var read = new NpgsqlCommand($"SELECT id, mt_version, data FROM {table} WHERE id = ANY($1)", connection)
                     { Parameters = { new() { Value = stale.ToArray() } } })
        await using (var reader = await read.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                // Changed again since the listing: the newer version is kept, with its own version.
                listed[reader.GetGuid(0)] = new(reader.GetGuid(1), serializer.FromJson<T>(reader, 2));
        return listed;
    }
}
