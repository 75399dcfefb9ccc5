using JasperFx;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Trajectories;
using KbPathways.Projections.Privacy;
using Marten;

namespace KbPathways.Projections;

public sealed class PatientOptions
{
    /// <summary>[A] the KB marking code (the "KB-ruiter"); confirm with the practice.</summary>
    public string KbCode { get; set; } = "A69.02";

    /// <summary>[A] who may place or remove the KB mark.</summary>
    public string[] MarkRoles { get; set; } = ["huisarts", "poh-kb"];

    /// <summary>[A] who may erase a patient's data (the GP is the responsible care provider under the WGBO).</summary>
    public string[] EraseRoles { get; set; } = ["huisarts"];

    /// <summary>How many patients' keys a host keeps in memory (<see cref="Privacy.PatientKeyRing"/>); the rest are read when needed.</summary>
    public int CachedKeys { get; set; } = Privacy.PatientKeyRing.DefaultCapacity;
}

/// <summary>What an erasure did: the pseudonym its record is kept under, and how many trajectories it closed.</summary>
public sealed record ErasureReceipt(Guid Pseudonym, int Trajectories, DateTimeOffset At);

/// <summary>
/// One stream per patient per practice: the KB mark (placed and removed with actor and reason) and every
/// instrument recorded in a pathway step. The stream id is the patient's pseudonym in that practice (see
/// <see cref="PatientKeyRing"/>), so practices never share a patient stream, and erasing the key unlinks it.
/// </summary>
public sealed class PatientService(IDocumentStore store, BusinessClock clock, PatientOptions options, PracticeChoices choices, PatientKeyRing keys)
{
    /// <summary>The patient as recorded, or an empty record when the practice has no key for them (never seen, or erased).</summary>
    public async Task<PatientRecord> LoadAsync(IQuerySession session, string practice, string patientId, CancellationToken ct = default)
    {
        var key = await keys.FindAsync(practice, patientId, ct);
        var record = key is null ? PatientRecord.Empty(Guid.Empty, practice, patientId) : await LoadAsync(session, key, ct);
        if (!record.Erased) return record;
        keys.Forget(record.StreamId); // erased on another host a moment ago: ask the database again
        return await LoadAsync(session, practice, patientId, ct);
    }

    private static async Task<PatientRecord> LoadAsync(IQuerySession session, PatientKey key, CancellationToken ct)
    {
        var events = await session.Events.FetchStreamAsync(key.Pseudonym, token: ct);
        return events.Select(e => e.Data).Aggregate(PatientRecord.Empty(key.Pseudonym, key.Practice, key.PatientId), PatientRecord.Evolve);
    }

    /// <param name="inTransaction">Called with the command's session just before it commits (e.g. to add the request's
    /// access-log record), only when there is something to commit.</param>
    public Task<PatientRecord> PlaceMarkAsync(string practice, string patientId, Caller caller, string? code, string? reason,
        Action<IDocumentSession>? inTransaction = null, CancellationToken ct = default) =>
        Decide(practice, PatientIds.Require(patientId), state => PatientDecider.PlaceMark(state, caller, choices.MarkRoles(practice),
            string.IsNullOrWhiteSpace(code) ? choices.KbCode(practice) : code, reason, clock.Now), inTransaction, ct);

    public Task<PatientRecord> RemoveMarkAsync(string practice, string patientId, Caller caller, string? reason,
        Action<IDocumentSession>? inTransaction = null, CancellationToken ct = default) =>
        Decide(practice, PatientIds.Require(patientId), state => PatientDecider.RemoveMark(state, caller, choices.MarkRoles(practice), reason, clock.Now),
            inTransaction, ct);

    private async Task<PatientRecord> Decide(string practice, string patientId, Func<PatientRecord, IReadOnlyList<object>> decide,
        Action<IDocumentSession>? inTransaction, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var state = await LoadAsync(session, practice, patientId, ct);
            var events = decide(state);
            if (events.Count == 0) return state;
            if (state.StreamId == Guid.Empty)
            {
                // A first record of this patient: only now (the command is accepted) is their key made.
                var key = await keys.GetOrCreateAsync(practice, patientId, ct);
                state = await LoadAsync(session, key, ct);
                events = decide(state);
                if (events.Count == 0) return state;
            }
            var after = events.Aggregate(state, PatientRecord.Evolve);
            session.Events.Append(state.StreamId, after.Version, events.ToArray());
            var marks = events.Aggregate(await session.LoadAsync<PatientMarks>(state.StreamId, ct), PatientMarks.Apply);
            if (marks is not null) session.Store(marks);
            inTransaction?.Invoke(session);
            try
            {
                await session.SaveChangesAsync(ct);
                return after;
            }
            catch (Exception e) when (StreamConflict.Is(e) && attempt < 3)
            {
            }
        }
    }

    /// <summary>
    /// Destroys the patient's key, closes each of their trajectories with <see cref="TrajectoryErased"/> (at the
    /// version last seen, so a step racing the erasure loses) and removes every projection that names them, in one
    /// transaction. What stays: their events, sealed and now unreadable, and one <see cref="PatientErased"/> record
    /// under the pseudonym.
    /// </summary>
    public async Task<ErasureReceipt> EraseAsync(string practice, string patientId, Caller caller, Action<IDocumentSession>? inTransaction = null,
        CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var key = await keys.FindAsync(practice, patientId, ct) ?? throw new NotFoundException();
            await using var session = store.LightweightSession();
            await session.BeginTransactionAsync(ct);
            // Holding the key row: a trajectory start for this patient waits for us, then finds no key.
            await using (var lockKey = new Npgsql.NpgsqlCommand(keys.LockSql, session.Connection) { Parameters = { new() { Value = key.Pseudonym } } })
                if (await lockKey.ExecuteScalarAsync(ct) is null) { keys.Forget(key.Pseudonym); continue; }
            var state = await LoadAsync(session, key, ct);
            var summaries = await session.Query<TrajectorySummary>().Where(t => t.Practice == practice && t.PatientId == patientId).ToListAsync(ct);
            var now = clock.Now;
            var events = PatientDecider.Erase(state, caller, options.EraseRoles.ToHashSet(), summaries.Count, now);
            session.Events.Append(key.Pseudonym, state.Version + events.Count, events.ToArray());
            foreach (var summary in summaries)
            {
                session.Events.Append(summary.Id, summary.Version + 1, new TrajectoryErased(summary.Id, now));
                session.Delete<TrajectorySummary>(summary.Id);
            }
            var ids = summaries.Select(t => (Guid?)t.Id).ToArray();
            if (ids.Length > 0) session.DeleteWhere<IdempotencyRecord>(r => r.TrajectoryId.IsOneOf(ids));
            session.Delete<PatientMarks>(key.Pseudonym);
            foreach (var (sql, parameters) in keys.EraseCommands(key)) session.QueueSqlCommand(sql, parameters);
            inTransaction?.Invoke(session);
            try
            {
                await session.SaveChangesAsync(ct);
            }
            catch (Exception e) when (StreamConflict.Is(e) && attempt < 3)
            {
                continue;
            }
            keys.Forget(key.Pseudonym);
            return new ErasureReceipt(key.Pseudonym, summaries.Count, now);
        }
    }

    /// <summary>
    /// What a command's steps put on the patient's stream (<paramref name="key"/>), in the step's transaction: the
    /// instruments they recorded, and the KB mark a step with <c>kbMark:</c> placed or removed (read from the stream first,
    /// so the mark is recorded once; the append then expects that version, so a racing mark makes one of the two retry).
    /// </summary>
    internal static async Task RecordFromStepsAsync(IDocumentSession session, PatientKey key, Trajectory state, PathwayDefinition definition,
        IReadOnlyList<object> events, CancellationToken ct)
    {
        var streamId = key.Pseudonym;
        var recorded = new List<object>();
        foreach (var step in events.OfType<StepTaken>())
            foreach (var (name, answers) in step.Data.Where(d => definition.FindInstrument(d.Key) is not null))
                recorded.Add(new ObservationRecorded(streamId, state.PatientId, state.Practice, name, answers,
                    step.Scores.GetValueOrDefault(name), state.Id, state.PathwayId, step.Actor, step.At));
        var marking = events.OfType<StepTaken>().Select(step => (Step: step, Transition: TransitionOf(definition, step)))
            .Where(x => x.Transition is { KbMark: not KbMarkAction.None }).ToList();
        if (marking.Count == 0)
        {
            if (recorded.Count > 0) session.Events.Append(streamId, recorded.ToArray());
            return;
        }
        var patient = await LoadAsync(session, key, ct);
        var before = patient.Version;
        var marks = await session.LoadAsync<PatientMarks>(streamId, ct);
        foreach (var (step, transition) in marking)
        {
            var code = step.Data.TryGetValue(TransitionDefinition.KbCodeField, out var value) && value.ValueKind == System.Text.Json.JsonValueKind.String
                ? value.GetString() : null;
            var changes = PatientDecider.FromStep(patient, transition!.KbMark, code, $"{definition.Title}: {transition.Label}", step.Actor, step.At);
            patient = changes.Aggregate(patient, PatientRecord.Evolve);
            marks = changes.Aggregate(marks, PatientMarks.Apply);
            recorded.AddRange(changes);
        }
        if (recorded.Count > 0) session.Events.Append(streamId, before + recorded.Count, recorded.ToArray());
        if (marks is not null) session.Store(marks);
    }

    private static TransitionDefinition? TransitionOf(PathwayDefinition definition, StepTaken step) =>
        definition.TrackOf(step.Trigger) is { } track && track.FindState(step.From) is { } from ? track.TransitionFrom(from, step.Trigger) : null;
}
