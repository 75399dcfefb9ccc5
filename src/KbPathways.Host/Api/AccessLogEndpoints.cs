using KbPathways.Domain.Trajectories;
using KbPathways.Host.AccessLog;
using KbPathways.Host.Identity;
using Wolverine.Http;

namespace KbPathways.Host.Api;

public sealed class AccessLogOptions
{
    /// <summary>[A] who may view the access log of the practice.</summary>
    public string[] ReaderRoles { get; set; } = ["praktijkmanager"];
}

/// <summary>GET /api/access-log?patientId=|user= — per patient or per employee, for the caller's practice; this read is logged too.</summary>
public static class AccessLogEndpoint
{
    [WolverineGet("/api/access-log")]
    public static async Task<IReadOnlyList<AccessLogEntry>> Get(CurrentUser user, AccessLogStore log, AccessLogOptions options,
        string? patientId, string? userId, int? limit, CancellationToken ct)
    {
        user.RequireOneOf(options.ReaderRoles, "access-log views");
        return await log.QueryAsync(user.Practice, patientId, userId, Math.Clamp(limit ?? 500, 1, 5000), ct);
    }
}
