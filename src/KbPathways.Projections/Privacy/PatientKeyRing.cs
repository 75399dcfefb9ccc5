using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace KbPathways.Projections.Privacy;

/// <summary>
/// A patient's key: the random <see cref="Pseudonym"/> that names the patient in the event store (it is the patient
/// stream's id and travels in clear with every sealed event), and the AES-256 key that seals their personal data.
/// </summary>
public sealed record PatientKey(Guid Pseudonym, string Practice, string PatientId, byte[] Key)
{
    private const int NonceSize = 12, TagSize = 16;

    /// <summary>AES-GCM; the associated data binds the ciphertext to what it was sealed for (event type and stream).</summary>
    public byte[] Seal(ReadOnlySpan<byte> plain, ReadOnlySpan<byte> associated)
    {
        var sealedBytes = new byte[NonceSize + TagSize + plain.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(Key, TagSize);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), associated);
        return sealedBytes;
    }

    public byte[] Open(ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> associated)
    {
        var plain = new byte[sealedBytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(Key, TagSize);
        aes.Decrypt(sealedBytes[..NonceSize], sealedBytes[(NonceSize + TagSize)..], sealedBytes.Slice(NonceSize, TagSize), plain, associated);
        return plain;
    }
}

/// <summary>
/// The only place a patient id is kept next to its pseudonym and key: one row per patient per practice. Erasing a
/// patient deletes the row, which makes every sealed event of theirs unreadable (crypto-shredding); the events
/// themselves are never changed. Keys are cached in memory (a bounded number, see the constructor); an erasure evicts
/// them here and, through <see cref="ErasureChannel"/>, on every other host.
/// </summary>
public sealed class PatientKeyRing : IDisposable
{
    public const string ErasureChannel = "kbpathways_erasure";
    public const int DefaultCapacity = 100_000;
    private readonly NpgsqlDataSource dataSource;
    private readonly string table;
    private readonly string requireProcedure;
    private readonly string events;
    private readonly GenerationalCache<(string Practice, string PatientId), PatientKey> byPatient;
    private readonly GenerationalCache<Guid, PatientKey?> byPseudonym;
    private readonly GenerationalCache<Guid, Guid> trajectories;
    private readonly string schemaName;
    private Task? schemaReady;
    private long synchronousLookups;
    private long forgotten; // how many times keys were forgotten (see Remember)

    /// <param name="capacity">How many patients' keys to keep in memory (and as many trajectory bindings); about
    /// 360 bytes each. What is not in memory is read from the database.</param>
    public PatientKeyRing(string connectionString, string schemaName, int capacity = DefaultCapacity)
    {
        byPatient = new(capacity);
        byPseudonym = new(capacity);
        trajectories = new(capacity);
        dataSource = NpgsqlDataSource.Create(connectionString);
        table = $"{schemaName}.patient_keys";
        requireProcedure = $"{schemaName}.require_patient_key";
        events = $"{schemaName}.mt_events";
        this.schemaName = schemaName;
    }

    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>The patient's key, made (with a fresh pseudonym) on first use.</summary>
    public async Task<PatientKey> GetOrCreateAsync(string practice, string patientId, CancellationToken ct = default)
    {
        if (byPatient.TryGetValue((practice, patientId), out var cached)) return cached;
        var since = Interlocked.Read(ref forgotten);
        await EnsureTableAsync();
        while (true)
        {
            // Inserts, or (when the row is there) reads it; empty only when a concurrent insert committed in between.
            await using var command = dataSource.CreateCommand(
                $"""
                 WITH made AS (INSERT INTO {table} (practice, patient_id, pseudonym, key) VALUES ($1, $2, $3, $4)
                               ON CONFLICT (practice, patient_id) DO NOTHING RETURNING pseudonym, key)
                 SELECT pseudonym, key FROM made UNION ALL SELECT pseudonym, key FROM {table} WHERE practice = $1 AND patient_id = $2
                 """);
            command.Parameters.Add(new NpgsqlParameter { Value = practice });
            command.Parameters.Add(new NpgsqlParameter { Value = patientId });
            command.Parameters.Add(new NpgsqlParameter { Value = Guid.NewGuid() });
            command.Parameters.Add(new NpgsqlParameter { Value = RandomNumberGenerator.GetBytes(32) });
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct)) return Remember(new PatientKey(reader.GetGuid(0), practice, patientId, (byte[])reader[1]), since);
        }
    }

    /// <summary>Keys for many patients in one round trip (an import, a benchmark's seeding), made where missing.</summary>
    public async Task GetOrCreateManyAsync(IReadOnlyCollection<(string Practice, string PatientId)> patients, CancellationToken ct = default)
    {
        var missing = patients.Where(p => !byPatient.ContainsKey(p)).Distinct().ToArray();
        if (missing.Length == 0) return;
        var since = Interlocked.Read(ref forgotten);
        await EnsureTableAsync();
        await using var command = dataSource.CreateCommand(
            $"""
             WITH wanted AS (SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::bytea[]) AS w(practice, patient_id, pseudonym, key)),
                  made AS (INSERT INTO {table} (practice, patient_id, pseudonym, key) SELECT * FROM wanted
                           ON CONFLICT (practice, patient_id) DO NOTHING RETURNING practice, patient_id, pseudonym, key)
             SELECT * FROM made UNION ALL
             SELECT k.practice, k.patient_id, k.pseudonym, k.key FROM {table} k JOIN wanted w USING (practice, patient_id)
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = missing.Select(p => p.Practice).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = missing.Select(p => p.PatientId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = missing.Select(_ => Guid.NewGuid()).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = missing.Select(_ => RandomNumberGenerator.GetBytes(32)).ToArray() });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            Remember(new PatientKey(reader.GetGuid(2), reader.GetString(0), reader.GetString(1), (byte[])reader[3]), since);
    }

    /// <summary>The patient's key, or null when the practice has never recorded the patient or erased them.</summary>
    public async Task<PatientKey?> FindAsync(string practice, string patientId, CancellationToken ct = default)
    {
        if (byPatient.TryGetValue((practice, patientId), out var cached)) return cached;
        var since = Interlocked.Read(ref forgotten);
        await EnsureTableAsync();
        await using var command = dataSource.CreateCommand($"SELECT pseudonym, key FROM {table} WHERE practice = $1 AND patient_id = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = practice });
        command.Parameters.Add(new NpgsqlParameter { Value = patientId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Remember(new PatientKey(reader.GetGuid(0), practice, patientId, (byte[])reader[1]), since) : null;
    }

    /// <summary>For the serializer, which cannot wait: normally answered from memory (the services load keys first).</summary>
    public PatientKey GetOrCreate(string practice, string patientId)
    {
        if (byPatient.TryGetValue((practice, patientId), out var cached)) return cached;
        Interlocked.Increment(ref synchronousLookups);
        return GetOrCreateAsync(practice, patientId).GetAwaiter().GetResult();
    }

    /// <summary>The key a sealed event names, or null once the patient is erased.</summary>
    public PatientKey? ByPseudonym(Guid pseudonym)
    {
        if (byPseudonym.TryGetValue(pseudonym, out var cached)) return cached;
        var since = Interlocked.Read(ref forgotten);
        Interlocked.Increment(ref synchronousLookups);
        EnsureTableAsync().GetAwaiter().GetResult();
        using var command = dataSource.CreateCommand($"SELECT practice, patient_id, key FROM {table} WHERE pseudonym = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = pseudonym });
        using var reader = command.ExecuteReader();
        if (reader.Read()) return Remember(new PatientKey(pseudonym, reader.GetString(0), reader.GetString(1), (byte[])reader[2]), since);
        // A key row commits before any event that names it, and pseudonyms are never reused: absent means erased.
        byPseudonym.Set(pseudonym, null);
        return null;
    }

    /// <summary>
    /// Brings the keys that <paramref name="pseudonyms"/> name into memory, in one round trip for those not there yet:
    /// a replay calls it before opening a page of events, instead of one lookup per patient (a rebuild in a fresh
    /// process made 136,000 of them). As in <see cref="ByPseudonym"/>, a pseudonym without a row is an erased patient's.
    /// </summary>
    public void Load(IEnumerable<Guid> pseudonyms)
    {
        var missing = pseudonyms.Where(p => !byPseudonym.ContainsKey(p)).Distinct().ToArray();
        if (missing.Length == 0) return;
        var since = Interlocked.Read(ref forgotten);
        EnsureTableAsync().GetAwaiter().GetResult();
        using var command = dataSource.CreateCommand($"SELECT pseudonym, practice, patient_id, key FROM {table} WHERE pseudonym = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = missing });
        var found = new HashSet<Guid>();
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                found.Add(Remember(new PatientKey(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), (byte[])reader[3]), since).Pseudonym);
        // Only what the database does not have is erased; a key found just now may already have left a small cache.
        foreach (var pseudonym in missing)
            if (!found.Contains(pseudonym)) byPseudonym.Set(pseudonym, null);
    }

    /// <summary>The key of the patient a trajectory belongs to (its first event names the pseudonym).</summary>
    public PatientKey ForTrajectory(Guid trajectoryId)
    {
        if (!trajectories.TryGetValue(trajectoryId, out var pseudonym))
        {
            Interlocked.Increment(ref synchronousLookups);
            using var command = dataSource.CreateCommand($"SELECT data -> 'Sealed' ->> 'Key' FROM {events} WHERE stream_id = $1 AND version = 1");
            command.Parameters.Add(new NpgsqlParameter { Value = trajectoryId });
            pseudonym = command.ExecuteScalar() is string text ? Guid.Parse(text)
                : throw new InvalidOperationException($"trajectory {trajectoryId} has no sealed start event");
        }
        return ByPseudonym(pseudonym) ?? throw new ErasedPatientException();
    }

    /// <summary>
    /// Brings the key of the patient a trajectory belongs to into memory without blocking a thread, in one round trip
    /// when it is not there: the services call it before they read or write the trajectory's sealed events, whose
    /// serializer can only look a key up synchronously (after a restart, every request would otherwise hold a pool
    /// thread through one or two lookups). Null for an unknown trajectory and for an erased patient's.
    /// </summary>
    public async ValueTask<PatientKey?> LoadForTrajectoryAsync(Guid trajectoryId, CancellationToken ct = default)
    {
        if (trajectories.TryGetValue(trajectoryId, out var known) && byPseudonym.TryGetValue(known, out var cached)) return cached;
        var since = Interlocked.Read(ref forgotten);
        await EnsureTableAsync();
        await using var command = dataSource.CreateCommand(
            $"""
             SELECT s.pseudonym, k.practice, k.patient_id, k.key
             FROM (SELECT (data -> 'Sealed' ->> 'Key')::uuid AS pseudonym FROM {events} WHERE stream_id = $1 AND version = 1) s
             LEFT JOIN {table} k ON k.pseudonym = s.pseudonym
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = trajectoryId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct) || reader.IsDBNull(0)) return null; // no such trajectory (or not a sealed one)
        var pseudonym = reader.GetGuid(0);
        Bind(trajectoryId, pseudonym);
        if (!reader.IsDBNull(1)) return Remember(new PatientKey(pseudonym, reader.GetString(1), reader.GetString(2), (byte[])reader[3]), since);
        byPseudonym.Set(pseudonym, null); // as in ByPseudonym: absent means erased
        return null;
    }

    /// <summary>
    /// How many times a key was looked up synchronously (by the serializer, or <see cref="ForTrajectory"/>) because it
    /// was not in memory; each blocked a thread for a round trip. The services load keys first, so this stays low.
    /// </summary>
    public long SynchronousLookups => Interlocked.Read(ref synchronousLookups);

    /// <summary>How many patients' keys (or erasures) are in memory now.</summary>
    public int CachedKeys => byPseudonym.Count;

    public void Bind(Guid trajectoryId, Guid pseudonym) => trajectories.Set(trajectoryId, pseudonym);

    /// <summary>Locks the key row of pseudonym $1 for the erasing transaction; no row when it is already gone.</summary>
    public string LockSql => $"SELECT 1 FROM {table} WHERE pseudonym = $1 FOR UPDATE";

    /// <summary>
    /// For a command that starts a trajectory: holds the key row until the command commits (so an erasure waits for
    /// it and then sees the new trajectory), and fails the transaction when the key is gone (erased meanwhile).
    /// </summary>
    /// <remarks>
    /// A procedure <c>CALL</c>, because it answers with no result set: a statement queued in a Marten session must not,
    /// or the operations after it in the batch read its answer as theirs (an inline projection's upsert failed with
    /// "Reading as 'System.Int64' is not supported for fields having DataTypeName 'uuid'" after the earlier
    /// <c>SELECT 1 / count(*)</c> form; ProjectionBesideTheLibraryTests).
    /// </remarks>
    public (string Sql, object[] Parameters) RequireCommand(PatientKey key) => ($"CALL {requireProcedure}(?)", [key.Pseudonym]);

    /// <summary>Whether a save failed because <see cref="RequireCommand"/> found the key gone.</summary>
    public static bool IsMissingKey(Exception e) =>
        e is PostgresException { SqlState: MissingKey } || e.InnerException is PostgresException { SqlState: MissingKey };

    private const string MissingKey = PostgresErrorCodes.NoDataFound;

    /// <summary>The statements that destroy the key, for the erasing transaction; hosts hear of it when it commits.</summary>
    public IEnumerable<(string Sql, object[] Parameters)> EraseCommands(PatientKey key) =>
    [
        ($"DELETE FROM {table} WHERE pseudonym = ?", [key.Pseudonym]),
        // (NOTIFY, not SELECT pg_notify: no result set in a Marten batch; see RequireCommand. A Guid needs no quoting.)
        ($"NOTIFY {ErasureChannel}, '{key.Pseudonym:D}'", []),
    ];

    /// <summary>Drops a pseudonym's key from memory (after an erasure here or on another host).</summary>
    public void Forget(Guid pseudonym)
    {
        Interlocked.Increment(ref forgotten);
        if (byPseudonym.Remove(pseudonym, out var key) && key is not null) byPatient.Remove((key.Practice, key.PatientId), out _);
        foreach (var (trajectory, owner) in trajectories.Entries)
            if (owner == pseudonym) trajectories.Remove(trajectory, out _);
    }

    /// <summary>Forgets everything: after a lost connection to the erasure channel, nothing cached can be trusted.</summary>
    public void ForgetAll()
    {
        Interlocked.Increment(ref forgotten);
        byPatient.Clear();
        byPseudonym.Clear();
        trajectories.Clear();
    }

    /// <summary>
    /// Caches a key read from the database since <paramref name="since"/> (the count of forgettings when the lookup
    /// began), unless a key was forgotten meanwhile: an erasure that committed after the row was read, and whose
    /// notification was handled before this, would otherwise leave the erased key in memory. It is set first and
    /// checked after, so that a forgetting either shows in the check or comes after the set and removes it.
    /// </summary>
    private PatientKey Remember(PatientKey key, long since)
    {
        byPatient.Set((key.Practice, key.PatientId), key);
        byPseudonym.Set(key.Pseudonym, key);
        if (Interlocked.Read(ref forgotten) != since)
        {
            byPseudonym.Remove(key.Pseudonym, out _);
            byPatient.Remove((key.Practice, key.PatientId), out _);
        }
        return key;
    }

    /// <summary>Creates the table once per process (again after a failed attempt, e.g. while the database was down).</summary>
    private Task EnsureTableAsync()
    {
        var ready = schemaReady;
        if (ready is null || ready.IsFaulted || ready.IsCanceled) schemaReady = ready = CreateTableAsync();
        return ready;
    }

    private async Task CreateTableAsync()
    {
        await using var command = dataSource.CreateCommand(
            $"""
             SELECT pg_advisory_xact_lock(7514);
             CREATE SCHEMA IF NOT EXISTS {schemaName};
             CREATE TABLE IF NOT EXISTS {table} (
               practice text NOT NULL, patient_id text NOT NULL, pseudonym uuid NOT NULL UNIQUE, key bytea NOT NULL,
               created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (practice, patient_id));
             CREATE OR REPLACE PROCEDURE {requireProcedure}(p uuid) LANGUAGE plpgsql AS $$
             BEGIN
               PERFORM 1 FROM {table} WHERE pseudonym = p FOR KEY SHARE;
               IF NOT FOUND THEN RAISE EXCEPTION 'the patient''s key is gone' USING ERRCODE = '{MissingKey}'; END IF;
             END $$;
             """);
        await command.ExecuteNonQueryAsync();
    }

    public void Dispose() => dataSource.Dispose();

    internal static byte[] Associated(string eventType, Guid pseudonym) => Encoding.UTF8.GetBytes($"{eventType}\n{pseudonym}");
}

/// <summary>A command reached a patient whose key was destroyed.</summary>
public sealed class ErasedPatientException : Exception;
