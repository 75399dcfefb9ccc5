using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace KbPathways.Host.AccessLog;

/// <summary>
/// One NEN 7513 record: what happened (action C/R/U/D/E and a coded event type), when (UTC, to the second, the start
/// of the event), which patient, which user and on whose behalf, in which practice, from which access point, and the
/// four checks (authorised, treatment relationship, consent, emergency access; null = not evaluated here).
/// </summary>
public sealed record AccessLogEntry(
    long Sequence, DateTimeOffset At, string Action, string EventType, string? Patient, string? Object, string? User,
    string? OnBehalfOf, string? Practice, string AccessPoint, bool Authorised, bool? TreatmentRelation, bool? Consent,
    bool Emergency, int Status, string Hash);

/// <summary>
/// The append-only access log in its own table, chained by SHA-256: each record's hash covers its fields and the
/// previous hash, so a changed or removed row is detected by <see cref="VerifyAsync"/>. Appends take a transaction-level
/// advisory lock so the chain has one order.
/// </summary>
public sealed class AccessLogStore(string connectionString)
{
    private const string Table = "kbpathways.access_log";

    public async Task EnsureAsync(CancellationToken ct = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"""
            CREATE SCHEMA IF NOT EXISTS kbpathways;
            CREATE TABLE IF NOT EXISTS {Table} (
              seq bigint PRIMARY KEY, at timestamptz NOT NULL, action char(1) NOT NULL, event_type text NOT NULL,
              patient text NULL, object text NULL, user_id text NULL, on_behalf_of text NULL, practice text NULL,
              access_point text NOT NULL, authorised boolean NOT NULL, treatment_relation boolean NULL, consent boolean NULL,
              emergency boolean NOT NULL, status int NOT NULL, prev_hash text NOT NULL, hash text NOT NULL);
            -- a response may name thousands of patients (a dashboard): index each one, not the whole list
            DROP INDEX IF EXISTS kbpathways.access_log_patient;
            CREATE INDEX IF NOT EXISTS access_log_patients ON {Table} USING gin (string_to_array(patient, ','));
            CREATE INDEX IF NOT EXISTS access_log_user ON {Table} (practice, user_id);
            """, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task AppendAsync(AccessLogEntry entry, CancellationToken ct = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7513)", connection, tx))
            await lockCommand.ExecuteNonQueryAsync(ct);
        long seq = 1;
        var previous = "";
        await using (var last = new NpgsqlCommand($"SELECT seq, hash FROM {Table} ORDER BY seq DESC LIMIT 1", connection, tx))
        await using (var reader = await last.ExecuteReaderAsync(ct))
            if (await reader.ReadAsync(ct)) (seq, previous) = (reader.GetInt64(0) + 1, reader.GetString(1));
        var stored = entry with { Sequence = seq, At = Second(entry.At) };
        await using (var insert = new NpgsqlCommand($"""
            INSERT INTO {Table} VALUES (@seq, @at, @action, @type, @patient, @object, @user, @behalf, @practice, @point,
              @authorised, @treatment, @consent, @emergency, @status, @prev, @hash)
            """, connection, tx))
        {
            var p = insert.Parameters;
            p.AddWithValue("seq", seq); p.AddWithValue("at", stored.At); p.AddWithValue("action", stored.Action);
            p.AddWithValue("type", stored.EventType); p.AddWithValue("patient", (object?)stored.Patient ?? DBNull.Value);
            p.AddWithValue("object", (object?)stored.Object ?? DBNull.Value); p.AddWithValue("user", (object?)stored.User ?? DBNull.Value);
            p.AddWithValue("behalf", (object?)stored.OnBehalfOf ?? DBNull.Value); p.AddWithValue("practice", (object?)stored.Practice ?? DBNull.Value);
            p.AddWithValue("point", stored.AccessPoint); p.AddWithValue("authorised", stored.Authorised);
            p.AddWithValue("treatment", (object?)stored.TreatmentRelation ?? DBNull.Value); p.AddWithValue("consent", (object?)stored.Consent ?? DBNull.Value);
            p.AddWithValue("emergency", stored.Emergency); p.AddWithValue("status", stored.Status);
            p.AddWithValue("prev", previous); p.AddWithValue("hash", HashOf(stored, previous));
            await insert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<AccessLogEntry>> QueryAsync(string practice, string? patient, string? user, int limit, CancellationToken ct = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"""
            SELECT * FROM {Table} WHERE practice = @practice AND (@patient::text IS NULL OR string_to_array(patient, ',') @> ARRAY[@patient::text])
              AND (@user::text IS NULL OR user_id = @user) ORDER BY seq LIMIT @limit
            """, connection);
        command.Parameters.AddWithValue("practice", practice);
        command.Parameters.AddWithValue("patient", (object?)patient ?? DBNull.Value);
        command.Parameters.AddWithValue("user", (object?)user ?? DBNull.Value);
        command.Parameters.AddWithValue("limit", limit);
        return await Read(command, ct);
    }

    /// <summary>Recomputes the chain; returns the sequence number of the first record that does not match, or null.</summary>
    public async Task<long?> VerifyAsync(CancellationToken ct = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"SELECT *, prev_hash FROM {Table} ORDER BY seq", connection);
        var previous = "";
        long expected = 1;
        foreach (var entry in await Read(command, ct))
        {
            if (entry.Sequence != expected || HashOf(entry, previous) != entry.Hash) return expected;
            previous = entry.Hash;
            expected++;
        }
        return null;
    }

    private static async Task<List<AccessLogEntry>> Read(NpgsqlCommand command, CancellationToken ct)
    {
        var result = new List<AccessLogEntry>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        bool? Flag(int i) => reader.IsDBNull(i) ? null : reader.GetBoolean(i);
        while (await reader.ReadAsync(ct))
            result.Add(new AccessLogEntry(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3),
                Text(4), Text(5), Text(6), Text(7), Text(8), reader.GetString(9), reader.GetBoolean(10), Flag(11), Flag(12),
                reader.GetBoolean(13), reader.GetInt32(14), reader.GetString(16)));
        return result;
    }

    private static DateTimeOffset Second(DateTimeOffset at) => new(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);

    private static string HashOf(AccessLogEntry e, string previous)
    {
        var text = string.Join('\u001f', previous, e.Sequence.ToString(CultureInfo.InvariantCulture),
            e.At.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), e.Action, e.EventType, e.Patient, e.Object,
            e.User, e.OnBehalfOf, e.Practice, e.AccessPoint, e.Authorised, e.TreatmentRelation, e.Consent, e.Emergency, e.Status);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}
