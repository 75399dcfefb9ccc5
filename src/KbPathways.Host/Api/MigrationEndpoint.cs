using KbPathways.Domain.Trajectories;
using KbPathways.Host.Hosting;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using Wolverine;
using Wolverine.Http;

namespace KbPathways.Host.Api;

/// <param name="DryRun">Default true: report the impact per patient and change nothing.</param>
/// <param name="Mapping">Old state name → new state name, for states the new version renamed or dropped.</param>
public sealed record MigrationRequest(string? Candidate, bool? DryRun, Dictionary<string, string>? Mapping);

public sealed record MigrationReport(string Pathway, int ToVersion, string ToHash, bool DryRun, int Total, int Movable, IReadOnlyList<MigrationOutcome> Items);

/// <summary>POST /api/migrations: move the practice's running trajectories of a pathway to a new version — dry run first.</summary>
public static class MigrationEndpoint
{
    [WolverinePost("/api/migrations")]
    public static async Task<MigrationReport> Post(MigrationRequest request, CurrentUser user, QualityOptions quality, PathwayCatalog catalog,
        TrajectoryService trajectories, HttpContext http, CancellationToken ct)
    {
        var role = user.RequireOneOf(quality.Roles, "migrations");
        request = Problems.Body(request);
        var target = Candidates.Load(request.Candidate, catalog);
        var dryRun = request.DryRun ?? true;
        var actor = new Actor(user.UserId, role);
        var outcomes = await trajectories.MigrateAsync(user.Practice, target, request.Mapping ?? [], actor, dryRun, ct);
        AccessLog.AccessLogMiddleware.Names(http, outcomes.Select(o => o.PatientId));
        if (!dryRun && outcomes.Any(o => o.CanMove)) AccessLog.AccessLogMiddleware.Changed(http);
        return new MigrationReport(target.Id, target.Version, target.Hash, dryRun, outcomes.Count, outcomes.Count(o => o.CanMove), outcomes);
    }
}
