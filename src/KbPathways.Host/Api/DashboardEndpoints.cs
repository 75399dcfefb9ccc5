using KbPathways.Domain.Pathways.Model;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using Marten;
using Wolverine.Http;

namespace KbPathways.Host.Api;

public sealed record WorkItem(Guid TrajectoryId, string PatientId, string Pathway, string Track, string State, string Owner,
    string? NextDeadline, DateTimeOffset? DueAt, bool DueSoon);

public sealed record StateCount(string Pathway, string State, int Count, bool InZorg);

public sealed record Dashboard(DateTimeOffset At, int Active, int Completed, IReadOnlyList<StateCount> States, IReadOnlyList<WorkItem> Overdue);

/// <summary>
/// The worklist (GET /api/worklist) and the practice dashboard (GET /api/dashboard), derived from the trajectory
/// summaries that are written in the same transaction as the events.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>[A] a deadline within this window counts as "due soon" on the worklist.</summary>
    public static readonly TimeSpan DueSoonWindow = TimeSpan.FromDays(7);

    [WolverineGet("/api/worklist")]
    public static async Task<IReadOnlyList<WorkItem>> Worklist(CurrentUser user, IDocumentStore store, TrajectoryService trajectories,
        BusinessClock clock, CancellationToken ct)
    {
        var items = await Items(user.Practice, store, trajectories, clock, ct);
        return [.. items.Where(i => user.Roles.Contains(i.Owner)).OrderBy(i => i.DueAt ?? DateTimeOffset.MaxValue)];
    }

    [WolverineGet("/api/dashboard")]
    public static async Task<Dashboard> Get(CurrentUser user, IDocumentStore store, TrajectoryService trajectories, QualityOptions quality,
        BusinessClock clock, CancellationToken ct)
    {
        user.RequireOneOf(quality.Roles, "dashboards");
        await using var session = store.QuerySession();
        var all = await session.Query<TrajectorySummary>().Where(t => t.Practice == user.Practice).ToListAsync(ct);
        var states = new List<StateCount>();
        foreach (var group in all.Where(t => !t.Completed).GroupBy(t => (t.PathwayId, t.State, t.DefinitionHash)))
        {
            var definition = await trajectories.Definitions.ResolveAsync(session, group.Key.DefinitionHash, ct);
            states.Add(new StateCount(group.Key.PathwayId, group.Key.State, group.Count(), definition?.FindState(group.Key.State)?.InZorg == true));
        }
        var merged = states.GroupBy(s => (s.Pathway, s.State)).Select(g => g.First() with { Count = g.Sum(s => s.Count) })
            .OrderBy(s => s.Pathway, StringComparer.Ordinal).ThenBy(s => s.State, StringComparer.Ordinal).ToList();
        var overdue = (await Items(user.Practice, store, trajectories, clock, ct)).Where(i => i.DueAt <= clock.Now).OrderBy(i => i.DueAt).ToList();
        return new Dashboard(clock.Now, all.Count(t => !t.Completed), all.Count(t => t.Completed), merged, overdue);
    }

    /// <summary>One item per open trajectory and track whose current state has an owner, with its next deadline.</summary>
    private static async Task<List<WorkItem>> Items(string practice, IDocumentStore store, TrajectoryService trajectories, BusinessClock clock,
        CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var open = await session.Query<TrajectorySummary>().Where(t => t.Practice == practice && !t.Completed).ToListAsync(ct);
        var items = new List<WorkItem>();
        foreach (var t in open)
        {
            if (await trajectories.Definitions.ResolveAsync(session, t.DefinitionHash, ct) is not { } definition) continue;
            foreach (var track in definition.Tracks)
            {
                var stateName = track.Name == PathwayDefinition.MainTrack ? t.State : t.Tracks.GetValueOrDefault(track.Name);
                if (track.States.FirstOrDefault(s => s.Name == stateName) is not { Owner: { } owner } state) continue;
                var next = t.Deadlines.Where(d => d.Track == track.Name).MinBy(d => d.DueAt);
                items.Add(new WorkItem(t.Id, t.PatientId, t.PathwayId, track.Name, state.Name, owner, next?.Name, next?.DueAt,
                    next is not null && next.DueAt <= clock.Now + DueSoonWindow));
            }
        }
        return items;
    }
}
