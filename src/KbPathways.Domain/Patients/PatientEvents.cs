using System.Text.Json;
using KbPathways.Domain.Pathways.Engine;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Domain.Patients;

/// <summary>The patient is marked as a KB patient (the "KB-ruiter"), with a practice-configurable code.</summary>
public sealed record KbMarkPlaced(Guid StreamId, string PatientId, string Practice, string Code, string Reason, Actor Actor, DateTimeOffset At);

public sealed record KbMarkRemoved(Guid StreamId, string PatientId, string Practice, string Reason, Actor Actor, DateTimeOffset At);

/// <summary>An instrument (CVG, GFI, 4D sheet …) recorded in a pathway step, kept on the patient too.</summary>
public sealed record ObservationRecorded(
    Guid StreamId, string PatientId, string Practice, string Instrument, JsonElement Answers, InstrumentScore? Score,
    Guid TrajectoryId, string PathwayId, Actor Actor, DateTimeOffset At);

/// <summary>
/// The patient's data was destroyed at their request (AVG art. 17, WGBO art. 7:455): their key is gone, so every
/// sealed field of theirs is unreadable. This record names only the pseudonym (the stream id), the practice, how many
/// trajectories were closed, who erased and when.
/// </summary>
public sealed record PatientErased(Guid StreamId, string Practice, int Trajectories, Actor Actor, DateTimeOffset At);

public sealed record Observation(string Instrument, decimal? Total, Guid TrajectoryId, string PathwayId, DateTimeOffset At);

/// <summary>One change of the KB mark: placed (with its code) or removed, why, by whom, when.</summary>
public sealed record MarkChange(bool Placed, string? Code, string Reason, Actor Actor, DateTimeOffset At);

/// <summary>One patient in one practice: the KB mark and the latest observation per instrument, from events only.</summary>
public sealed record PatientRecord(
    Guid StreamId, string PatientId, string Practice, bool KbMarked, string? KbCode, DateTimeOffset? MarkedAt,
    IReadOnlyDictionary<string, Observation> Latest, IReadOnlyDictionary<string, Observation> First, int Version, bool Erased = false,
    IReadOnlyList<MarkChange>? MarkHistory = null)
{
    /// <summary>Every change of the KB mark, oldest first.</summary>
    public IReadOnlyList<MarkChange> Marks => MarkHistory ?? [];

    /// <param name="streamId">The patient's pseudonym in this practice (the same patient id in two practices is two patients).</param>
    public static PatientRecord Empty(Guid streamId, string practice, string patientId) =>
        new(streamId, patientId, practice, false, null, null,
            new Dictionary<string, Observation>(), new Dictionary<string, Observation>(), 0);

    public static PatientRecord Evolve(PatientRecord state, object @event) => (@event switch
    {
        KbMarkPlaced e => state with { KbMarked = true, KbCode = e.Code, MarkedAt = e.At, MarkHistory = [.. state.Marks, new MarkChange(true, e.Code, e.Reason, e.Actor, e.At)] },
        KbMarkRemoved e => state with { KbMarked = false, KbCode = null, MarkedAt = null, MarkHistory = [.. state.Marks, new MarkChange(false, null, e.Reason, e.Actor, e.At)] },
        PatientErased => state with { Erased = true },
        ObservationRecorded e => Observe(state, new Observation(e.Instrument, e.Score?.Total, e.TrajectoryId, e.PathwayId, e.At)),
        _ => state,
    }) with { Version = state.Version + 1 };

    private static PatientRecord Observe(PatientRecord state, Observation o) => state with
    {
        Latest = new Dictionary<string, Observation>(state.Latest) { [o.Instrument] = o },
        First = state.First.ContainsKey(o.Instrument) ? state.First : new Dictionary<string, Observation>(state.First) { [o.Instrument] = o },
    };
}

public static class PatientDecider
{
    public static IReadOnlyList<object> PlaceMark(PatientRecord state, Caller caller, IReadOnlySet<string> allowedRoles, string code, string? reason, DateTimeOffset now)
    {
        var role = Authorise(caller, allowedRoles, "place the KB mark");
        if (string.IsNullOrWhiteSpace(reason)) throw Missing("reason");
        if (state.KbMarked) return []; // already marked: nothing to record
        return [new KbMarkPlaced(state.StreamId, state.PatientId, state.Practice, code, reason, new Actor(caller.UserId, role), now)];
    }

    public static IReadOnlyList<object> RemoveMark(PatientRecord state, Caller caller, IReadOnlySet<string> allowedRoles, string? reason, DateTimeOffset now)
    {
        var role = Authorise(caller, allowedRoles, "remove the KB mark");
        if (string.IsNullOrWhiteSpace(reason)) throw Missing("reason");
        if (!state.KbMarked) throw new PathwayRuleException(RejectionKind.NotPermitted, "the patient has no KB mark");
        return [new KbMarkRemoved(state.StreamId, state.PatientId, state.Practice, reason, new Actor(caller.UserId, role), now)];
    }

    /// <summary>
    /// A pathway step that places or removes the KB mark (<c>kbMark:</c>): the step's own roles allowed it, so there is no
    /// second check here. Placing a mark that is there, or removing one that is not, records nothing: the mark is
    /// recorded once on the patient, however many steps or calls say so.
    /// </summary>
    public static IReadOnlyList<object> FromStep(PatientRecord state, KbMarkAction action, string? code, string reason, Actor actor, DateTimeOffset at) =>
        action switch
        {
            KbMarkAction.Place when !state.KbMarked && !string.IsNullOrWhiteSpace(code) =>
                [new KbMarkPlaced(state.StreamId, state.PatientId, state.Practice, code, reason, actor, at)],
            KbMarkAction.Remove when state.KbMarked => [new KbMarkRemoved(state.StreamId, state.PatientId, state.Practice, reason, actor, at)],
            _ => [],
        };

    /// <summary>Erasure is final; the caller's role must be allowed to destroy patient data.</summary>
    public static IReadOnlyList<object> Erase(PatientRecord state, Caller caller, IReadOnlySet<string> allowedRoles, int trajectories, DateTimeOffset now)
    {
        var role = Authorise(caller, allowedRoles, "erase a patient");
        return [new PatientErased(state.StreamId, state.Practice, trajectories, new Actor(caller.UserId, role), now)];
    }

    private static string Authorise(Caller caller, IReadOnlySet<string> allowed, string what) =>
        allowed.FirstOrDefault(caller.Roles.Contains)
        ?? throw new PathwayRuleException(RejectionKind.Forbidden, $"your role may not {what}; allowed: {string.Join(", ", allowed)}");

    private static PathwayRuleException Missing(string field) =>
        new(RejectionKind.InvalidData, $"{field} is required", [new FieldError(field, "is required")]);
}
