using KbPathways.Domain.Patients;
using KbPathways.Domain.Quality;
using KbPathways.Host.AccessLog;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using Marten;
using Wolverine.Http;

namespace KbPathways.Host.Api;

public sealed record KbMarkRequest(string? Code, string? Reason);

public sealed record ObservationView(string Instrument, decimal? FirstTotal, DateTimeOffset FirstAt, decimal? LatestTotal, DateTimeOffset LatestAt);

public sealed record PatientTrajectoryView(Guid Id, string Pathway, string State, bool Completed, string PathwayTitle = "", string StateLabel = "");

/// <summary>
/// <c>status</c>: "in zorg", "in beeld" or "niet in beeld" by the pathways' in beeld / in zorg rule (seed 000), the same
/// rule the dashboard and the quality report count with; <c>careStatus</c> says why (what is missing, the last POH-Kb contact).
/// </summary>
public sealed record PatientView(
    string PatientId, bool KbMarked, string? KbCode, DateTimeOffset? MarkedAt, string Status,
    IReadOnlyList<PatientTrajectoryView> Trajectories, IReadOnlyList<ObservationView> Observations, IReadOnlyList<MarkChange> MarkHistory,
    PatientCareStatus CareStatus);

public static class PatientViews
{
    public static async Task<PatientView?> Load(IDocumentStore store, PatientService patients, QualityService quality, BusinessClock clock,
        string practice, string patientId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var record = await patients.LoadAsync(session, practice, patientId, ct);
        var data = await quality.LoadAsync(practice, ct);
        var summaries = data.Summaries.Where(t => t.PatientId == patientId).ToList();
        if (record.Version == 0 && summaries.Count == 0) return null;
        var now = clock.Now;
        var care = QualityReport.StatusOf([.. data.Rows.Where(r => r.PatientId == patientId)], record.KbMarked, data.Definition, now);
        var trajectories = summaries.OrderBy(t => t.StartedAt).Select(t => data.Definition(t.DefinitionHash) is { } d
            ? new PatientTrajectoryView(t.Id, t.PathwayId, t.State, t.Completed, d.Title, d.FindState(t.State)?.Label ?? t.State)
            : new PatientTrajectoryView(t.Id, t.PathwayId, t.State, t.Completed, t.PathwayId, t.State)).ToList();
        var status = care.InZorg ? "in zorg" : care.InBeeld ? "in beeld" : "niet in beeld";
        return new PatientView(patientId, record.KbMarked, record.KbCode, record.MarkedAt, status, trajectories,
            [.. record.Latest.Values.OrderBy(o => o.Instrument).Select(o => new ObservationView(o.Instrument,
                record.First[o.Instrument].Total, record.First[o.Instrument].At, o.Total, o.At))], record.Marks, care);
    }
}

/// <summary>
/// The patient routes act on the patient their path names, in the caller's practice: the id is checked first (422 when
/// it is not a valid patient id) and the request's access-log record names that patient, whatever the outcome.
/// </summary>
public static class PatientRoute
{
    public static string Subject(HttpContext http, string patientId)
    {
        PatientIds.Require(patientId);
        AccessLogMiddleware.Names(http, [patientId]);
        return patientId;
    }

    /// <summary>Puts the request's access-log record in the command's transaction.</summary>
    public static Action<IDocumentSession> Record(HttpContext http, string patientId) =>
        session => AccessLogMiddleware.Enlist(http, session, StatusCodes.Status200OK, patientId);
}

public static class GetPatientEndpoint
{
    [WolverineGet("/api/patients/{patientId}")]
    public static async Task<PatientView> Get(string patientId, CurrentUser user, IDocumentStore store, PatientService patients,
        QualityService quality, BusinessClock clock, HttpContext http, CancellationToken ct) =>
        await PatientViews.Load(store, patients, quality, clock, user.Practice, PatientRoute.Subject(http, patientId), ct) ?? throw new NotFoundException();
}

public static class PlaceKbMarkEndpoint
{
    [WolverinePost("/api/patients/{patientId}/kb-mark")]
    public static async Task<PatientView> Post(string patientId, KbMarkRequest request, CurrentUser user, IDocumentStore store,
        PatientService patients, QualityService quality, BusinessClock clock, HttpContext http, CancellationToken ct)
    {
        PatientRoute.Subject(http, patientId);
        request = Problems.Body(request);
        await patients.PlaceMarkAsync(user.Practice, patientId, user.Caller, request.Code, request.Reason, PatientRoute.Record(http, patientId), ct);
        AccessLogMiddleware.Committed(http);
        return (await PatientViews.Load(store, patients, quality, clock, user.Practice, patientId, ct))!;
    }
}

public static class RemoveKbMarkEndpoint
{
    [WolverinePost("/api/patients/{patientId}/kb-mark/remove")]
    public static async Task<PatientView> Post(string patientId, KbMarkRequest request, CurrentUser user, IDocumentStore store,
        PatientService patients, QualityService quality, BusinessClock clock, HttpContext http, CancellationToken ct)
    {
        PatientRoute.Subject(http, patientId);
        request = Problems.Body(request);
        await patients.RemoveMarkAsync(user.Practice, patientId, user.Caller, request.Reason, PatientRoute.Record(http, patientId), ct);
        AccessLogMiddleware.Committed(http);
        return await PatientViews.Load(store, patients, quality, clock, user.Practice, patientId, ct) ?? throw new NotFoundException();
    }
}

/// <summary>
/// DELETE /api/patients/{patientId}: the AVG/WGBO right to erasure. Destroys the patient's key (their sealed event
/// data becomes unreadable everywhere), closes their trajectories and removes what the projections held of them; one
/// pseudonymous erasure record remains. The NEN 7513 access log keeps its records (a legal obligation, AVG art. 17(3)(b)).
/// </summary>
public static class ErasePatientEndpoint
{
    [WolverineDelete("/api/patients/{patientId}")]
    public static async Task<ErasureReceipt> Delete(string patientId, CurrentUser user, PatientService patients, HttpContext http, CancellationToken ct)
    {
        PatientRoute.Subject(http, patientId);
        var receipt = await patients.EraseAsync(user.Practice, patientId, user.Caller, PatientRoute.Record(http, patientId), ct);
        AccessLogMiddleware.Committed(http);
        return receipt;
    }
}
