using System.Text.Json;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Trajectories;
using KbPathways.Host.AccessLog;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using KbPathways.Host.Hosting;
using Marten;
using Marten.Linq;
using Wolverine;
using Wolverine.Http;

namespace KbPathways.Host.Api;

public static class StartTrajectoryEndpoint
{
    [WolverinePost("/api/trajectories")]
    public static async Task<IResult> Post(StartTrajectoryRequest request, HttpContext http, CurrentUser user, TrajectoryService trajectories,
        PathwayCatalog catalog, CancellationToken ct)
    {
        request = Problems.Body(request);
        var missing = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.PatientId)) missing["patientId"] = ["is required"];
        if (string.IsNullOrWhiteSpace(request.Pathway)) missing["pathway"] = ["is required"];
        if (missing.Count > 0) return Results.Problem(Problems.BadRequest("patientId and pathway are required.", missing));
        var patient = PatientIds.Require(request.PatientId);
        AccessLogMiddleware.Names(http, [patient]); // a refused start is an attempt on this patient, and its record says so
        var result = await trajectories.StartAsync(user.Practice, user.Caller, patient, request.Pathway!,
            request.Data ?? new Dictionary<string, JsonElement>(), (session, started) =>
            {
                AccessLogMiddleware.Enlist(http, session, StatusCodes.Status201Created, started.PatientId);
                return ValueTask.CompletedTask;
            }, ct);
        AccessLogMiddleware.Committed(http);
        var view = TrajectoryView.Of(result.Trajectory, catalog.ByHash(result.Trajectory.DefinitionHash)!, user.Roles);
        return Results.Created($"/api/trajectories/{view.Id}", view);
    }
}

public static class GetTrajectoryEndpoint
{
    /// <summary><c>?asOf=</c> (ISO 8601 time) or <c>?version=</c> return the trajectory as it was then.</summary>
    [WolverineGet("/api/trajectories/{id}")]
    public static async Task<TrajectoryView> Get(Guid id, CurrentUser user, IDocumentStore store, TrajectoryService trajectories,
        PathwayCatalog catalog, DateTimeOffset? asOf, int? version, HttpContext http, CancellationToken ct)
    {
        if (version < 1) throw new PathwayRuleException(RejectionKind.InvalidData, "version starts at 1", [new("version", "must be 1 or higher")]);
        await using var session = store.QuerySession();
        var trajectory = await trajectories.LoadAsync(session, user.Practice, id, ct, version ?? 0, asOf) ?? throw new NotFoundException();
        AccessLogMiddleware.Names(http, [trajectory.PatientId]);
        return TrajectoryView.Of(trajectory, catalog.ByHash(trajectory.DefinitionHash)!, user.Roles);
    }
}

public static class ListTrajectoriesEndpoint
{
    [WolverineGet("/api/trajectories")]
    public static async Task<PagedList<TrajectorySummary>> Get(CurrentUser user, IDocumentStore store, string? patientId, string? pathway,
        string? state, int? page, int? pageSize, HttpContext http, CancellationToken ct)
    {
        if (!string.IsNullOrEmpty(patientId))
        {
            PatientIds.Require(patientId);
            AccessLogMiddleware.Names(http, [patientId]); // a search for a patient is an access to them, found or not
        }
        await using var session = store.QuerySession();
        var (number, size) = Paging.Of(page, pageSize);
        IQueryable<TrajectorySummary> Query()
        {
            var query = session.Query<TrajectorySummary>().Where(t => t.Practice == user.Practice);
            if (!string.IsNullOrEmpty(patientId)) query = query.Where(t => t.PatientId == patientId);
            if (!string.IsNullOrEmpty(pathway)) query = query.Where(t => t.PathwayId == pathway);
            if (!string.IsNullOrEmpty(state)) query = query.Where(t => t.State == state);
            return query;
        }
        // The page and the total in one query, with Marten's query statistics (count(*) over ()); Marten's own paged list
        // refuses a page past the last, which this API answers as an empty page. A page past the end has no rows to carry
        // the total, and one beyond 32-bit offsets cannot be asked for: then the total is counted on its own.
        if ((long)(number - 1) * size > int.MaxValue) return new PagedList<TrajectorySummary>([], number, size, await Query().CountAsync(ct));
        IReadOnlyList<TrajectorySummary> items = await Query().Stats(out var stats).OrderByDescending(t => t.LastChangedAt)
            .Skip((number - 1) * size).Take(size).ToListAsync(ct);
        var total = items.Count == 0 && number > 1 ? await Query().CountAsync(ct) : (int)stats.TotalResults;
        AccessLogMiddleware.Names(http, items.Select(t => t.PatientId));
        return new PagedList<TrajectorySummary>(items, number, size, total);
    }
}

public static class TrajectoryHistoryEndpoint
{
    [WolverineGet("/api/trajectories/{id}/history")]
    public static async Task<IReadOnlyList<HistoryEntry>> Get(Guid id, CurrentUser user, IDocumentStore store, TrajectoryService trajectories,
        HttpContext http, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var events = await trajectories.FetchAsync(session, id, ct);
        if (!TrajectoryService.IsReadable(events, user.Practice)) throw new NotFoundException();
        var started = (TrajectoryStarted)events[0].Data;
        AccessLogMiddleware.Names(http, [started.PatientId]);
        return [.. events.Select(e => e.Data switch
        {
            TrajectoryStarted s => new HistoryEntry((int)e.Version, "TrajectoryStarted", s.StartedAt, new ActorView(s.Actor.UserId, s.Actor.Role),
                null, null, null, s.Tracks[Domain.Pathways.Model.PathwayDefinition.MainTrack], s.Data, null, null, s.DefinitionVersion, s.DefinitionHash),
            StepTaken s => new HistoryEntry((int)e.Version, "StepTaken", s.At, new ActorView(s.Actor.UserId, s.Actor.Role),
                s.Trigger, s.Track, s.From, s.To, s.Data, s.Decision, s.Warnings, s.DefinitionVersion, s.DefinitionHash),
            DeadlineScheduled s => new HistoryEntry((int)e.Version, "DeadlineScheduled", s.At, null, s.Trigger, s.Track, null, s.State,
                null, new { s.Name, s.DueAt }, null, started.DefinitionVersion, started.DefinitionHash),
            TrajectoryMigrated s => new HistoryEntry((int)e.Version, "TrajectoryMigrated", s.At, new ActorView(s.Actor.UserId, s.Actor.Role),
                null, null, null, s.Tracks[Domain.Pathways.Model.PathwayDefinition.MainTrack], null, new { s.FromVersion, s.FromHash },
                null, s.ToVersion, s.ToHash),
            TrajectoryCompleted s => new HistoryEntry((int)e.Version, "TrajectoryCompleted", s.At, null, null, null, null, s.FinalState,
                null, new { s.Outcome }, null, started.DefinitionVersion, started.DefinitionHash),
            _ => new HistoryEntry((int)e.Version, e.EventTypeName, e.Timestamp, null, null, null, null, null, null, null, null,
                started.DefinitionVersion, started.DefinitionHash),
        })];
    }
}
