using System.Text.Json;
using KbPathways.Domain.Trajectories;
using KbPathways.Projections;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace KbPathways.Host.Api;

/// <summary>
/// Every error leaves as RFC 9457 problem+json, with field-level detail where there is any, and never a stack trace
/// or a submitted value (they may be personal data).
/// </summary>
public static class Problems
{
    public static ProblemDetails For(RejectionKind kind, string detail) => new()
    {
        Status = Status(kind),
        Title = kind switch
        {
            RejectionKind.Forbidden => "Your role may not do this",
            RejectionKind.NotPermitted => "Not possible in the current state",
            RejectionKind.VersionConflict => "The trajectory has changed",
            RejectionKind.GuardFailed => "The condition for this step is not met",
            _ => "The data is not valid",
        },
        Detail = detail,
        Type = $"https://kbpathways.example/problems/{ScenarioName(kind)}",
    };

    public static int Status(RejectionKind kind) => kind switch
    {
        RejectionKind.Forbidden => StatusCodes.Status403Forbidden,
        RejectionKind.NotPermitted or RejectionKind.VersionConflict => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status422UnprocessableEntity,
    };

    private static string ScenarioName(RejectionKind kind) => Domain.Scenarios.ScenarioRunner.KindName(kind);

    public static ProblemDetails Of(PathwayRuleException e)
    {
        var problem = For(e.Kind, e.Message);
        if (e.FieldErrors.Count > 0)
            problem.Extensions["errors"] = e.FieldErrors.GroupBy(f => f.Field).ToDictionary(g => g.Key, g => g.Select(f => f.Message).ToArray());
        if (e.Kind is RejectionKind.NotPermitted or RejectionKind.VersionConflict)
            problem.Extensions["permittedTriggers"] = e.PermittedTriggers;
        return problem;
    }

    public static ProblemDetails NotFound() => new()
    {
        Status = StatusCodes.Status404NotFound,
        Title = "Not found",
        Detail = "There is no such resource in your practice.",
        Type = "https://kbpathways.example/problems/not-found",
    };

    public static ProblemDetails BadRequest(string detail, Dictionary<string, string[]>? errors = null)
    {
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status400BadRequest, Title = "Malformed request", Detail = detail,
            Type = "https://kbpathways.example/problems/malformed",
        };
        if (errors is not null) problem.Extensions["errors"] = errors;
        return problem;
    }

    /// <summary>A JSON body of <c>null</c> binds to a null request: that is a malformed request, not a server error.</summary>
    public static T Body<T>(T? request) where T : class =>
        request ?? throw new BadHttpRequestException("The request body must be a JSON object.");

    public static Task Write(HttpContext context, ProblemDetails problem)
    {
        context.Response.StatusCode = problem.Status ?? 500;
        // The route's pattern, not the path: a path can hold a patient id, and nothing personal goes into an error.
        problem.Instance ??= (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText is { } pattern ? "/" + pattern.TrimStart('/') : null;
        return context.Response.WriteAsJsonAsync(problem, (JsonSerializerOptions?)null, "application/problem+json");
    }

    /// <summary>
    /// The database is away (down, restarting, refusing connections, or the connection broke): anywhere in the
    /// exception's chain, a connection-level Npgsql error or a server error of class 08 (connection), 53 (resources)
    /// or 57 (operator intervention, e.g. shutdown).
    /// </summary>
    private static bool DatabaseUnavailable(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            switch (e)
            {
                case Npgsql.PostgresException pg when pg.SqlState.Length == 5 && pg.SqlState[..2] is "08" or "53" or "57":
                case Npgsql.NpgsqlException { IsTransient: true }:
                case Npgsql.NpgsqlException and not Npgsql.PostgresException:
                case System.Net.Sockets.SocketException:
                    return true;
            }
        return false;
    }

    /// <summary>
    /// An address no endpoint serves is 404 problem+json for everyone, signed in or not (the authorization fallback
    /// would otherwise ask an anonymous caller to sign in first). A known address with another method stays 405.
    /// </summary>
    public static Task NoSuchRoute(HttpContext context, RequestDelegate next) =>
        context.GetEndpoint() is null ? Write(context, NotFound()) : next(context);

    /// <summary>The longest path and query string a request may have.</summary>
    public const int MaxUriLength = 8 * 1024;

    /// <summary>A request whose path and query string are longer than <see cref="MaxUriLength"/> gets 414.</summary>
    public static Task UriLimit(HttpContext context, RequestDelegate next) =>
        context.Request.Path.Value?.Length + context.Request.QueryString.Value?.Length > MaxUriLength
            ? Write(context, new ProblemDetails
            {
                Status = StatusCodes.Status414UriTooLong, Title = "Address too long", Type = "https://kbpathways.example/problems/uri-too-long",
                Detail = $"The path and query string may be at most {MaxUriLength} characters.",
            })
            : next(context);

    /// <summary>
    /// The problem an exception from anywhere in the pipeline answers with: the domain's rejections as the project maps
    /// them, a body that is not JSON a 400, the database away a 503; unknown ones a bare 500. Logged by type and route
    /// only — an exception's message may hold personal data.
    /// </summary>
    public sealed class ExceptionHandler(ILogger<ExceptionHandler> logger) : Microsoft.AspNetCore.Diagnostics.IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception e, CancellationToken ct)
        {
            // (The middleware has cleared the endpoint by now; its feature keeps the one the request was for.)
            var route = context.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>()?.Endpoint?.DisplayName;
            var away = DatabaseUnavailable(e);
            if (away) logger.LogWarning("Database unavailable ({ExceptionType}) on {Method} {Route}", e.GetType().Name, context.Request.Method, route);
            var problem = e switch
            {
                PathwayRuleException rule => Of(rule),
                NotFoundException => NotFound(),
                BadHttpRequestException { StatusCode: 413 } => new ProblemDetails
                {
                    Status = 413, Title = "Request too large", Type = "https://kbpathways.example/problems/too-large",
                    Detail = "The request body is larger than this server accepts.",
                },
                BadHttpRequestException or JsonException => BadRequest("The request body is not valid JSON of the expected shape."),
                _ when away => new ProblemDetails
                {
                    Status = 503, Title = "Temporarily unavailable", Type = "https://kbpathways.example/problems/unavailable",
                    Detail = "The database cannot be reached. Nothing was changed; try again shortly.",
                },
                _ => null,
            };
            if (problem is null)
            {
                logger.LogError("Unhandled {ExceptionType} on {Method} {Route}", e.GetType().Name, context.Request.Method, route);
                problem = new ProblemDetails { Status = 500, Title = "Something went wrong on our side", Type = "https://kbpathways.example/problems/internal" };
            }
            await Write(context, problem);
            return true;
        }
    }
}
