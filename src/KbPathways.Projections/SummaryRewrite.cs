using Marten;
using Npgsql;
using NpgsqlTypes;

namespace KbPathways.Projections;

/// <summary>
/// Writes the summary tables (trajectory summaries and KB-mark histories) afresh, in one transaction on one
/// connection: it notes the ids they held, empties them, copies the new rows in as they are added (a batch at a time,
/// with PostgreSQL's binary COPY), and on commit vacuums them. Nothing new is visible to others before the commit, and
/// readers of the tables wait until then (emptying them locks them); if it fails or is disposed uncommitted, the old
/// rows stay.
/// </summary>
/// <remarks>
/// The rows are laid out as Marten's document storage lays them out (the document as jsonb, a new version, the .NET
/// type, and the duplicated columns configured in <see cref="ServiceCollectionExtensions"/>). Marten's own bulk
/// insert cannot join a transaction that outlasts ten minutes (System.Transactions' limit) and keeps the last documents
/// it inserted reachable; a rebuild of years of history needs neither.
/// </remarks>
internal sealed class SummaryRewrite : IAsyncDisposable
{
    private const int BatchSize = 1000;

    private readonly NpgsqlConnection connection;
    private readonly NpgsqlTransaction transaction;
    private readonly ISerializer serializer;
    private readonly Rows<TrajectorySummary> summaries;
    private readonly Rows<PatientMarks> marks;

    private SummaryRewrite(IDocumentStore store, NpgsqlConnection connection, NpgsqlTransaction transaction, HashSet<Guid> replaced)
    {
        this.connection = connection;
        this.transaction = transaction;
        serializer = store.Options.Serializer();
        summaries = new(store.Options.Schema.For<TrajectorySummary>(qualified: true), s => s.Id, ("practice", s => s.Practice), ("patient_id", s => s.PatientId));
        marks = new(store.Options.Schema.For<PatientMarks>(qualified: true), m => m.Id, ("practice", m => m.Practice));
        Replaced = replaced;
    }

    /// <summary>The trajectory summaries the tables held before.</summary>
    public IReadOnlySet<Guid> Replaced { get; }

    public static async Task<SummaryRewrite> BeginAsync(IDocumentStore store, CancellationToken ct)
    {
        await store.Storage.Database.EnsureStorageExistsAsync(typeof(TrajectorySummary), ct);
        await store.Storage.Database.EnsureStorageExistsAsync(typeof(PatientMarks), ct);
        var connection = store.Storage.Database.CreateConnection();
        try
        {
            await connection.OpenAsync(ct);
            var transaction = await connection.BeginTransactionAsync(ct);
            var summaryTable = store.Options.Schema.For<TrajectorySummary>(qualified: true);
            var replaced = new HashSet<Guid>();
            await using (var list = new NpgsqlCommand($"SELECT id FROM {summaryTable}", connection, transaction))
            await using (var reader = await list.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct)) replaced.Add(reader.GetGuid(0));
            await using (var truncate = new NpgsqlCommand(
                             $"TRUNCATE {summaryTable}, {store.Options.Schema.For<PatientMarks>(qualified: true)}", connection, transaction))
                await truncate.ExecuteNonQueryAsync(ct);
            return new SummaryRewrite(store, connection, transaction, replaced);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Adds a trajectory summary; every batch of them is copied as it fills.</summary>
    public ValueTask AddAsync(TrajectorySummary summary, CancellationToken ct) => AddAsync(summaries, summary, ct);

    public ValueTask AddAsync(PatientMarks history, CancellationToken ct) => AddAsync(marks, history, ct);

    private async ValueTask AddAsync<T>(Rows<T> rows, T document, CancellationToken ct) where T : notnull
    {
        rows.Pending.Add(document);
        if (rows.Pending.Count >= BatchSize) await CopyAsync(rows, ct);
    }

    /// <summary>
    /// Copies the rest, removes the summaries of <paramref name="erased"/> again (written before their erasure was
    /// read), commits, and vacuums and analyses the tables, as autovacuum would do some time later: until then the
    /// listings cannot be index-only scans, and the dashboard answered about three times slower.
    /// </summary>
    public async Task CommitAsync(IReadOnlyCollection<Guid> erased, CancellationToken ct)
    {
        await CopyAsync(summaries, ct);
        await CopyAsync(marks, ct);
        if (erased.Count > 0)
            await using (var delete = new NpgsqlCommand($"DELETE FROM {summaries.Table} WHERE id = ANY($1)", connection, transaction)
                         { Parameters = { new() { Value = erased.ToArray() } } })
                await delete.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
        // Outside any transaction, as VACUUM must be.
        await using var vacuum = new NpgsqlCommand($"VACUUM (ANALYZE) {summaries.Table}, {marks.Table}", connection);
        await vacuum.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Copies the pending documents: the columns every Marten document row has (id, the document, a new version, its
    /// .NET type) and the columns duplicated from it.
    /// </summary>
    private async Task CopyAsync<T>(Rows<T> rows, CancellationToken ct) where T : notnull
    {
        if (rows.Pending.Count == 0) return;
        await using var copy = await connection.BeginBinaryImportAsync(
            $"COPY {rows.Table} (id, data, mt_version, mt_dotnet_type, {string.Join(", ", rows.Duplicated.Select(d => d.Column))}) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var document in rows.Pending)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(rows.Id(document), NpgsqlDbType.Uuid, ct);
            await copy.WriteAsync(serializer.ToJson(document), NpgsqlDbType.Jsonb, ct);
            await copy.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid, ct);
            await copy.WriteAsync(typeof(T).FullName!, NpgsqlDbType.Varchar, ct);
            foreach (var (_, value) in rows.Duplicated) await copy.WriteAsync(value(document), NpgsqlDbType.Varchar, ct);
        }
        await copy.CompleteAsync(ct);
        rows.Pending.Clear();
    }

    /// <summary>A document table: its name, the document's id, its duplicated columns, and the rows not copied yet.</summary>
    private sealed class Rows<T>(string table, Func<T, Guid> id, params (string Column, Func<T, string> Value)[] duplicated)
    {
        public string Table => table;
        public Func<T, Guid> Id => id;
        public (string Column, Func<T, string> Value)[] Duplicated => duplicated;
        public List<T> Pending { get; } = [];
    }

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}
