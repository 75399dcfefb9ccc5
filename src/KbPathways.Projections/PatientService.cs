using JasperFx;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Trajectories;
using Marten;

namespace KbPathways.Projections;

public sealed class PatientOptions
{
    /// <summary>[A] the KB marking code (the "KB-ruiter"); confirm with the practice.</summary>
    public string KbCode { get; set; } = "A69.02";

    /// <summary>[A] who may place or remove the KB mark.</summary>
    public string[] MarkRoles { get; set; } = ["huisarts", "poh-kb"];
}

/// <summary>
/// One stream per patient per practice: the KB mark (placed and removed with actor and reason) and every
/// instrument recorded in a pathway step. The stream id is derived from practice + patient id, so practices never
/// share a patient stream.
/// </summary>
public sealed class PatientService(IDocumentStore store, BusinessClock clock, PatientOptions options)
{
    public async Task<PatientRecord> LoadAsync(IQuerySession session, string practice, string patientId, CancellationToken ct = default)
    {
        var empty = PatientRecord.Empty(practice, patientId);
        var events = await session.Events.FetchStreamAsync(empty.StreamId, token: ct);
        return events.Select(e => e.Data).Aggregate(empty, PatientRecord.Evolve);
    }

    public Task<PatientRecord> PlaceMarkAsync(string practice, string patientId, Caller caller, string? code, string? reason, CancellationToken ct = default) =>
        Decide(practice, patientId, state => PatientDecider.PlaceMark(state, caller, options.MarkRoles.ToHashSet(),
            string.IsNullOrWhiteSpace(code) ? options.KbCode : code, reason, clock.Now), ct);

    public Task<PatientRecord> RemoveMarkAsync(string practice, string patientId, Caller caller, string? reason, CancellationToken ct = default) =>
        Decide(practice, patientId, state => PatientDecider.RemoveMark(state, caller, options.MarkRoles.ToHashSet(), reason, clock.Now), ct);

    private async Task<PatientRecord> Decide(string practice, string patientId, Func<PatientRecord, IReadOnlyList<object>> decide, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var state = await LoadAsync(session, practice, patientId, ct);
            var events = decide(state);
            if (events.Count == 0) return state;
            var after = events.Aggregate(state, PatientRecord.Evolve);
            session.Events.Append(state.StreamId, after.Version, events.ToArray());
            var marks = events.Aggregate(await session.LoadAsync<PatientMarks>(state.StreamId, ct), PatientMarks.Apply);
            if (marks is not null) session.Store(marks);
            try
            {
                await session.SaveChangesAsync(ct);
                return after;
            }
            catch (ConcurrencyException) when (attempt < 3)
            {
            }
        }
    }

    /// <summary>Copies the instruments a step recorded onto the patient's stream, in the step's transaction.</summary>
    internal static void RecordObservations(IDocumentSession session, Trajectory state, PathwayDefinition definition, IEnumerable<object> events)
    {
        var streamId = PatientRecord.StreamIdFor(state.Practice, state.PatientId);
        foreach (var step in events.OfType<StepTaken>())
            foreach (var (name, answers) in step.Data.Where(d => definition.FindInstrument(d.Key) is not null))
                session.Events.Append(streamId, new ObservationRecorded(streamId, state.PatientId, state.Practice, name, answers,
                    step.Scores.GetValueOrDefault(name), state.Id, state.PathwayId, step.Actor, step.At));
    }
}
