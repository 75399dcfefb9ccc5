using System.Text.Json;
using KbPathways.Domain.Pathways.Engine;

namespace KbPathways.Domain.Trajectories;

/// <summary>The authenticated person acting: their id and every role their token grants.</summary>
public sealed record Caller(string UserId, IReadOnlySet<string> Roles);

public sealed record StartTrajectory(
    Guid TrajectoryId,
    string PatientId,
    string Practice,
    Caller Caller,
    IReadOnlyDictionary<string, JsonElement> Data);

public sealed record FireTrigger(
    string Trigger,
    Caller Caller,
    IReadOnlyDictionary<string, JsonElement> Data,
    int? ExpectedVersion = null);

/// <summary>A deadline's alarm rang; it only acts when that deadline is still armed and due.</summary>
public sealed record DeadlineDue(string Name, string Track, DateTimeOffset DueAt);

public enum RejectionKind { Forbidden, NotPermitted, InvalidData, GuardFailed, VersionConflict }

/// <summary>The one domain exception: a command broke a pathway rule; nothing was decided.</summary>
public sealed class PathwayRuleException(
    RejectionKind kind,
    string message,
    IReadOnlyList<FieldError>? fieldErrors = null,
    IReadOnlyList<string>? permittedTriggers = null) : Exception(message)
{
    public RejectionKind Kind { get; } = kind;
    public IReadOnlyList<FieldError> FieldErrors { get; } = fieldErrors ?? [];
    public IReadOnlyList<string> PermittedTriggers { get; } = permittedTriggers ?? [];
}
