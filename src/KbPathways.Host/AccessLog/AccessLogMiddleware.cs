using KbPathways.Host.Api;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using Marten;

namespace KbPathways.Host.AccessLog;

/// <summary>
/// NEN 7513: every request to a patient-data route — read, write, search, access-log view, and every denied attempt
/// — leaves exactly one record. The patients a record names are the ones the endpoint itself read or wrote, which it
/// says through <see cref="Names"/> or <see cref="Enlist"/>; nothing a client sends (a query string, a body) is taken
/// for them. A command endpoint (start, step, KB mark, erasure) puts its record in the command's own transaction
/// (<see cref="Enlist"/>), so the change and its record commit together. Otherwise the response is held back until
/// its record is stored; if the record cannot be stored, the caller gets 503 and no patient data.
/// </summary>
public sealed class AccessLogMiddleware(RequestDelegate next, AccessLogStore log, ILogger<AccessLogMiddleware> logger)
{
    private const string PendingRecord = "kbpathways.access-log.pending";

    /// <summary>This request's record, until it is stored: when the request started, the patients the endpoint named,
    /// whether a command committed the record, and whether a change was committed without it.</summary>
    private sealed class Pending(DateTimeOffset at)
    {
        public DateTimeOffset At { get; } = at;
        public SortedSet<string> Patients { get; } = new(StringComparer.Ordinal);
        public bool Committed { get; set; }
        public bool Changed { get; set; }
    }

    /// <summary>
    /// The endpoint read, wrote or tried to act on these patients of the caller's practice: the record names them (as
    /// well as any named before in the same request).
    /// </summary>
    public static void Names(HttpContext context, IEnumerable<string> patients)
    {
        if (context.Items[PendingRecord] is Pending pending) pending.Patients.UnionWith(patients);
    }

    /// <summary>
    /// For an endpoint that commits a command: adds this request's record to the command's own transaction, so the
    /// change and its record commit together, or neither does (and the request needs no commit of its own). Call
    /// <see cref="Committed"/> once the command has committed; until then the middleware writes the record itself,
    /// with the status the request ends in. A command decided again (a lost race) enlists again in its new session.
    /// </summary>
    public static void Enlist(HttpContext context, IDocumentSession session, int status, string patient)
    {
        if (context.Items[PendingRecord] is not Pending pending) return;
        pending.Patients.Add(patient);
        var (sql, values) = AccessLogStore.InsertCommand(Entry(context, Segments(context.Request), CurrentUser.From(context.User), pending.At, status, pending.Patients));
        session.QueueSqlCommand(sql, values);
    }

    /// <summary>The command that enlisted this request's record has committed it.</summary>
    public static void Committed(HttpContext context)
    {
        if (context.Items[PendingRecord] is Pending pending) pending.Committed = true;
    }

    /// <summary>The endpoint committed a change without its record (a migration moves trajectories one at a time).</summary>
    public static void Changed(HttpContext context)
    {
        if (context.Items[PendingRecord] is Pending pending) pending.Changed = true;
    }

    public static bool IsPatientData(PathString path) =>
        path.StartsWithSegments("/api/trajectories") || path.StartsWithSegments("/api/patients") || path.StartsWithSegments("/api/access-log")
        || path.StartsWithSegments("/api/whatif") || path.StartsWithSegments("/api/migrations")
        || path.StartsWithSegments("/api/worklist") || path.StartsWithSegments("/api/dashboard") || path.StartsWithSegments("/api/quality");

    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsPatientData(context.Request.Path))
        {
            await next(context);
            return;
        }
        var pending = new Pending(DateTimeOffset.UtcNow); // NEN 7513: the start of the event, in real time
        context.Items[PendingRecord] = pending;
        var body = context.Response.Body;
        await using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = body;
        }
        try
        {
            if (!pending.Committed)
                await log.AppendAsync(Entry(context, Segments(context.Request), CurrentUser.From(context.User), pending.At, context.Response.StatusCode, pending.Patients));
        }
        catch (Exception e)
        {
            logger.LogError("Access log write failed ({ExceptionType}); the response was withheld", e.GetType().Name);
            context.Response.Clear();
            await Problems.Write(context, new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = 503, Title = "Temporarily unavailable", Type = "https://kbpathways.example/problems/unavailable",
                Detail = pending.Changed
                    ? "The change was saved, but the access could not be logged, so its answer is withheld. Check the result before trying again."
                    : "The access could not be logged, so nothing was changed and no patient data was returned. Try again shortly.",
            });
            return;
        }
        buffer.Position = 0;
        await buffer.CopyToAsync(body, context.RequestAborted);
    }

    private static AccessLogEntry Entry(HttpContext context, string[] segments, CurrentUser? user, DateTimeOffset at, int status, IEnumerable<string> patients)
    {
        var request = context.Request;
        var (action, type) = Classify(request.Method, segments);
        return new AccessLogEntry(0, at, action, type, PatientList.Encode(patients), ObjectOf(request, segments), user?.UserId ?? context.User.FindFirst(KbClaims.Subject)?.Value,
            context.User.FindFirst("on_behalf_of")?.Value ?? user?.UserId, user?.Practice,
            $"{context.Connection.RemoteIpAddress} {request.Method} {request.Path}", status is >= 200 and < 300,
            null, null, false, status, "");
    }

    private static string[] Segments(HttpRequest request) => request.Path.Value!.Trim('/').Split('/');

    private static string? ObjectOf(HttpRequest request, string[] segments) =>
        segments.Length > 2 ? segments[2] : request.QueryString.HasValue ? request.QueryString.Value : null;

    private static (string Action, string Type) Classify(string method, string[] s) => (method, s.Length, s[1]) switch
    {
        ("GET", 2, "trajectories") => ("R", "trajectory.search"),
        ("GET", 3, "trajectories") => ("R", "trajectory.read"),
        ("GET", 4, "trajectories") => ("R", $"trajectory.{s[3]}"),
        ("POST", 2, "trajectories") => ("C", "trajectory.start"),
        ("POST", _, "trajectories") => ("U", "trajectory.fire"),
        ("GET", _, "patients") => ("R", "patient.read"),
        ("DELETE", _, "patients") => ("D", "patient.erase"),
        ("POST", 5, "patients") => ("U", "patient.kb-mark.remove"),
        ("POST", _, "patients") => ("U", "patient.kb-mark"),
        ("GET", 3, "access-log") when s[2] == "verify" => ("R", "access-log.verify"),
        ("GET", _, "access-log") => ("R", "access-log.read"),
        (_, _, "migrations") => ("U", "trajectory.migrate"),
        (_, _, "whatif") => ("R", "whatif.run"),
        (_, _, "worklist") => ("R", "worklist.read"),
        (_, _, "jaarbespreking") => ("R", "yearly-review.read"),
        (_, _, "dashboard") => ("R", "dashboard.read"),
        (_, _, "quality") => ("R", "quality.read"), // figures derived from every patient's trajectories
        _ => (method == "GET" ? "R" : "U", $"{s[1]}.{method.ToLowerInvariant()}"),
    };
}
