using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Quality;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using Wolverine.Http;

namespace KbPathways.Host.Api;

/// <summary>A patient on a yearly-review list: where they are, when last discussed, by when next, and the step that records it.</summary>
public sealed record ReviewPatient(string PatientId, Guid TrajectoryId, string Pathway, string State, string StateLabel, DateTimeOffset? LastReviewed,
    DateTimeOffset DueBy, bool Reviewed, string? ReviewTrigger);

/// <summary>One huisarts's list: how many of their patients were discussed within the period, and whether the review is done.</summary>
public sealed record ReviewList(string Huisarts, int Reviewed, int Total, bool Done, IReadOnlyList<ReviewPatient> Patients);

public sealed record YearlyReviewView(DateTimeOffset At, IReadOnlyList<ReviewList> Lists);

/// <summary>
/// GET /api/jaarbespreking: seed 000's yearly review, "doorloopt minimaal 1 x per jaar het HIS m.b.v. zoekopdracht en
/// bespreekt deze met betreffende huisarts": the running trajectories of pathways with a <c>yearlyReview</c>, one list per
/// eigen huisarts (optionally only <c>huisarts=</c>), patients not yet discussed first.
/// </summary>
public static class YearlyReviewEndpoints
{
    /// <summary>The list of patients whose own GP was never recorded.</summary>
    public const string NoGp = "Geen eigen huisarts vastgelegd";

    [WolverineGet("/api/jaarbespreking")]
    public static async Task<YearlyReviewView> Get(CurrentUser user, QualityService service, BusinessClock clock, string? huisarts, HttpContext http,
        CancellationToken ct)
    {
        var data = await service.LoadAsync(user.Practice, ct);
        var now = clock.Now;
        var summaries = data.Summaries.ToDictionary(s => s.Id);
        var lists = QualityReport.YearlyReview(data.Rows, data.Definition, now)
            .GroupBy(e => string.IsNullOrWhiteSpace(e.Group) ? NoGp : e.Group.Trim(), StringComparer.OrdinalIgnoreCase)
            .Where(g => string.IsNullOrEmpty(huisarts) || string.Equals(g.Key, huisarts.Trim(), StringComparison.OrdinalIgnoreCase))
            .OrderBy(g => g.Key == NoGp).ThenBy(g => g.Key, StringComparer.OrdinalIgnoreCase)
            .Select(g => new ReviewList(g.Key, g.Count(e => e.Reviewed), g.Count(), g.All(e => e.Reviewed),
                [.. g.OrderBy(e => e.Reviewed).ThenBy(e => e.DueBy).Select(e => View(e, summaries[e.TrajectoryId], data))]))
            .ToList();
        AccessLog.AccessLogMiddleware.Names(http, lists.SelectMany(l => l.Patients).Select(p => p.PatientId));
        return new YearlyReviewView(now, lists);
    }

    private static ReviewPatient View(ReviewEntry e, TrajectorySummary summary, PracticeData data)
    {
        var definition = data.Definition(summary.DefinitionHash);
        var state = definition?.FindState(summary.State);
        return new ReviewPatient(e.PatientId, e.TrajectoryId, e.PathwayId, summary.State, state?.Label ?? summary.State, e.LastReviewed, e.DueBy, e.Reviewed,
            definition is { YearlyReview: { } rule } && state is not null ? ReviewStep(definition, state, rule)?.Trigger : null);
    }

    /// <summary>The step open in <paramref name="state"/> that records the review (tagged as the rule's <c>reviewed</c>, taking no required data).</summary>
    private static TransitionDefinition? ReviewStep(PathwayDefinition definition, StateDefinition state, YearlyReviewRule rule) =>
        definition.Tracks.First(t => t.Name == state.Track).TransitionsFrom(state)
            .FirstOrDefault(t => t.Indicators.Contains(rule.Reviewed) && t.Requires.Count == 0);
}
