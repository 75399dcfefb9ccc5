using System.Runtime.CompilerServices;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Quality;
using KbPathways.Domain.Trajectories;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using Wolverine.Http;

namespace KbPathways.Host.Api;

/// <summary>
/// An open item of work, with labels to show: a trajectory's track whose state <see cref="Owner"/> (a role) must act on, or
/// (<see cref="Decision"/>) a besluit of the latest MDO or casusoverleg that <see cref="Owner"/> owns, due at the end of its date.
/// <see cref="AssignedTo"/>: the user the track's work is assigned to (then it is theirs, not every holder of the role's).
/// </summary>
public sealed record WorkItem(Guid TrajectoryId, string PatientId, string Pathway, string Track, string State, string Owner,
    string? NextDeadline, DateTimeOffset? DueAt, bool DueSoon, string PathwayTitle = "", string StateLabel = "", string? DeadlineLabel = null,
    bool Decision = false, string? AssignedTo = null);

public sealed record StateCount(string Pathway, string State, string Label, int Count);

/// <summary>Mean CVG at the start and at the latest measurement, over the open trajectories measured at least twice.</summary>
public sealed record CvgChange(decimal? Start, decimal? Latest, int Trajectories);

/// <summary>A patient on the MDO list: an MDO step is open to them now; with their last MDO and the next deadline.</summary>
public sealed record MdoItem(Guid TrajectoryId, string PatientId, string Pathway, string State, DateTimeOffset? LastMdo, string? NextDeadline, DateTimeOffset? DueAt,
    string StateLabel = "", string? DeadlineLabel = null);

/// <summary>The practice's dashboard. <see cref="Overdue"/> lists the <see cref="DashboardEndpoints.ListLimit"/> most overdue
/// of <see cref="OverdueCount"/>; the worklist has them all.
/// <see cref="InBeeldMeaning"/> and <see cref="InZorgMeaning"/> say, in Dutch, what the practice's pathways count as in beeld
/// and in zorg (their <c>careStatus</c>, seed 000).</summary>
public sealed record Dashboard(DateTimeOffset At, int InBeeld, int InZorg, int Active, int Completed, IReadOnlyList<StateCount> States,
    int OverdueCount, IReadOnlyList<WorkItem> Overdue, IReadOnlyList<WorkItem> OpenHandovers, CvgChange Cvg, IReadOnlyList<MdoItem> MdoList,
    string? InBeeldMeaning = null, string? InZorgMeaning = null);

/// <summary>
/// The worklist (GET /api/worklist) and the practice KB-dashboard (GET /api/dashboard), derived from the trajectory
/// summaries that are written in the same transaction as the events, and from the KB marks.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>The dashboard shows at most this many overdue items (most overdue first), with the total.</summary>
    public const int ListLimit = 100;

    /// <summary>
    /// Your open items (<c>scope=alles</c>: the whole practice's), optionally of one pathway and state: overdue first, then
    /// soonest deadline (those without one last), a page at a time (50 by default, at most 200).
    /// </summary>
    [WolverineGet("/api/worklist")]
    public static async Task<PagedList<WorkItem>> Worklist(CurrentUser user, QualityService service, BusinessClock clock, PracticeChoices choices, int? page, int? pageSize,
        string? pathway, string? state, string? scope, HttpContext http, CancellationToken ct)
    {
        if (scope is not (null or "" or "mijn" or "alles"))
            throw new PathwayRuleException(RejectionKind.InvalidData, "scope is 'mijn' or 'alles'", [new("scope", "must be 'mijn' or 'alles'")]);
        var everyone = scope == "alles";
        var data = await service.LoadAsync(user.Practice, ct);
        // Mine: what is assigned to me, and what my roles own that is assigned to nobody.
        var mine = Open(data, service.Settings.Zone).SelectMany(c => c.Items)
            .Where(i => everyone || i.Item.AssignedTo == user.UserId || i.Item.AssignedTo is null && user.Roles.Contains(i.Item.Owner)).Select(i => i.Item)
            .Where(i => (string.IsNullOrEmpty(pathway) || i.Pathway == pathway) && (string.IsNullOrEmpty(state) || i.State == state))
            .OrderBy(i => i.DueAt ?? DateTimeOffset.MaxValue).ThenBy(i => i.TrajectoryId).ThenBy(i => i.Track, StringComparer.Ordinal).ToList();
        var (number, size) = Paging.Of(page, pageSize);
        var now = clock.Now;
        var items = Paging.Beyond(number, size, mine.Count) ? [] : mine.Skip((number - 1) * size).Take(size).Select(i => At(i, now, choices.DueSoon(user.Practice))).ToList();
        AccessLog.AccessLogMiddleware.Names(http, items.Select(i => i.PatientId));
        return new PagedList<WorkItem>(items, number, size, mine.Count);
    }

    [WolverineGet("/api/dashboard")]
    public static async Task<Dashboard> Get(CurrentUser user, QualityService service, QualityOptions quality, BusinessClock clock,
        PracticeChoices choices, PathwayCatalog catalog, HttpContext http, CancellationToken ct)
    {
        user.RequireOneOf(quality.Roles, "dashboards");
        var data = await service.LoadAsync(user.Practice, ct);
        var now = clock.Now;
        var open = Open(data, service.Settings.Zone);
        var states = open.GroupBy(c => (c.Summary.PathwayId, c.Summary.State))
            .Select(g => (g.Key, Count: g.Count(), g.First().State))
            .Select(g => new StateCount(g.Key.PathwayId, g.Key.State, g.State?.Label ?? g.Key.State, g.Count))
            .OrderBy(s => s.Pathway, StringComparer.Ordinal).ThenBy(s => s.State, StringComparer.Ordinal).ToList();
        var items = open.SelectMany(c => c.Items).ToList();
        var (inBeeld, inZorg) = QualityReport.CareStatus(data.Rows, data.Marks, data.Definition, now);
        var paired = QualityReport.Paired(data.Rows.Where(r => r.Facts.CompletedAt is null), service.Settings.CvgInstrument);
        var overdue = items.Where(i => i.Item.DueAt <= now).Select(i => i.Item).OrderBy(i => i.DueAt).ToList();
        var dueSoon = choices.DueSoon(user.Practice);
        var dashboard = new Dashboard(now, inBeeld.Count, inZorg.Count, open.Count, data.Summaries.Count - open.Count, states,
            overdue.Count, [.. overdue.Take(ListLimit).Select(i => At(i, now, dueSoon))],
            [.. items.Where(i => !i.Item.Decision && i.State.Indicators.Contains(QualityReport.OpenHandover)).Select(i => At(i.Item, now, dueSoon))],
            new CvgChange(Mean(paired.Select(p => p.First.Total)), Mean(paired.Select(p => p.Last.Total)), paired.Count),
            [.. open.Select(c => c.Mdo).OfType<MdoItem>().OrderBy(i => i.DueAt ?? DateTimeOffset.MaxValue)],
            Meaning(catalog, user.Practice, inBeeld: true), Meaning(catalog, user.Practice, inBeeld: false));
        AccessLog.AccessLogMiddleware.Names(http, dashboard.Overdue.Select(i => i.PatientId)
            .Concat(dashboard.OpenHandovers.Select(i => i.PatientId)).Concat(dashboard.MdoList.Select(i => i.PatientId)));
        return dashboard;
    }

    /// <summary>What the practice's current pathways with a <c>careStatus</c> count as in beeld or in zorg, in Dutch.</summary>
    private static string? Meaning(PathwayCatalog catalog, string practice, bool inBeeld)
    {
        var sentences = catalog.All.Select(d => d.Id).Distinct().Select(id => catalog.Current(practice, id))
            .Where(d => d?.CareStatus is not null).Select(d => Sentence(d!, d!.CareStatus!, inBeeld)).Distinct().ToList();
        return sentences.Count == 0 ? null : string.Join(" ", sentences);

        static string Sentence(PathwayDefinition d, CareStatusRule rule, bool inBeeld)
        {
            var text = inBeeld
                ? $"{List(rule.InBeeldRecorded.Select(f => (d.FindField(f)?.Label ?? f).ToLowerInvariant()).ToList())} vastgelegd."
                : (rule.InZorgMarked ? "ingekaart (KB-ruiter) en " : "") + $"contact met de POH-Kb in de laatste {Period(rule.ContactWithin)}.";
            return char.ToUpperInvariant(text[0]) + text[1..];
        }

        static string List(IReadOnlyList<string> items) => items.Count <= 1 ? string.Join("", items) : $"{string.Join(", ", items.SkipLast(1))} en {items[^1]}";
    }

    /// <summary>An ISO 8601 period in Dutch words: P6W "6 weken", P1M "1 maand".</summary>
    private static string Period(IsoPeriod p) => p.ToString() switch
    {
        var s when s.EndsWith('W') && int.TryParse(s[1..^1], out var w) => w == 1 ? "week" : $"{w} weken",
        var s when s.EndsWith('D') && int.TryParse(s[1..^1], out var d) => d == 1 ? "dag" : $"{d} dagen",
        var s when s.EndsWith('M') && !s.Contains('T') && int.TryParse(s[1..^1], out var m) => m == 1 ? "maand" : $"{m} maanden",
        var s => s,
    };

    private static decimal? Mean(IEnumerable<decimal> values) => values.Any() ? Math.Round(values.Average(), 2) : null;

    /// <summary>The item as shown now: "due soon" when its deadline falls within the practice's window (<see cref="PracticeChoices.DueSoon"/>).</summary>
    private static WorkItem At(WorkItem item, DateTimeOffset now, IsoPeriod dueSoon) => item with { DueSoon = item.DueAt is { } due && due <= dueSoon.AddTo(now) };

    /// <summary>
    /// What one open trajectory puts on the worklist and the dashboard: an item per track whose current state has an
    /// owner (with its next deadline; <see cref="WorkItem.DueSoon"/> is set when shown), the main state, and the MDO
    /// list entry when that state offers a step tagged <c>mdo</c> (with the last MDO).
    /// </summary>
    private sealed record Contribution(TrajectorySummary Summary, PathwayDefinition? Definition, StateDefinition? State,
        IReadOnlyList<(WorkItem Item, StateDefinition State)> Items, MdoItem? Mdo);

    /// <summary>
    /// Worked out once per summary and definition: a trajectory that changes is a new summary object in the practice's
    /// snapshot, so only changed trajectories are worked out again.
    /// </summary>
    private static readonly ConditionalWeakTable<TrajectorySummary, Contribution> Contributions = new();

    private static List<Contribution> Open(PracticeData data, TimeZoneInfo zone)
    {
        var open = new List<Contribution>();
        foreach (var t in data.Summaries)
        {
            if (t.Completed) continue;
            var definition = data.Definition(t.DefinitionHash);
            if (!Contributions.TryGetValue(t, out var known) || !ReferenceEquals(known.Definition, definition))
                Contributions.AddOrUpdate(t, known = Contribute(t, definition, zone));
            open.Add(known);
        }
        return open;
    }

    private static Contribution Contribute(TrajectorySummary t, PathwayDefinition? definition, TimeZoneInfo zone)
    {
        if (definition is null) return new Contribution(t, null, null, [], null); // its rules cannot be read: counted, nothing more
        var items = new List<(WorkItem, StateDefinition)>();
        foreach (var track in definition.Tracks)
        {
            var stateName = track.Name == PathwayDefinition.MainTrack ? t.State : t.Tracks.GetValueOrDefault(track.Name);
            if (stateName is null || definition.FindState(stateName) is not { Owner: { } owner } state || state.Track != track.Name) continue;
            var next = t.Deadlines.Where(d => d.Track == track.Name).MinBy(d => d.DueAt);
            items.Add((new WorkItem(t.Id, t.PatientId, t.PathwayId, track.Name, state.Name, owner, next?.Name, next?.DueAt, false, definition.Title,
                state.Label, next is null ? null : StepForms.DeadlineLabel(definition, state, next.Name), AssignedTo: t.Assignees?.GetValueOrDefault(track.Name)), state));
        }
        var main = definition.FindState(t.State);
        foreach (var decision in main is null ? [] : t.Facts?.Decisions ?? [])
        {
            // A besluit is due by the end of its date in the practice's time zone.
            var due = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(decision.Due.AddDays(1).ToDateTime(TimeOnly.MinValue), zone)).AddSeconds(-1);
            var step = definition.TrackOf(decision.Trigger)?.States.SelectMany(s => s.Transitions).Concat(definition.TrackOf(decision.Trigger)!.AnyState)
                .FirstOrDefault(x => x.Trigger == decision.Trigger)?.Label ?? decision.Trigger;
            items.Add((new WorkItem(t.Id, t.PatientId, t.PathwayId, PathwayDefinition.MainTrack, t.State, decision.Owner,
                $"{decision.Field}-{decision.Number}", due, false, definition.Title, main?.Label ?? t.State,
                $"Besluit {decision.Number} uit '{step}' ({decision.DecidedAt.ToOffset(zone.GetUtcOffset(decision.DecidedAt)):dd-MM-yyyy})", Decision: true), main!));
        }
        var offersMdo = main is not null && definition.Tracks.First(track => track.Name == main.Track).TransitionsFrom(main)
            .Any(x => x.Indicators.Contains(QualityReport.Mdo));
        var soonest = t.Deadlines.MinBy(d => d.DueAt);
        return new Contribution(t, definition, main, items, offersMdo
            ? new MdoItem(t.Id, t.PatientId, t.PathwayId, t.State, t.Facts?.Marks.LastOrDefault(m => m.Indicator == QualityReport.Mdo)?.At, soonest?.Name, soonest?.DueAt,
                main!.Label, soonest is null ? null : StepForms.DeadlineLabel(definition, definition.AllStates.FirstOrDefault(x => x.Name == t.Tracks.GetValueOrDefault(soonest.Track)), soonest.Name))
            : null);
    }
}
