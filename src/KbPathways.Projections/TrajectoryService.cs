using KbPathways.Domain.Patients;
using System.Text.Json;
using JasperFx;
using JasperFx.Events;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Trajectories;
using KbPathways.Projections.Privacy;
using Marten;

namespace KbPathways.Projections;

/// <summary>Per trajectory: where it is, where it would be (or is) under the target, or why it cannot move.</summary>
public sealed record MigrationOutcome(Guid TrajectoryId, string PatientId, int FromVersion, string FromState, string? ToState,
    bool CanMove, string? Refusal, [property: System.Text.Json.Serialization.JsonIgnore] IReadOnlyList<object> Events);

/// <summary>What a command produced: the trajectory after it, and the events it appended.</summary>
public sealed record CommandResult(Trajectory Trajectory, IReadOnlyList<object> Events);

/// <summary>
/// Work that must commit or fail together with a command's events (e.g. a host's deadline alarms in its outbox):
/// called with the command's session before it is saved, once per trajectory the command changes.
/// </summary>
public interface ICommandParticipant
{
    ValueTask EnlistAsync(IDocumentSession session, string practice, CommandResult result, CancellationToken ct);
}

/// <summary>
/// Runs Domain decisions against the Marten event store: load the stream, decide, append with an expected version
/// (so of two racing commands one loses, with nothing appended), and keep the summary document in the same
/// transaction. Every read and write is scoped to the caller's practice; another practice's trajectory is "not found".
/// </summary>
public sealed class TrajectoryService(IDocumentStore store, PathwayCatalog catalog, DefinitionRegistry definitions, BusinessClock clock,
    PatientKeyRing keys, TrajectoryStates states, IEnumerable<ICommandParticipant> participants)
{
    private const int RaceRetries = 3;

    public DefinitionRegistry Definitions => definitions;

    /// <summary>
    /// Moves the practice's running trajectories of <paramref name="target"/>'s pathway to it. A dry run decides
    /// everything and writes nothing; a real run stores the target and appends one migration per trajectory that can move.
    /// </summary>
    public async Task<IReadOnlyList<MigrationOutcome>> MigrateAsync(string practice, PathwayDefinition target,
        IReadOnlyDictionary<string, string> mapping, Actor actor, bool dryRun, CancellationToken ct = default)
    {
        var outcomes = new List<MigrationOutcome>();
        var moved = new List<Trajectory>();
        var epoch = states.Epoch;
        await using var session = store.LightweightSession();
        var running = await session.Query<TrajectorySummary>()
            .Where(t => t.Practice == practice && t.PathwayId == target.Id && !t.Completed && t.DefinitionHash != target.Hash).ToListAsync(ct);
        if (!dryRun) definitions.Register(session, target);
        foreach (var summary in running.OrderBy(t => t.StartedAt))
        {
            var state = await LoadAsync(session, practice, summary.Id, ct);
            if (state is null) continue;
            try
            {
                var events = Migration.Decide(state, target, mapping, actor, clock.Now);
                var after = events.Aggregate(state, Trajectory.Evolve);
                outcomes.Add(new MigrationOutcome(state.Id, state.PatientId, state.DefinitionVersion, state.State, after.State, true, null, events));
                if (dryRun) continue;
                Write(session, after, events);
                await EnlistAsync(session, practice, new CommandResult(after, events), ct);
                moved.Add(after);
            }
            catch (PathwayRuleException e)
            {
                outcomes.Add(new MigrationOutcome(state.Id, state.PatientId, state.DefinitionVersion, state.State, null, false,
                    string.Join("; ", e.FieldErrors.Select(f => f.Message).DefaultIfEmpty(e.Message)), []));
            }
        }
        if (dryRun) return outcomes;
        await session.SaveChangesAsync(ct);
        foreach (var after in moved) states.Remember(after, epoch);
        return outcomes;
    }

    /// <summary>
    /// The trajectory now, or as it was at stream <paramref name="version"/> or at time <paramref name="asOf"/>; null
    /// for another practice's and for an erased patient's (at any moment: their data is gone).
    /// </summary>
    public async Task<Trajectory?> LoadAsync(IQuerySession session, string practice, Guid id, CancellationToken ct = default,
        long version = 0, DateTimeOffset? asOf = null)
    {
        var events = await FetchAsync(session, id, ct, version, asOf);
        return IsReadable(events, practice) ? Trajectory.Replay(events.Select(e => e.Data)) : null;
    }

    /// <summary>
    /// A trajectory's events (up to <paramref name="version"/> or <paramref name="asOf"/>), its patient's key brought
    /// into memory first, asynchronously (<see cref="PatientKeyRing.LoadForTrajectoryAsync"/>). Check them with
    /// <see cref="IsReadable"/> before showing them.
    /// </summary>
    public async Task<IReadOnlyList<IEvent>> FetchAsync(IQuerySession session, Guid id, CancellationToken ct = default,
        long version = 0, DateTimeOffset? asOf = null)
    {
        await keys.LoadForTrajectoryAsync(id, ct);
        return await session.Events.FetchStreamAsync(id, version, asOf, token: ct);
    }

    /// <summary>Whether a fetched trajectory stream may be shown to <paramref name="practice"/>: its own, and not erased.</summary>
    public static bool IsReadable(IReadOnlyList<IEvent> events, string practice) =>
        events.Count > 0 && events[0].Data is TrajectoryStarted started && started.Practice == practice
        && started.PatientId != SealedEvents.ErasedPatientId && events[^1].Data is not TrajectoryErased;

    public async Task<CommandResult> StartAsync(string practice, Caller caller, string patientId, string pathwayId,
        IReadOnlyDictionary<string, JsonElement> data, Func<IDocumentSession, Trajectory, ValueTask>? inTransaction = null, CancellationToken ct = default)
    {
        PatientIds.Require(patientId);
        var definition = catalog.Current(practice, pathwayId) ?? throw new NotFoundException();
        var id = Guid.CreateVersion7();
        var events = TrajectoryDecider.Start(new StartTrajectory(id, patientId, practice, caller, data), definition, clock.Now);
        for (var attempt = 1; ; attempt++)
        {
            var key = await keys.GetOrCreateAsync(practice, patientId, ct);
            try
            {
                return await StartAsync(practice, pathwayId, id, key, events, inTransaction, ct);
            }
            catch (Exception e) when (attempt < 3 && PatientKeyRing.IsMissingKey(e))
            {
                keys.Forget(key.Pseudonym); // erased while this start was decided: the patient id is a new patient now
            }
        }
    }

    private async Task<CommandResult> StartAsync(string practice, string pathwayId, Guid id, PatientKey key, IReadOnlyList<object> events,
        Func<IDocumentSession, Trajectory, ValueTask>? inTransaction, CancellationToken ct)
    {
        var epoch = states.Epoch;
        await using var session = store.LightweightSession();
        var (requireKey, parameters) = keys.RequireCommand(key);
        session.QueueSqlCommand(requireKey, parameters);
        keys.Bind(id, key.Pseudonym);
        var trajectory = Trajectory.Replay(events);
        Write(session, trajectory, events, starts: true);
        var result = new CommandResult(trajectory, events);
        await EnlistAsync(session, practice, result, ct);
        if (inTransaction is not null) await inTransaction(session, trajectory);
        await session.SaveChangesAsync(ct);
        states.Remember(trajectory, epoch);
        EngineMetrics.Record(pathwayId, events);
        return result;
    }

    /// <summary>
    /// Fires a trigger. With <see cref="FireTrigger.ExpectedVersion"/> a lost race is a version conflict; without it
    /// the command is decided again on the fresh state (decisions are pure, so this is safe). The state this host last
    /// wrote is used when it has it (<see cref="TrajectoryStates"/>); anything but a commit is decided again on the stream.
    /// </summary>
    public async Task<CommandResult> FireAsync(string practice, Guid id, FireTrigger command,
        Func<IDocumentSession, Trajectory, ValueTask>? inTransaction = null, CancellationToken ct = default)
    {
        var trustMemory = true;
        for (var attempt = 1; ; )
        {
            var epoch = states.Epoch;
            await using var session = store.LightweightSession();
            var (state, remembered) = await StateAsync(session, practice, id, trustMemory, ct);
            if (state is null) throw new NotFoundException();
            trustMemory = false;
            var definition = await definitions.ResolveAsync(session, state.DefinitionHash, ct)
                ?? throw new InvalidOperationException($"definition {state.DefinitionHash[..12]} of {state.PathwayId} is not loaded");
            IReadOnlyList<object> events;
            try
            {
                events = TrajectoryDecider.Fire(command, state, definition, clock.Now);
            }
            catch (PathwayRuleException) when (remembered)
            {
                continue; // perhaps refused only because this host's state is behind: ask the stream
            }
            catch (PathwayRuleException e)
            {
                EngineMetrics.Rejected(state.PathwayId, e.Kind);
                throw;
            }
            var after = events.Aggregate(state, Trajectory.Evolve);
            try
            {
                Write(session, after, events);
                var key = await keys.LoadForTrajectoryAsync(id, ct) ?? throw new ErasedPatientException();
                await PatientService.RecordFromStepsAsync(session, key, state, definition, events, ct);
                var result = new CommandResult(after, events);
                await EnlistAsync(session, practice, result, ct);
                if (inTransaction is not null) await inTransaction(session, after);
                await session.SaveChangesAsync(ct);
                states.Remember(after, epoch);
                EngineMetrics.Record(state.PathwayId, events);
                return result;
            }
            catch (Exception e) when (NothingWritten(e) && remembered)
            {
                states.Forget(id);
            }
            catch (Exception e) when (StreamConflict.Is(e) && command.ExpectedVersion is null && attempt++ < RaceRetries)
            {
            }
            catch (Exception e) when (StreamConflict.Is(e))
            {
                throw new PathwayRuleException(RejectionKind.VersionConflict,
                    "the trajectory changed while this step was decided: reload it and try again");
            }
            catch (Exception e) when (Erased(e))
            {
                throw new NotFoundException(); // erased while this step was decided
            }
        }
    }

    /// <summary>
    /// A deadline's alarm rang. Acts only while that deadline is still armed and due (per the clock), so an early,
    /// late or repeated alarm has exactly one effect. Returns null when there was nothing to do.
    /// </summary>
    public async Task<CommandResult?> FireDeadlineAsync(string practice, Guid id, DeadlineDue due, CancellationToken ct = default)
    {
        var trustMemory = true;
        for (var attempt = 1; ; )
        {
            var epoch = states.Epoch;
            await using var session = store.LightweightSession();
            var (state, remembered) = await StateAsync(session, practice, id, trustMemory, ct);
            trustMemory = false;
            if (state is null || await definitions.ResolveAsync(session, state.DefinitionHash, ct) is not { } definition) return null;
            var events = TrajectoryDecider.FireDeadline(due, state, definition, clock.Now);
            if (events.Count == 0 && remembered) continue; // perhaps armed by a step this host has not seen: ask the stream
            if (events.Count == 0) return null;
            var after = events.Aggregate(state, Trajectory.Evolve);
            try
            {
                Write(session, after, events);
                var result = new CommandResult(after, events);
                await EnlistAsync(session, practice, result, ct);
                await session.SaveChangesAsync(ct);
                states.Remember(after, epoch);
                EngineMetrics.Record(state.PathwayId, events);
                return result;
            }
            catch (Exception e) when (NothingWritten(e) && remembered)
            {
                states.Forget(id);
            }
            catch (Exception e) when (StreamConflict.Is(e) && attempt++ < RaceRetries)
            {
                // Another node handled the same alarm (or a step raced it): decide again on the fresh state.
            }
        }
    }

    /// <summary>
    /// The one place a trajectory's events are written: appended at the version they lead to (a lost race is a stream
    /// conflict), with the summary of the state <see cref="Trajectory.Evolve"/> made of them stored beside them in the same
    /// transaction, so the summary is never behind its stream and never computed another way.
    /// </summary>
    private static void Write(IDocumentSession session, Trajectory after, IReadOnlyList<object> events, bool starts = false)
    {
        if (starts) session.Events.StartStream<Trajectory>(after.Id, events.ToArray());
        else session.Events.Append(after.Id, after.Version, events.ToArray());
        session.Store(TrajectorySummary.Of(after));
    }

    /// <summary>The state to decide on: the one this host last wrote when <paramref name="trustMemory"/>, else the stream's.</summary>
    private async Task<(Trajectory? State, bool Remembered)> StateAsync(IQuerySession session, string practice, Guid id, bool trustMemory,
        CancellationToken ct)
    {
        if (!trustMemory || states.Find(id) is not { } known || known.Practice != practice) return (await LoadAsync(session, practice, id, ct), false);
        await keys.LoadForTrajectoryAsync(id, ct); // for sealing what the command appends: the key may have left memory
        return (known, true);
    }

    /// <summary>Failures that certainly wrote nothing: a lost race on the stream, or the patient's key gone before the save.</summary>
    private static bool NothingWritten(Exception e) => StreamConflict.Is(e) || Erased(e);

    private static bool Erased(Exception e) => e is ErasedPatientException || e.InnerException is ErasedPatientException;

    private async ValueTask EnlistAsync(IDocumentSession session, string practice, CommandResult result, CancellationToken ct)
    {
        foreach (var participant in participants) await participant.EnlistAsync(session, practice, result, ct);
    }
}

/// <summary>Unknown id, or another practice's: callers cannot tell the two apart.</summary>
public sealed class NotFoundException : Exception;
