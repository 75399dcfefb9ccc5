using System.Text.Json;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Host.Api;

public sealed record StartTrajectoryRequest(string? PatientId, string? Pathway, Dictionary<string, JsonElement>? Data);

public sealed record FireRequest(string? Trigger, Dictionary<string, JsonElement>? Data, int? ExpectedVersion);

public sealed record DeadlineView(string Name, string Trigger, string Track, DateTimeOffset DueAt);

public sealed record TrajectoryView(
    Guid Id,
    string PatientId,
    string Pathway,
    int DefinitionVersion,
    string DefinitionHash,
    string State,
    IReadOnlyDictionary<string, string> Tracks,
    int StreamVersion,
    IReadOnlyList<string> PermittedTriggers,
    IReadOnlyList<DeadlineView> Deadlines,
    bool Completed,
    string? Outcome)
{
    public static TrajectoryView Of(Trajectory t, PathwayDefinition definition, IReadOnlySet<string> roles) => new(
        t.Id, t.PatientId, t.PathwayId, t.DefinitionVersion, t.DefinitionHash, t.State,
        new SortedDictionary<string, string>(t.Tracks), t.Version,
        TrajectoryDecider.PermittedTriggers(t, definition, roles),
        [.. t.Deadlines.OrderBy(d => d.DueAt).Select(d => new DeadlineView(d.Name, d.Trigger, d.Track, d.DueAt))],
        t.Completed, t.Outcome);
}

public sealed record ActorView(string User, string Role);

public sealed record HistoryEntry(
    int Version,
    string Type,
    DateTimeOffset Time,
    ActorView? Actor,
    string? Trigger,
    string? Track,
    string? From,
    string? To,
    IReadOnlyDictionary<string, JsonElement>? Data,
    object? Decision,
    IReadOnlyList<RaisedWarning>? Warnings,
    int DefinitionVersion,
    string DefinitionHash);

public sealed record PathwaySummary(string Id, int Version, string Title, string Hash);

public sealed record PathwayDetail(
    string Id, int Version, string Title, string? Description, string Hash, string? Practice,
    IReadOnlyList<string> Roles, IReadOnlyList<string> States, IReadOnlyDictionary<string, string> Settings, string Mermaid);

public sealed record PagedList<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);

/// <summary>The paging of list routes: page 1 and up (any page past the last is empty), 50 items by default, at most 200.</summary>
public static class Paging
{
    public const int MaxPageSize = 200;

    public static (int Number, int Size) Of(int? page, int? pageSize) => (Math.Max(page ?? 1, 1), Math.Clamp(pageSize ?? 50, 1, MaxPageSize));

    /// <summary>Whether the page starts past the last item (in 64 bits: page 2147483647 of 200 is far past any list).</summary>
    public static bool Beyond(int number, int size, int total) => (long)(number - 1) * size >= total;
}
