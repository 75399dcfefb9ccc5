using Marten;
using Npgsql;
using NpgsqlTypes;

namespace KbPathways.Projections;

/// <summary>
/// Writes the summary tables (trajectory summaries and KB-mark histories) afresh, in one transaction on one
/// connection: it notes the ids they held, empties them, copies the new rows in as they are added (a batch at a time, with
/// PostgreSQL's binary COPY), and on commit vacuums them. Nothing is visible to others before the commit; if it fails
/// or is disposed uncommitted, the old rows stay.
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
    private readonly string summaryTable;
    private readonly string marksTable;
    private readonly List<TrajectorySummary> summaries = [];
    private readonly List<PatientMarks> marks = [];

    private SummaryRewrite(IDocumentStore store, NpgsqlConnection connection, NpgsqlTransaction transaction, HashSet<Guid> replaced)
    {
        this.connection = connection;
        this.transaction = transaction;
        serializer = store.Options.Serializer();
        summaryTable = store.Options.Schema.For<TrajectorySummary>(qualified: true);
        marksTable = store.Options.Schema.For<PatientMarks>(qualified: true);
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
    public async ValueTask AddAsync(TrajectorySummary summary, CancellationToken ct)
    {
        summaries.Add(summary);
        if (summaries.Count >= BatchSize) await CopySummariesAsync(ct);
    }

    public async ValueTask AddAsync(PatientMarks history, CancellationToken ct)
    {
        marks.Add(history);
        if (marks.Count >= BatchSize) await CopyMarksAsync(ct);
    }

    /// <summary>
    /// Copies the rest, removes the summaries of <paramref name="erased"/> again (written before their erasure was
    /// read), commits, and vacuums and analyses the tables, as autovacuum would do some time later: until then the
    /// listings cannot be index-only scans, and the dashboard answered about three times slower.
    /// </summary>
    public async Task CommitAsync(IReadOnlyCollection<Guid> erased, CancellationToken ct)
    {
        await CopySummariesAsync(ct);
        await CopyMarksAsync(ct);
        if (erased.Count > 0)
            await using (var delete = new NpgsqlCommand($"DELETE FROM {summaryTable} WHERE id = ANY($1)", connection, transaction)
                         { Parameters = { new() { Value = erased.ToArray() } } })
                await delete.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
        // Outside any transaction, as VACUUM must be.
        await using var vacuum = new NpgsqlCommand($"VACUUM (ANALYZE) {summaryTable}, {marksTable}", connection);
        await vacuum.ExecuteNonQueryAsync(ct);
    }

    private async Task CopySummariesAsync(CancellationToken ct)
    {
        if (summaries.Count == 0) return;
        await using var copy = await connection.BeginBinaryImportAsync(
            $"COPY {summaryTable} (id, data, mt_version, mt_dotnet_type, practice, patient_id) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var summary in summaries)
        {
            await StartRowAsync(copy, summary.Id, summary, ct);
            await copy.WriteAsync(summary.Practice, NpgsqlDbType.Varchar, ct);
            await copy.WriteAsync(summary.PatientId, NpgsqlDbType.Varchar, ct);
        }
        await copy.CompleteAsync(ct);
        summaries.Clear();
    }

    private async Task CopyMarksAsync(CancellationToken ct)
    {
        if (marks.Count == 0) return;
        await using var copy = await connection.BeginBinaryImportAsync(
            $"COPY {marksTable} (id, data, mt_version, mt_dotnet_type, practice) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var history in marks)
        {
            await StartRowAsync(copy, history.Id, history, ct);
            await copy.WriteAsync(history.Practice, NpgsqlDbType.Varchar, ct);
        }
        await copy.CompleteAsync(ct);
        marks.Clear();
    }

    /// <summary>The columns every Marten document row has: id, the document, a new version and its .NET type.</summary>
    private async Task StartRowAsync<T>(NpgsqlBinaryImporter copy, Guid id, T document, CancellationToken ct) where T : notnull
    {
        await copy.StartRowAsync(ct);
        await copy.WriteAsync(id, NpgsqlDbType.Uuid, ct);
        await copy.WriteAsync(serializer.ToJson(document), NpgsqlDbType.Jsonb, ct);
        await copy.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid, ct);
        await copy.WriteAsync(typeof(T).FullName!, NpgsqlDbType.Varchar, ct);
    }

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}
