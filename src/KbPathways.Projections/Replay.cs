using System.Collections.Immutable;
using System.Text.Json;
using JasperFx.Events;
using KbPathways.Domain.Pathways.Engine;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Replay;
using KbPathways.Domain.Trajectories;
using KbPathways.Projections.Privacy;
using Marten;
using Npgsql;
using Weasel.Core;

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
    /// <remarks>
    /// The summary tables are emptied at the start, in a transaction that lasts the whole rebuild and writes the new
    /// rows as they are made (<see cref="SummaryRewrite"/>). Until it commits, a reader of the summaries waits (the
    /// emptying locks the tables), and so does a command of a host left running, whose summary then goes on top of the
    /// rebuilt one; a failed rebuild leaves the old rows. A trajectory's summary is written as soon as it completes,
    /// and its state dropped: memory grows with the open trajectories, not with the years of history. A completed
    /// trajectory takes no further events but its erasure, which removes the written summary again.
    /// </remarks>
    public async Task<RebuildResult> RebuildAsync(IProgress<RebuildProgress>? progress = null, CancellationToken ct = default)
    {
        var open = new Dictionary<Guid, Trajectory>();
        var written = new HashSet<Guid>(); // whose summaries are written: completed ones during the fold, open ones at the end
        var erasedAfterCompletion = new List<Guid>();
        var marks = new Dictionary<Guid, PatientMarks>();
        long done = 0;
        await using var rewrite = await SummaryRewrite.BeginAsync(store, ct);
        long total, newest;
        await using (var session = store.QuerySession())
        {
            total = (await session.QueryAsync<long>($"SELECT count(*) FROM {EventsTable} WHERE {NotTombstone}", ct))[0];
            newest = (await session.QueryAsync<long>($"SELECT coalesce(max(seq_id), 0) FROM {EventsTable}", ct))[0];
        }
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
                if (e.Data is TrajectoryStarted started) open[e.StreamId] = Lean(Trajectory.Create(started));
                else if (e.Data is TrajectoryErased)
                {
                    // An erased patient leaves no summary.
                    if (!open.Remove(e.StreamId) && written.Remove(e.StreamId)) erasedAfterCompletion.Add(e.StreamId);
                }
                else if (e.Data is PatientErased) marks.Remove(e.StreamId);
                else if (open.TryGetValue(e.StreamId, out var state))
                {
                    var after = Trajectory.Evolve(state, e.Data);
                    if (!after.Completed) open[e.StreamId] = Lean(after);
                    else
                    {
                        open.Remove(e.StreamId);
                        written.Add(e.StreamId);
                        await rewrite.AddAsync(TrajectorySummary.Of(after), ct);
                    }
                }
                else if (written.Contains(e.StreamId))
                    throw new InvalidOperationException(
                        $"event {e.Data.GetType().Name} of trajectory {e.StreamId} follows its completion; nothing was rebuilt");
                else if (PatientMarks.Apply(marks.GetValueOrDefault(e.StreamId), e.Data) is { } marked) marks[e.StreamId] = marked;
            }
            done += page.Count;
            progress?.Report(new RebuildProgress(done, Math.Max(total, done)));
        }
        foreach (var (id, state) in open)
        {
            await rewrite.AddAsync(TrajectorySummary.Of(state), ct);
            written.Add(id);
        }
        open.Clear();
        foreach (var marked in marks.Values) await rewrite.AddAsync(marked, ct);
        await rewrite.CommitAsync(erasedAfterCompletion, ct);
        return new RebuildResult(done, written.Count, rewrite.Replaced.Count(id => !written.Contains(id)));
    }

    /// <summary>
    /// The state without what its steps recorded (data, scores, counters): a summary shows none of it, and
    /// <see cref="Trajectory.Evolve"/> derives nothing else from it, so a rebuild need not hold it for every open
    /// trajectory (it would also keep each step's parsed values alive).
    /// </summary>
    private static Trajectory Lean(Trajectory state) => state.Data.IsEmpty && state.Scores.IsEmpty && state.Counters.IsEmpty ? state
        : state with { Data = ImmutableDictionary<string, JsonElement>.Empty, Scores = ImmutableDictionary<string, InstrumentScore>.Empty,
            Counters = ImmutableDictionary<string, int>.Empty };

    private string EventsTable => $"{store.Options.Events.DatabaseSchemaName}.mt_events";

}
