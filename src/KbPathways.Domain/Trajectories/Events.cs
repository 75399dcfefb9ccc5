using System.Text.Json;
using KbPathways.Domain.Pathways.Engine;

namespace KbPathways.Domain.Trajectories;

/// <summary>Who acted, and in which of their roles. Deadlines act as <see cref="System"/>.</summary>
public sealed record Actor(string UserId, string Role)
{
    public static readonly Actor System = new("system", "systeem");
}

/// <summary>A patient starts on one version of a pathway; the hash names exactly which rules.</summary>
public sealed record TrajectoryStarted(
    Guid TrajectoryId,
    string PatientId,
    string Practice,
    string PathwayId,
    int DefinitionVersion,
    string DefinitionHash,
    IReadOnlyDictionary<string, string> Tracks,
    IReadOnlyDictionary<string, JsonElement> Data,
    Actor Actor,
    DateTimeOffset StartedAt);

public enum StepKind { Transition, Reentry, Internal }

/// <summary>
/// One step on one track, with everything needed to explain it later: the actor and role, the data given,
/// instrument scores, the guard comparisons that decided it, warnings raised, the deadline that fired it (if any),
/// the quality indicators the step counts for under its definition, the decisions it recorded (owner and due date), and
/// the list of the yearly review it put the patient on (<see cref="ReviewGroup"/>: the value of the pathway's
/// <c>yearlyReview.per</c> field, e.g. the patient's own GP, when the step recorded it), and which of the fields the
/// pathway's in beeld rule names it recorded (<see cref="Tracked"/>; null when none). <see cref="Resets"/>: the counters the
/// step set back to 0 before its increments (its own <c>resets</c>, and those of the state it entered).
/// <see cref="AssignedTo"/>: the user the step assigned its track to (<c>assign: self</c>), "" when it released it, null
/// when it left the assignment as it was.
/// </summary>
public sealed record StepTaken(
    Guid TrajectoryId,
    string Trigger,
    string Track,
    string From,
    string To,
    StepKind Kind,
    Actor Actor,
    IReadOnlyDictionary<string, JsonElement> Data,
    IReadOnlyDictionary<string, InstrumentScore> Scores,
    IReadOnlyList<GuardTrace> Decision,
    IReadOnlyList<RaisedWarning> Warnings,
    IReadOnlyList<string> Increments,
    string? Deadline,
    int DefinitionVersion,
    string DefinitionHash,
    DateTimeOffset At,
    IReadOnlyList<string>? Indicators = null,
    IReadOnlyList<DecisionDue>? Decisions = null,
    string? ReviewGroup = null,
    IReadOnlyList<string>? Tracked = null,
    IReadOnlyList<string>? Resets = null,
    string? AssignedTo = null);

public sealed record RaisedWarning(string Code, string Message);

/// <summary>
/// A decision the step recorded (a <c>decisions</c> field: an MDO or casusoverleg): its number in the record, the role
/// that owns it and the date it is due. What was decided stays in the step's (sealed) data.
/// </summary>
public sealed record DecisionDue(string Field, int Number, string Owner, DateOnly Due);

/// <summary>A timer armed on entering a state; a later one with the same name replaces it.</summary>
public sealed record DeadlineScheduled(
    Guid TrajectoryId,
    string Name,
    string Track,
    string State,
    string Trigger,
    DateTimeOffset DueAt,
    DateTimeOffset At);

/// <summary>The main track reached a final state; the trajectory is over.</summary>
public sealed record TrajectoryCompleted(Guid TrajectoryId, string FinalState, string? Outcome, DateTimeOffset At);

/// <summary>
/// The trajectory moved to another version of its pathway. <see cref="Tracks"/> holds each track's state under the new
/// version (mapped where a state was renamed); deadlines are armed afresh by the events that follow.
/// </summary>
public sealed record TrajectoryMigrated(
    Guid TrajectoryId,
    int FromVersion,
    string FromHash,
    int ToVersion,
    string ToHash,
    IReadOnlyDictionary<string, string> Tracks,
    Actor Actor,
    DateTimeOffset At);

/// <summary>The patient was erased: the trajectory is closed for good and its personal fields are unreadable.</summary>
public sealed record TrajectoryErased(Guid TrajectoryId, DateTimeOffset At);
