using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Replay;
using KbPathways.Domain.Trajectories;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using Marten;
using Wolverine.Http;

namespace KbPathways.Host.Api;

public sealed class QualityOptions
{
    /// <summary>[A] who may run practice-wide reports such as what-if replays.</summary>
    public string[] Roles { get; set; } = ["praktijkmanager", "huisarts"];
}

/// <param name="Candidate">The candidate pathway as YAML: a whole pathway, or an overlay with <c>extends</c>.</param>
public sealed record WhatIfRequest(string? Candidate, string? State, DateTimeOffset? StartedFrom, DateTimeOffset? StartedTo);

/// <summary>
/// POST /api/whatif: re-runs the practice's trajectories of the candidate's pathway (optionally only those in a
/// state, or started in a period) against the candidate and reports what would differ. Reads events; writes none.
/// </summary>
public static class WhatIfEndpoint
{
    [WolverinePost("/api/whatif")]
    public static async Task<WhatIfReport> Post(WhatIfRequest request, CurrentUser user, QualityOptions quality, PathwayCatalog catalog,
        ReplayService replay, HttpContext http, CancellationToken ct)
    {
        user.RequireOneOf(quality.Roles, "what-if replays");
        var candidate = Candidates.Load(Problems.Body(request).Candidate, catalog);
        var report = await replay.WhatIfAsync(user.Practice, candidate, new ReplaySelection(request.State, request.StartedFrom, request.StartedTo), ct);
        AccessLog.AccessLogMiddleware.Names(http, report.Items.Select(i => i.PatientId)); // every trajectory replayed was read
        return report;
    }
}

/// <summary>A candidate pathway sent as YAML text: a whole pathway (e.g. a new version) or an overlay of a shipped one.</summary>
public static class Candidates
{
    public const string CandidateFile = "candidate.yaml";

    /// <summary>An answer lists at most this many of a candidate's errors (and says how many there are).</summary>
    public const int MaxErrors = 100;

    public static PathwayDefinition Load(string? text, PathwayCatalog catalog)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new PathwayRuleException(RejectionKind.InvalidData, "a candidate pathway is required", [new("candidate", "is required")]);
        // A whole pathway (e.g. a new version) stands alone; an overlay needs the shipped pathway it extends.
        var result = PathwayLoader.Load(CandidateFile, text);
        if (result.Errors.Any() && result.Errors.All(e => e.Rule == "unknown-pathway"))
            result = PathwayLoader.Load([.. catalog.All.Where(d => d.Practice is null).Select(d => d.Sources[0]), new PathwaySource(CandidateFile, text)]);
        var problems = result.Errors.Where(e => e.Location.File == CandidateFile).Select(e => e.ToString()).ToList();
        if (problems.Count > 0)
            throw new PathwayRuleException(RejectionKind.InvalidData,
                problems.Count > MaxErrors
                    ? $"the candidate pathway has {problems.Count} errors; the first {MaxErrors} are listed"
                    : "the candidate pathway has errors",
                [.. problems.Take(MaxErrors).Select(p => new Domain.Pathways.Engine.FieldError("candidate", p))]);
        return result.Definitions.Single(d => d.Sources[^1].File == CandidateFile);
    }
}
