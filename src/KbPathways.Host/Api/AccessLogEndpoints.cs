using KbPathways.Domain.Patients;
using KbPathways.Domain.Trajectories;
using KbPathways.Host.AccessLog;
using KbPathways.Host.Identity;
using Wolverine.Http;

namespace KbPathways.Host.Api;

/// <summary>GET /api/access-log?patientId=|user= — per patient or per employee, for the caller's practice; this read is logged too.</summary>
public static class AccessLogEndpoint
{
    [WolverineGet("/api/access-log")]
    public static async Task<IReadOnlyList<AccessLogEntry>> Get(CurrentUser user, AccessLogStore log, AccessLogOptions options,
        string? patientId, string? userId, int? limit, HttpContext http, CancellationToken ct)
    {
        if (!string.IsNullOrEmpty(patientId))
        {
            PatientIds.Require(patientId);
            AccessLogMiddleware.Names(http, [patientId]); // reading who saw a patient is an access to that patient
        }
        user.RequireOneOf(options.ReaderRoles, "access-log views");
        var records = await log.QueryAsync(user.Practice, patientId, userId, Math.Clamp(limit ?? 500, 1, 5000), ct);
        AccessLogMiddleware.Names(http, records.SelectMany(r => r.Patients));
        return records;
    }
}

/// <summary>The outcome of a verification of the access log, as the manager endpoint and the command show it.</summary>
public sealed record AccessLogVerificationView(bool Intact, DateTimeOffset CheckedAt, long Seals, long? SignedFrom, long? SignedHead,
    DateTimeOffset? SignedHeadAt, long? BrokenAt, string? Problem)
{
    public static AccessLogVerificationView Of(AccessLogVerification v) => new(v.Intact, v.CheckedAt, v.Seals, v.SignedFrom, v.Head?.Position,
        v.Head?.At, v.Break?.Sequence, v.Break?.Problem);
}

/// <summary>
/// GET /api/access-log/verify — verifies the whole chain now and names the first broken or missing record. The chain
/// is one for every practice of the database, so the answer names a sequence number, never a record's contents.
/// </summary>
public static class AccessLogVerifyEndpoint
{
    [WolverineGet("/api/access-log/verify")]
    public static async Task<AccessLogVerificationView> Get(CurrentUser user, AccessLogVerifier verifier, AccessLogOptions options, CancellationToken ct)
    {
        user.RequireOneOf(options.ReaderRoles, "access-log views");
        return AccessLogVerificationView.Of(await verifier.VerifyAsync(ct));
    }
}
