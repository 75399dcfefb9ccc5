using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using KbPathways.Projections.Database;
using Npgsql;

namespace KbPathways.Host.AccessLog;

/// <summary>
/// One NEN 7513 record: what happened (action C/R/U/D/E and a coded event type), when (UTC, to the second, the start
/// of the event), which patient, which user and on whose behalf, in which practice, from which access point, and the
/// four checks (authorised, treatment relationship, consent, emergency access; null = not evaluated here).
/// <see cref="Patient"/> is the list of patients as stored (<see cref="PatientList"/>; <see cref="Patients"/> reads it).
/// <see cref="Hash"/> is the record's seal, null until it is sealed.
/// </summary>
public sealed record AccessLogEntry(
    long Sequence, DateTimeOffset At, string Action, string EventType, [property: JsonIgnore] string? Patient, string? Object, string? User,
    string? OnBehalfOf, string? Practice, string AccessPoint, bool Authorised, bool? TreatmentRelation, bool? Consent,
    bool Emergency, int Status, string? Hash = null)
{
    /// <summary>The patients this record names, each exactly as the endpoint read or wrote them.</summary>
    public IReadOnlyList<string> Patients => PatientList.Decode(Patient);
}

/// <summary>The first place where the log and its seals disagree: the record (its sequence number) and what is wrong.
/// <see cref="Sequence"/> is null where the break is not one record (the chain is shorter than its signed head).</summary>
public sealed record AccessLogBreak(long? Sequence, string Problem);

/// <summary>
/// What a verification found: the seals it checked (the chain's length), the first seal that carries a signature, the
/// signed head kept outside the database, and the first break, if any.
/// </summary>
public sealed record AccessLogVerification(DateTimeOffset CheckedAt, long Seals, long? SignedFrom, AccessLogHead? Head, AccessLogBreak? Break)
{
    public bool Intact => Break is null;
}

/// <summary>
/// The append-only access log. A request's record is one plain INSERT (no lock, so requests never queue behind each
/// other); a sealer then chains the records, in the order it finds them, into a SHA-256 chain in a second table: each
/// seal covers one record's fields, its position and the previous seal, and is signed with a key the database never sees
/// (<see cref="AccessLogSigning"/>). <see cref="VerifyAsync"/> recomputes the chain and names a record that was changed
/// or removed, or left unsealed. One sealer at a time (an advisory lock), so two hosts share one chain. The
/// application's database role may only SELECT and INSERT (see <see cref="AuditSchema"/>).
/// </summary>
public sealed class AccessLogStore(string connectionString, AccessLogSigning signing)
{
    private const long AdvisoryLock = 7513;
    /// <summary>How far behind the newest sealed record a late-committing record is still looked for.</summary>
    private const long LateWindow = 100_000;
    private const string Columns = "seq, " + InsertedColumns;
    /// <summary>At most this many characters of a text field are kept (an index entry has a size limit).</summary>
    public const int MaxText = 512;

    public AccessLogSigning Signing => signing;

    /// <summary>Whether this connection's role can change or remove records (it should not: see docs/reliability.md).</summary>
    public bool? RoleCanAlter { get; private set; }

    public async Task EnsureAsync(CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        await using (var exists = new NpgsqlCommand($"SELECT to_regclass('{AuditSchema.Seal}') IS NOT NULL", connection))
            if (!(bool)(await exists.ExecuteScalarAsync(ct))!)
            {
                // Not provisioned by an administrator: create it as this role (which then owns it and could alter it).
                await using var create = new NpgsqlCommand(AuditSchema.CreateTables, connection);
                await create.ExecuteNonQueryAsync(ct);
            }
        await using (var signed = new NpgsqlCommand($"""
            SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = '{AuditSchema.Schema}' AND table_name = 'access_log_seal' AND column_name = 'mac')
            """, connection))
            if (!(bool)(await signed.ExecuteScalarAsync(ct))!)
            {
                // A log made before seals were signed: only its owner can add the column.
                await using var upgrade = new NpgsqlCommand(AuditSchema.AddSignatures, connection);
                try
                {
                    await upgrade.ExecuteNonQueryAsync(ct);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
                {
                    throw new InvalidOperationException(
                        $"The access log's tables predate signed seals and this database role may not change them. Have an administrator run: {AuditSchema.AddSignatures}");
                }
            }
        await using var check = new NpgsqlCommand($"""
            SELECT has_table_privilege(current_user, '{AuditSchema.Log}', 'UPDATE') OR has_table_privilege(current_user, '{AuditSchema.Log}', 'DELETE')
                OR has_table_privilege(current_user, '{AuditSchema.Log}', 'TRUNCATE') OR has_table_privilege(current_user, '{AuditSchema.Seal}', 'DELETE')
            """, connection);
        RoleCanAlter = (bool)(await check.ExecuteScalarAsync(ct))!;
    }

    /// <summary>At most this many records share one commit.</summary>
    private const int GroupSize = 256;
    private readonly Channel<(AccessLogEntry Entry, TaskCompletionSource<long> Stored)> pending =
        Channel.CreateUnbounded<(AccessLogEntry, TaskCompletionSource<long>)>(new UnboundedChannelOptions { SingleReader = true });
    private Task? writer;

    /// <summary>
    /// Stores one record and returns its sequence number once it is committed. Records of concurrent requests are
    /// committed together (group commit: one transaction, one round trip, one WAL flush per group), so a busy host
    /// does not pay a commit per request; a lone request is written at once. A group the database refuses is written
    /// again one record at a time, so one bad record never fails another request's.
    /// </summary>
    public Task<long> AppendAsync(AccessLogEntry entry, CancellationToken ct = default)
    {
        if (writer is null && Interlocked.CompareExchange(ref writer, Task.CompletedTask, null) is null) writer = Task.Run(WriteAsync);
        var stored = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!pending.Writer.TryWrite((entry, stored))) throw new InvalidOperationException("the access log writer has stopped");
        return stored.Task.WaitAsync(ct);
    }

    private async Task WriteAsync()
    {
        var group = new List<(AccessLogEntry Entry, TaskCompletionSource<long> Stored)>(GroupSize);
        while (await pending.Reader.WaitToReadAsync())
        {
            while (group.Count < GroupSize && pending.Reader.TryRead(out var next)) group.Add(next);
            try
            {
                var sequences = await InsertAsync(group.Select(g => g.Entry).ToList());
                for (var i = 0; i < group.Count; i++) group[i].Stored.TrySetResult(sequences[i]);
            }
            catch (Exception e) when (!DatabaseAway(e))
            {
                foreach (var (entry, stored) in group) await InsertAloneAsync(entry, stored);
            }
            catch (Exception e)
            {
                foreach (var (_, stored) in group) stored.TrySetException(e); // each request answers 503 and shows nothing
            }
            group.Clear();
        }
    }

    /// <summary>
    /// One record in a transaction of its own; if the database refuses even that, the record is kept with each text
    /// field replaced by its SHA-256 digest (the request is still on record, and nothing else is harmed).
    /// </summary>
    private async Task InsertAloneAsync(AccessLogEntry entry, TaskCompletionSource<long> stored)
    {
        try
        {
            stored.TrySetResult((await InsertAsync([entry]))[0]);
            return;
        }
        catch (Exception e) when (!DatabaseAway(e))
        {
        }
        catch (Exception e)
        {
            stored.TrySetException(e);
            return;
        }
        try
        {
            static string? Digest(string? text) => text is null ? null : "#sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
            var reduced = entry with
            {
                EventType = Digest(entry.EventType)!, Patient = Digest(entry.Patient), Object = Digest(entry.Object), User = Digest(entry.User),
                OnBehalfOf = Digest(entry.OnBehalfOf), Practice = Digest(entry.Practice), AccessPoint = Digest(entry.AccessPoint)!,
            };
            stored.TrySetResult((await InsertAsync([reduced]))[0]);
        }
        catch (Exception e)
        {
            stored.TrySetException(e);
        }
    }

    /// <summary>The database is away or the connection broke (rather than refusing this data).</summary>
    private static bool DatabaseAway(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState[..2] is "08" or "53" or "57" or "58",
        NpgsqlException or TimeoutException or System.Net.Sockets.SocketException => true,
        _ => e.InnerException is { } inner && DatabaseAway(inner),
    };

    private async Task<long[]> InsertAsync(IReadOnlyList<AccessLogEntry> entries)
    {
        await using var connection = await OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var entry in entries)
        {
            var insert = new NpgsqlBatchCommand(BatchInsert);
            foreach (var value in Values(entry)) insert.Parameters.Add(new NpgsqlParameter { Value = value });
            batch.BatchCommands.Add(insert);
        }
        var sequences = new long[entries.Count];
        await using (var reader = await batch.ExecuteReaderAsync())
            for (var i = 0; i < sequences.Length; i++)
            {
                await reader.ReadAsync();
                sequences[i] = reader.GetInt64(0);
                await reader.NextResultAsync();
            }
        await transaction.CommitAsync();
        return sequences;
    }

    /// <summary>
    /// The INSERT of one record with Marten's <c>?</c> placeholders, for a command that writes its request's record in
    /// its own transaction (<see cref="AccessLogMiddleware.Enlist"/>).
    /// </summary>
    public static (string Sql, object[] Values) InsertCommand(AccessLogEntry entry) => (SessionInsert, Values(entry));

    private static readonly string BatchInsert = Insert(n => "$" + n) + " RETURNING seq";
    private static readonly string SessionInsert = Insert(_ => "?");

    private static string Insert(Func<int, string> placeholder) =>
        $"INSERT INTO {AuditSchema.Log} ({InsertedColumns}) VALUES ({string.Join(", ", Enumerable.Range(1, 14).Select(placeholder))})";

    private const string InsertedColumns = "at, action, event_type, patient, object, user_id, on_behalf_of, practice, access_point, authorised, treatment_relation, consent, emergency, status";

    /// <summary>
    /// A record's values in the order of <see cref="InsertedColumns"/>, a missing one as <see cref="DBNull"/>. Text is
    /// stored clean: control characters (PostgreSQL refuses NUL) and lone surrogates become U+FFFD, and a field is cut
    /// at <see cref="MaxText"/> characters (the patient list is written safe by <see cref="PatientList"/>).
    /// </summary>
    private static object[] Values(AccessLogEntry e) =>
        [.. ((object?[])[Second(e.At), e.Action, Clean(e.EventType, MaxText), Clean(e.Patient, int.MaxValue), Clean(e.Object, MaxText),
            Clean(e.User, MaxText), Clean(e.OnBehalfOf, MaxText), Clean(e.Practice, MaxText), Clean(e.AccessPoint, MaxText), e.Authorised,
            e.TreatmentRelation, e.Consent, e.Emergency, e.Status]).Select(v => v ?? DBNull.Value)];

    public static string? Clean(string? text, int max)
    {
        if (text is null) return null;
        var clean = new StringBuilder(Math.Min(text.Length, max));
        for (var i = 0; i < text.Length && clean.Length < max;)
        {
            var status = Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var used);
            i += Math.Max(used, 1);
            var kept = status != System.Buffers.OperationStatus.Done || Rune.IsControl(rune) ? Rune.ReplacementChar : rune;
            if (clean.Length + kept.Utf16SequenceLength > max) break;
            clean.Append(kept.ToString());
        }
        return clean.ToString();
    }

    /// <summary>
    /// Seals the records not yet sealed, oldest first, extending the chain, signs each seal, and moves the signed head
    /// on. Returns how many it sealed; 0 also when another sealer holds the lock (it will seal them).
    /// </summary>
    public async Task<int> SealAsync(CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var take = new NpgsqlCommand($"SELECT pg_try_advisory_xact_lock({AdvisoryLock})", connection, tx))
            if (!(bool)(await take.ExecuteScalarAsync(ct))!) return 0;
        long position = 0, lastSeq = 0;
        var previous = "";
        await using (var last = new NpgsqlCommand($"SELECT position, seq, hash FROM {AuditSchema.Seal} ORDER BY position DESC LIMIT 1", connection, tx))
        await using (var reader = await last.ExecuteReaderAsync(ct))
            if (await reader.ReadAsync(ct)) (position, lastSeq, previous) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2));
        await using var pending = new NpgsqlCommand($"""
            SELECT {Columns} FROM {AuditSchema.Log} l
            WHERE l.seq > @floor AND NOT EXISTS (SELECT 1 FROM {AuditSchema.Seal} s WHERE s.seq = l.seq)
            ORDER BY l.seq LIMIT 5000
            """, connection, tx);
        pending.Parameters.AddWithValue("floor", Math.Max(0, lastSeq - LateWindow));
        var entries = await Read(pending, ct);
        if (entries.Count == 0) return 0;
        var positions = new long[entries.Count];
        var seqs = new long[entries.Count];
        var prevs = new string[entries.Count];
        var hashes = new string[entries.Count];
        var macs = new string[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            positions[i] = ++position;
            seqs[i] = entries[i].Sequence;
            prevs[i] = previous;
            hashes[i] = previous = HashOf(entries[i], position, previous);
            macs[i] = signing.Sign(position, previous);
        }
        await using (var insert = new NpgsqlCommand($"""
            INSERT INTO {AuditSchema.Seal} (position, seq, prev_hash, hash, mac) SELECT * FROM unnest(@positions, @seqs, @prevs, @hashes, @macs)
            """, connection, tx))
        {
            insert.Parameters.AddWithValue("positions", positions);
            insert.Parameters.AddWithValue("seqs", seqs);
            insert.Parameters.AddWithValue("prevs", prevs);
            insert.Parameters.AddWithValue("hashes", hashes);
            insert.Parameters.AddWithValue("macs", macs);
            await insert.ExecuteNonQueryAsync(ct);
        }
        long since;
        await using (var first = new NpgsqlCommand($"SELECT min(position) FROM {AuditSchema.Seal} WHERE mac IS NOT NULL", connection, tx))
            since = (long)(await first.ExecuteScalarAsync(ct))!;
        // The head moves on only over the chain it signed: if the seal it names is gone or has another hash, the chain
        // was cut or rewritten, and the head stays where it is so that verification keeps naming that.
        var (head, _) = signing.ReadHead();
        var headHolds = head is null;
        if (head is not null)
            await using (var atHead = new NpgsqlCommand($"SELECT hash FROM {AuditSchema.Seal} WHERE position = @p", connection, tx))
            {
                atHead.Parameters.AddWithValue("p", head.Position);
                headHolds = await atHead.ExecuteScalarAsync(ct) is string hash && hash == head.Hash;
            }
        await tx.CommitAsync(ct);
        if (headHolds) signing.WriteHead(position, previous, head?.Since ?? since, DateTimeOffset.UtcNow);
        return entries.Count;
    }

    /// <param name="patient">Only records naming this patient (exactly: one whole entry of a record's list).</param>
    public async Task<IReadOnlyList<AccessLogEntry>> QueryAsync(string practice, string? patient, string? user, int limit, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = new NpgsqlCommand($"""
            SELECT {Columns}, (SELECT hash FROM {AuditSchema.Seal} s WHERE s.seq = l.seq) FROM {AuditSchema.Log} l
            WHERE practice = @practice AND (@patient::text IS NULL OR string_to_array(patient, ',') @> ARRAY[@patient::text])
              AND (@user::text IS NULL OR user_id = @user) ORDER BY seq LIMIT @limit
            """, connection);
        command.Parameters.AddWithValue("practice", practice);
        command.Parameters.AddWithValue("patient", patient is null ? DBNull.Value : PatientList.Write(patient));
        command.Parameters.AddWithValue("user", (object?)Clean(user, MaxText) ?? DBNull.Value);
        command.Parameters.AddWithValue("limit", limit);
        return await Read(command, ct);
    }

    /// <summary>The first break, or null when the log is intact (see <see cref="CheckAsync"/>).</summary>
    public async Task<AccessLogBreak?> VerifyAsync(TimeSpan? grace = null, CancellationToken ct = default) => (await CheckAsync(grace, ct)).Break;

    /// <summary>
    /// Recomputes the chain from the first seal and names the first record where it breaks: a seal out of position, a
    /// sealed record that is gone or whose fields no longer give its hash, a seal whose signature does not match (the
    /// chain was recomputed by someone without the key), a seal without a signature where one is due, a chain shorter
    /// than or different from the signed head kept outside the database, or a record older than
    /// <paramref name="grace"/> (5 minutes) that has no seal. Reads the log as a stream: memory stays flat.
    /// </summary>
    public async Task<AccessLogVerification> CheckAsync(TimeSpan? grace = null, CancellationToken ct = default)
    {
        var at = DateTimeOffset.UtcNow;
        var (head, headProblem) = signing.ReadHead();
        await using var connection = await OpenAsync(ct);
        long checkedSeals = 0;
        long? signedFrom = null;
        string? hashAtHead = null;
        AccessLogVerification Broken(long? seq, string problem) => new(at, checkedSeals, signedFrom, head, new AccessLogBreak(seq, problem));
        await using (var command = new NpgsqlCommand($"""
            SELECT s.position, s.seq, s.hash, s.mac, l.seq IS NOT NULL, {string.Join(", ", Columns.Split(", ").Select(c => "l." + c))}
            FROM {AuditSchema.Seal} s LEFT JOIN {AuditSchema.Log} l ON l.seq = s.seq ORDER BY s.position
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            var previous = "";
            long expected = 1;
            while (await reader.ReadAsync(ct))
            {
                var (position, seq, hash, mac) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3));
                if (position != expected) return Broken(seq, $"seal {expected} is missing");
                if (!reader.GetBoolean(4)) return Broken(seq, "record removed");
                if (HashOf(Entry(reader, 5), position, previous) != hash) return Broken(seq, "record changed");
                if (mac is not null)
                {
                    signedFrom ??= position;
                    if (!signing.IsSigned(position, hash, mac)) return Broken(seq, "record changed (the chain was recomputed: its seal's signature does not match)");
                }
                else if (signedFrom is not null || position >= (head?.Since ?? long.MaxValue))
                    return Broken(seq, "seal not signed (a signature was removed)");
                if (position == head?.Position) hashAtHead = hash;
                previous = hash;
                expected++;
                checkedSeals++;
            }
        }
        if (headProblem is not null) return Broken(null, headProblem);
        if (head is not null && checkedSeals < head.Position)
            return Broken(null, $"records removed: the signed head names seal {head.Position} of {head.At:u}, the log ends at seal {checkedSeals}");
        if (head is not null && hashAtHead != head.Hash)
            return Broken(null, $"the chain differs from the signed head at seal {head.Position}");
        await using var unsealed = new NpgsqlCommand($"""
            SELECT min(seq) FROM {AuditSchema.Log} l WHERE at < now() - @grace AND NOT EXISTS (SELECT 1 FROM {AuditSchema.Seal} s WHERE s.seq = l.seq)
            """, connection);
        unsealed.Parameters.AddWithValue("grace", grace ?? TimeSpan.FromMinutes(5));
        return await unsealed.ExecuteScalarAsync(ct) is long first ? Broken(first, "record not sealed") : new(at, checkedSeals, signedFrom, head, null);
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    private static async Task<List<AccessLogEntry>> Read(NpgsqlCommand command, CancellationToken ct)
    {
        var result = new List<AccessLogEntry>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result.Add(Entry(reader, 0) with { Hash = reader.FieldCount > 15 && !reader.IsDBNull(15) ? reader.GetString(15) : null });
        return result;
    }

    private static AccessLogEntry Entry(NpgsqlDataReader reader, int o)
    {
        string? Text(int i) => reader.IsDBNull(o + i) ? null : reader.GetString(o + i);
        bool? Flag(int i) => reader.IsDBNull(o + i) ? null : reader.GetBoolean(o + i);
        return new AccessLogEntry(reader.GetInt64(o), reader.GetFieldValue<DateTimeOffset>(o + 1), reader.GetString(o + 2), reader.GetString(o + 3),
            Text(4), Text(5), Text(6), Text(7), Text(8), reader.GetString(o + 9), reader.GetBoolean(o + 10), Flag(11), Flag(12),
            reader.GetBoolean(o + 13), reader.GetInt32(o + 14));
    }

    private static DateTimeOffset Second(DateTimeOffset at) => new(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);

    /// <summary>
    /// The chain's SHA-256 of a record at <paramref name="position"/> after <paramref name="previous"/>. Anyone can compute
    /// it — which is why each seal is also signed with a key the database never sees.
    /// </summary>
    public static string ChainHash(AccessLogEntry e, long position, string previous) => HashOf(e, position, previous);

    private static string HashOf(AccessLogEntry e, long position, string previous)
    {
        var text = string.Join('\u001f', previous, position.ToString(CultureInfo.InvariantCulture), e.Sequence.ToString(CultureInfo.InvariantCulture),
            e.At.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), e.Action, e.EventType, e.Patient, e.Object,
            e.User, e.OnBehalfOf, e.Practice, e.AccessPoint, e.Authorised, e.TreatmentRelation, e.Consent, e.Emergency, e.Status);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}

/// <summary>Seals the access log every second (and once more on the way down), on every host; one at a time seals.</summary>
public sealed class AccessLogSealer(AccessLogStore log, ILogger<AccessLogSealer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await SealQuietly(stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
        await SealQuietly(CancellationToken.None);
    }

    private async Task SealQuietly(CancellationToken ct)
    {
        try
        {
            while (await log.SealAsync(ct) == 5000) { }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // The database is away; the records are safe in it and are sealed once it is back.
            logger.LogWarning("Sealing the access log failed ({ExceptionType}); retrying in a second", e.GetType().Name);
        }
    }
}
