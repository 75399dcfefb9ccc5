using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KbPathways.Domain.Trajectories;
using KbPathways.Host.AccessLog;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using KbPathways.Host.Hosting;
using Marten;
using Wolverine;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KbPathways.Host.Api;

/// <summary>
/// POST /api/trajectories/{id}/fire. With an <c>Idempotency-Key</c> header the response is stored in the same
/// transaction as the events, so a retry — serial or concurrent — gets the original answer and appends nothing.
/// </summary>
public static class FireTriggerEndpoint
{
    public const string IdempotencyHeader = "Idempotency-Key";

    [WolverinePost("/api/trajectories/{id}/fire")]
    public static async Task<IResult> Post(Guid id, FireRequest request, HttpContext http, CurrentUser user,
        TrajectoryService trajectories, PathwayCatalog catalog, IDocumentStore store, BusinessClock clock, CancellationToken ct)
    {
        try
        {
            return await Fire(id, request, http, user, trajectories, catalog, store, clock, ct);
        }
        catch (PathwayRuleException)
        {
            // A refused step is an attempt on the trajectory's patient: its record names them (never for another practice's).
            await using var session = store.QuerySession();
            if (await session.LoadAsync<TrajectorySummary>(id, ct) is { } summary && summary.Practice == user.Practice)
                AccessLogMiddleware.Names(http, [summary.PatientId]);
            throw;
        }
    }

    private static async Task<IResult> Fire(Guid id, FireRequest request, HttpContext http, CurrentUser user,
        TrajectoryService trajectories, PathwayCatalog catalog, IDocumentStore store, BusinessClock clock, CancellationToken ct)
    {
        request = Problems.Body(request);
        if (string.IsNullOrWhiteSpace(request.Trigger))
            return Results.Problem(Problems.BadRequest("trigger is required.", new() { ["trigger"] = ["is required"] }));
        var key = http.Request.Headers[IdempotencyHeader].ToString();
        var command = new FireTrigger(request.Trigger, user.Caller, request.Data ?? new Dictionary<string, JsonElement>(), request.ExpectedVersion);
        if (key.Length == 0)
        {
            var result = await trajectories.FireAsync(user.Practice, id, command, (session, after) =>
            {
                AccessLogMiddleware.Enlist(http, session, 200, after.PatientId);
                return ValueTask.CompletedTask;
            }, ct);
            AccessLogMiddleware.Committed(http);
            return Results.Ok(TrajectoryView.Of(result.Trajectory, catalog.ByHash(result.Trajectory.DefinitionHash)!, user.Roles));
        }
        if (key.Length > 200) return Results.Problem(Problems.BadRequest($"{IdempotencyHeader} is longer than 200 characters."));

        var recordId = $"{user.Practice}:{user.UserId}:{key}";
        var requestHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{id}\n{JsonSerializer.Serialize(request)}")));
        if (await Replay(store, recordId, requestHash, ct) is { } earlier) return earlier;
        try
        {
            string? body = null;
            await trajectories.FireAsync(user.Practice, id, command, (session, after) =>
            {
                body = JsonSerializer.Serialize(TrajectoryView.Of(after, catalog.ByHash(after.DefinitionHash)!, user.Roles), JsonSerializerOptions.Web);
                session.Insert(new IdempotencyRecord { Id = recordId, TrajectoryId = id, RequestHash = requestHash, StatusCode = 200, Body = body, CreatedAt = clock.Now });
                AccessLogMiddleware.Enlist(http, session, 200, after.PatientId);
                return ValueTask.CompletedTask;
            }, ct);
            AccessLogMiddleware.Committed(http);
            return Results.Text(body!, "application/json", Encoding.UTF8, 200);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // A concurrent retry with the same key won (its record now exists): answer as it did. Otherwise this
            // was a real failure of this request, and it propagates.
            if (await Replay(store, recordId, requestHash, ct) is { } concurrent) return concurrent;
            throw;
        }
    }

    private static async Task<IResult?> Replay(IDocumentStore store, string recordId, string requestHash, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var record = await session.LoadAsync<IdempotencyRecord>(recordId, ct);
        if (record is null) return null;
        if (record.RequestHash != requestHash)
            return Results.Problem(new ProblemDetails
            {
                Status = 422, Title = "Idempotency-Key reused", Type = "https://kbpathways.example/problems/idempotency-key-reused",
                Detail = "This Idempotency-Key was already used for a different request.",
            });
        return Results.Text(record.Body, "application/json", Encoding.UTF8, record.StatusCode);
    }
}
