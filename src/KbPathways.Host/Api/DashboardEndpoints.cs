using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Quality;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using Wolverine.Http;

namespace KbPathways.Host.Api;

public sealed record WorkItem(Guid TrajectoryId, string PatientId, string Pathway, string Track, string State, string Owner,
    string? NextDeadline, DateTimeOffset? DueAt, bool DueSoon);

public sealed record StateCount(string Pathway, string State, string Label, int Count, bool InZorg);

/// <summary>Mean CVG at the start and at the latest measurement, over the open trajectories measured at least twice.</summary>
public sealed record CvgChange(decimal? Start, decimal? Latest, int Trajectories);

/// <summary>A patient on the MDO list: an MDO step is open to them now; with their last MDO and the next deadline.</summary>
public sealed record MdoItem(Guid TrajectoryId, string PatientId, string Pathway, string State, DateTimeOffset? LastMdo, string? NextDeadline, DateTimeOffset? DueAt);

/// <summary>The practice's dashboard. <see cref="Overdue"/> lists the <see cref="DashboardEndpoints.ListLimit"/> most overdue
/// of <see cref="OverdueCount"/>; the worklist has them all.</summary>
public sealed record Dashboard(DateTimeOffset At, int InBeeld, int InZorg, int Active, int Completed, IReadOnlyList<StateCount> States,
    int OverdueCount, IReadOnlyList<WorkItem> Overdue, IReadOnlyList<WorkItem> OpenHandovers, CvgChange Cvg, IReadOnlyList<MdoItem> MdoList);

/// <summary>
/// The worklist (GET /api/worklist) and the practice KB-dashboard (GET /api/dashboard), derived from the trajectory
/// summaries that are written in the same transaction as the events, and from the KB marks.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>[A] a deadline within this window counts as "due soon" on the worklist.</summary>
    public static readonly TimeSpan DueSoonWindow = TimeSpan.FromDays(7);

    /// <summary>The dashboard shows at most this many overdue items (most overdue first), with the total.</summary>
    public const int ListLimit = 100;

    /// <summary>Your open items, soonest deadline first (those without one last), a page at a time (50 by default, at most 200).</summary>
    [WolverineGet("/api/worklist")]
    public static async Task<PagedList<WorkItem>> Worklist(CurrentUser user, QualityService service, BusinessClock clock, int? page, int? pageSize,
        HttpContext http, CancellationToken ct)
    {
        var data = await service.LoadAsync(user.Practice, ct, openOnly: true);
        var mine = Items(data, clock.Now).Where(i => user.Roles.Contains(i.Item.Owner)).Select(i => i.Item)
            .OrderBy(i => i.DueAt ?? DateTimeOffset.MaxValue).ThenBy(i => i.TrajectoryId).ThenBy(i => i.Track, StringComparer.Ordinal).ToList();
        var size = Math.Clamp(pageSize ?? 50, 1, ListTrajectoriesEndpoint.MaxPageSize);
        var number = Math.Max(page ?? 1, 1);
        var items = mine.Skip((number - 1) * size).Take(size).ToList();
        AccessLog.AccessLogMiddleware.Names(http, items.Select(i => i.PatientId));
        return new PagedList<WorkItem>(items, number, size, mine.Count);
    }

    [WolverineGet("/api/dashboard")]
    public static async Task<Dashboard> Get(CurrentUser user, QualityService service, QualityOptions quality, BusinessClock clock,
        HttpContext http, CancellationToken ct)
    {
        user.RequireOneOf(quality.Roles, "dashboards");
        var data = await service.LoadAsync(user.Practice, ct);
        var now = clock.Now;
        var open = data.Summaries.Where(t => !t.Completed).ToList();
        var states = open.GroupBy(t => (t.PathwayId, t.State))
            .Select(g => (g.Key, Count: g.Count(), State: data.Definition(g.First().DefinitionHash)?.FindState(g.Key.State)))
            .Select(g => new StateCount(g.Key.PathwayId, g.Key.State, g.State?.Label ?? g.Key.State, g.Count, g.State?.InZorg == true))
            .OrderBy(s => s.Pathway, StringComparer.Ordinal).ThenBy(s => s.State, StringComparer.Ordinal).ToList();
        var items = Items(data, now);
        var (inBeeld, inZorg) = QualityReport.CareStatus(data.Rows, data.Marks, data.Definition, now);
        var paired = QualityReport.Paired(data.Rows.Where(r => r.Facts.CompletedAt is null), service.Settings.CvgInstrument);
        var overdue = items.Where(i => i.Item.DueAt <= now).Select(i => i.Item).OrderBy(i => i.DueAt).ToList();
        var dashboard = new Dashboard(now, inBeeld.Count, inZorg.Count, open.Count, data.Summaries.Count - open.Count, states,
            overdue.Count, [.. overdue.Take(ListLimit)],
            [.. items.Where(i => i.State.Indicators.Contains(QualityReport.OpenHandover)).Select(i => i.Item)],
            new CvgChange(Mean(paired.Select(p => p.First.Total)), Mean(paired.Select(p => p.Last.Total)), paired.Count),
            MdoList(data));
        AccessLog.AccessLogMiddleware.Names(http, dashboard.Overdue.Select(i => i.PatientId)
            .Concat(dashboard.OpenHandovers.Select(i => i.PatientId)).Concat(dashboard.MdoList.Select(i => i.PatientId)));
        return dashboard;
    }

    /// <summary>
    /// The MDO list: open trajectories whose current state offers a step tagged <c>mdo</c>, soonest deadline first,
    /// with the date of their last MDO.
    /// </summary>
    private static List<MdoItem> MdoList(PracticeData data) =>
        [.. data.Summaries.Where(t => !t.Completed)
            .Where(t => data.Definition(t.DefinitionHash) is { } d && d.FindState(t.State) is { } state
                        && d.Tracks.First(track => track.Name == state.Track).TransitionsFrom(state).Any(x => x.Indicators.Contains(QualityReport.Mdo)))
            .Select(t => (t, Next: t.Deadlines.MinBy(d => d.DueAt)))
            .Select(x => new MdoItem(x.t.Id, x.t.PatientId, x.t.PathwayId, x.t.State,
                x.t.Facts?.Marks.LastOrDefault(m => m.Indicator == QualityReport.Mdo)?.At, x.Next?.Name, x.Next?.DueAt))
            .OrderBy(i => i.DueAt ?? DateTimeOffset.MaxValue)];

    private static decimal? Mean(IEnumerable<decimal> values) => values.Any() ? Math.Round(values.Average(), 2) : null;

    /// <summary>One item per open trajectory and track whose current state has an owner, with its next deadline.</summary>
    private static List<(WorkItem Item, StateDefinition State)> Items(PracticeData data, DateTimeOffset now)
    {
        var items = new List<(WorkItem, StateDefinition)>();
        foreach (var t in data.Summaries.Where(t => !t.Completed))
        {
            if (data.Definition(t.DefinitionHash) is not { } definition) continue;
            foreach (var track in definition.Tracks)
            {
                var stateName = track.Name == PathwayDefinition.MainTrack ? t.State : t.Tracks.GetValueOrDefault(track.Name);
                if (track.States.FirstOrDefault(s => s.Name == stateName) is not { Owner: { } owner } state) continue;
                var next = t.Deadlines.Where(d => d.Track == track.Name).MinBy(d => d.DueAt);
                items.Add((new WorkItem(t.Id, t.PatientId, t.PathwayId, track.Name, state.Name, owner, next?.Name, next?.DueAt,
                    next is not null && next.DueAt <= now + DueSoonWindow), state));
            }
        }
        return items;
    }
}
