using System.Transactions;
using JasperFx.Events;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Replay;
using KbPathways.Domain.Trajectories;
using KbPathways.Projections.Privacy;
using Marten;
using Npgsql;
using Weasel.Core;
using IsolationLevel = System.Transactions.IsolationLevel;

namespace KbPathways.Projections;

/// <summary>Which trajectories a what-if run replays: the candidate's pathway, optionally one state and a start period.</summary>
public sealed record ReplaySelection(string? State = null, DateTimeOffset? StartedFrom = null, DateTimeOffset? StartedTo = null);

public sealed record WhatIfReport(string Pathway, string CandidateHash, int Total, int Affected, IReadOnlyList<WhatIfResult> Items);

public sealed record RebuildProgress(long Events, long Total);

/// <summary>An event as a rebuild folds it: its stream and its data.</summary>
public sealed record StoredEvent(Guid StreamId, object Data);

public sealed record RebuildResult(long Events, int Trajectories, int Removed);

/// <summary>
/// Looking back over the event store: what-if replays (read only) and rebuilding the trajectory summaries from the
/// events. Both fold streams with the same pure Domain code the commands use.
/// </summary>
public sealed class ReplayService(IDocumentStore store, BusinessClock clock, PatientKeyRing keys)
{
    public const int PageSize = 10_000;

    /// <summary>Re-runs the practice's selected trajectories of the candidate's pathway against the candidate. Writes nothing.</summary>
    public async Task<WhatIfReport> WhatIfAsync(string practice, PathwayDefinition candidate, ReplaySelection selection, CancellationToken ct = default)
    {
        await using var session = store.QuerySession();
        var query = session.Query<TrajectorySummary>().Where(t => t.Practice == practice && t.PathwayId == candidate.Id);
        if (!string.IsNullOrEmpty(selection.State)) query = query.Where(t => t.State == selection.State);
        if (selection.StartedFrom is { } from) query = query.Where(t => t.StartedAt >= from);
        if (selection.StartedTo is { } to) query = query.Where(t => t.StartedAt < to);
        var ids = await query.OrderBy(t => t.StartedAt).Select(t => t.Id).ToListAsync(ct);
        var results = new List<WhatIfResult>(ids.Count);
        foreach (var chunk in ids.Chunk(500))
        {
            var events = await ReadAsync("stream_id = ANY($1)", [chunk], ct);
            var streams = events.GroupBy(e => e.StreamId).ToDictionary(g => g.Key, g => g.Select(e => e.Data).ToList());
            results.AddRange(chunk.Where(streams.ContainsKey).Select(id => WhatIf.Run(streams[id], candidate, clock.Now)));
        }
        return new WhatIfReport(candidate.Id, candidate.Hash, results.Count, results.Count(r => r.Affected), results);
    }

    private const int ReadAhead = 3;

    private Dictionary<string, Type>? eventTypes;

    /// <summary>Marten's tombstones (they fill the sequence numbers a failed append used up) are bookkeeping, not events.</summary>
    private static readonly string NotTombstone = $"type <> '{Tombstone.Name}'";

    /// <summary>The events with sequence numbers after <paramref name="after"/> up to <paramref name="upTo"/>, in order.</summary>
    public Task<IReadOnlyList<StoredEvent>> ReadPageAsync(long after, long upTo, CancellationToken ct = default) =>
        ReadAsync("seq_id > $1 AND seq_id <= $2", [after, upTo], ct);

    /// <summary>
    /// The events that meet <paramref name="condition"/> (with <paramref name="values"/> for its $1, $2, …), in order:
    /// each one's stream and data (sealed fields opened). Read from the events table directly and deserialised
    /// synchronously, on a pool thread of its own: Marten 9 reads events only asynchronously, through a stream per
    /// event, and builds metadata that replays do not use (reading a million events went from 61,000–68,000 to
    /// 73,000–81,000 events/s). The rows are read first and opened after the keys of the patients they name are in
    /// memory, all fetched in one round trip.
    /// </summary>
    private Task<IReadOnlyList<StoredEvent>> ReadAsync(string condition, object[] values, CancellationToken ct) => Task.Run<IReadOnlyList<StoredEvent>>(() =>
    {
        var types = eventTypes ??= store.Options.Events.AllKnownEventTypes().ToDictionary(t => t.EventTypeName, t => t.EventType);
        var serializer = store.Options.Serializer();
        var rows = new List<(Guid Stream, Type Type, byte[] Data)>();
        var named = new HashSet<Guid>();
        using (var connection = store.Storage.Database.CreateConnection())
        {
            connection.Open();
            using var command = new NpgsqlCommand(
                $"SELECT stream_id, type, data, (data -> '{SealedEvents.Envelope}' ->> 'Key')::uuid FROM {EventsTable} " +
                $"WHERE {condition} AND {NotTombstone} ORDER BY seq_id", connection);
            foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
            using var cancelled = ct.Register(command.Cancel);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var type = types.GetValueOrDefault(reader.GetString(1))
                           ?? throw new InvalidOperationException($"event type '{reader.GetString(1)}' is not one of KbPathways' events");
                rows.Add((reader.GetGuid(0), type, reader.GetFieldValue<byte[]>(2)));
                if (!reader.IsDBNull(3)) named.Add(reader.GetGuid(3));
            }
        }
        keys.Load(named);
        var page = new List<StoredEvent>(rows.Count);
        foreach (var (stream, type, data) in rows) page.Add(new StoredEvent(stream, serializer.FromJson(type, new MemoryStream(data, writable: false))));
        return page;
    }, ct);

    /// <summary>
    /// Folds every trajectory stream from its first event and writes the summaries afresh: each one is replaced, and a
    /// summary without a stream is removed. Run it with the hosts stopped; it reports progress per page of events.
    /// </summary>
    public async Task<RebuildResult> RebuildAsync(IProgress<RebuildProgress>? progress = null, CancellationToken ct = default)
    {
        var trajectories = new Dictionary<Guid, Trajectory>();
        var marks = new Dictionary<Guid, PatientMarks>();
        long done = 0;
        await using (var session = store.QuerySession())
        {
            var total = (await session.QueryAsync<long>($"SELECT count(*) FROM {EventsTable} WHERE {NotTombstone}", ct))[0];
            var newest = (await session.QueryAsync<long>($"SELECT coalesce(max(seq_id), 0) FROM {EventsTable}", ct))[0];
            // Pages are ranges of sequence numbers, read ahead on their own connections while the previous page is folded,
            // so the database (sending) and this process (deserialising, opening sealed fields) work at the same time.
            var ahead = new Queue<Task<IReadOnlyList<StoredEvent>>>();
            for (long from = 0; from < newest || ahead.Count > 0;)
            {
                while (ahead.Count < ReadAhead && from < newest)
                {
                    ahead.Enqueue(ReadPageAsync(from, from + PageSize, ct));
                    from += PageSize;
                }
                var page = await ahead.Dequeue();
                foreach (var e in page)
                {
                    if (e.Data is TrajectoryStarted started) trajectories[e.StreamId] = Trajectory.Create(started);
                    else if (e.Data is TrajectoryErased) trajectories.Remove(e.StreamId); // an erased patient leaves no summary
                    else if (e.Data is PatientErased) marks.Remove(e.StreamId);
                    else if (trajectories.TryGetValue(e.StreamId, out var state)) trajectories[e.StreamId] = Trajectory.Evolve(state, e.Data);
                    else if (PatientMarks.Apply(marks.GetValueOrDefault(e.StreamId), e.Data) is { } marked) marks[e.StreamId] = marked;
                }
                done += page.Count;
                progress?.Report(new RebuildProgress(done, Math.Max(total, done)));
            }
        }
        int removed;
        await using (var session = store.QuerySession())
            removed = (await session.Query<TrajectorySummary>().Select(t => t.Id).ToListAsync(ct)).Count(id => !trajectories.ContainsKey(id));
        await ReplaceAllAsync([.. trajectories.Values.Select(TrajectorySummary.Of)], [.. marks.Values], ct);
        return new RebuildResult(done, trajectories.Count, removed);
    }

    /// <summary>
    /// Empties the summary tables and copies the new rows in, in one transaction: readers see the old rows or the new
    /// ones, and no dead version of every row is left behind (an update of each would leave one). The truncation and
    /// the copies share one connection, so nothing escalates. Then the tables are vacuumed and analysed, as
    /// autovacuum would do some time later: until then the listings cannot be index-only scans, and the dashboard
    /// answered about three times slower.
    /// </summary>
    private async Task ReplaceAllAsync(IReadOnlyCollection<TrajectorySummary> summaries, IReadOnlyCollection<PatientMarks> marks, CancellationToken ct)
    {
        // Before the transaction, so that no second connection opens inside it.
        await store.Storage.Database.EnsureStorageExistsAsync(typeof(TrajectorySummary), ct);
        await store.Storage.Database.EnsureStorageExistsAsync(typeof(PatientMarks), ct);
        using (var scope = new TransactionScope(TransactionScopeOption.RequiresNew,
                   new TransactionOptions { IsolationLevel = IsolationLevel.ReadCommitted, Timeout = TransactionManager.MaximumTimeout },
                   TransactionScopeAsyncFlowOption.Enabled))
        {
            var transaction = Transaction.Current!;
            await using (var connection = store.Storage.Database.CreateConnection())
            {
                await connection.OpenAsync(ct);
                connection.EnlistTransaction(transaction);
                await using var truncate = new NpgsqlCommand($"TRUNCATE {Tables}", connection);
                await truncate.ExecuteNonQueryAsync(ct);
            }
            await store.BulkInsertEnlistTransactionAsync(summaries, transaction, BulkInsertMode.InsertsOnly, 1000, ct);
            await store.BulkInsertEnlistTransactionAsync(marks, transaction, BulkInsertMode.InsertsOnly, 1000, ct);
            scope.Complete();
        }

        // Outside any transaction, as VACUUM must be.
        await using var vacuuming = store.Storage.Database.CreateConnection();
        await vacuuming.OpenAsync(ct);
        await using var vacuum = new NpgsqlCommand($"VACUUM (ANALYZE) {Tables}", vacuuming);
        await vacuum.ExecuteNonQueryAsync(ct);
    }

    private string EventsTable => $"{store.Options.Events.DatabaseSchemaName}.mt_events";

    private string Tables => $"{store.Options.Schema.For<TrajectorySummary>(qualified: true)}, {store.Options.Schema.For<PatientMarks>(qualified: true)}";
}
