using System.Text.Json;
using KbPathways.Host.Api;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using Marten;

namespace KbPathways.Host.AccessLog;

/// <summary>
/// NEN 7513: every request to a patient-data route — read, write, search, access-log view, and every denied attempt
/// — leaves exactly one record. A command endpoint (start, step) puts its record in the command's own transaction
/// (<see cref="Enlist"/>), so the change and its record commit together. Otherwise the response is held back until
/// its record is stored; if the record cannot be stored, the caller gets 503 and no patient data.
/// </summary>
public sealed class AccessLogMiddleware(RequestDelegate next, AccessLogStore log, ILogger<AccessLogMiddleware> logger)
{
    private const string NamedPatients = "kbpathways.access-log.patients";
    private const string PendingRecord = "kbpathways.access-log.pending";

    /// <summary>This request's record, until it is stored: when the request started, and whether a command committed it.</summary>
    private sealed class Pending(DateTimeOffset at)
    {
        public DateTimeOffset At { get; } = at;
        public bool Committed { get; set; }
    }

    /// <summary>
    /// An endpoint that knows which patients its answer shows says so here, and the record names exactly those;
    /// otherwise the response is searched for <c>patientId</c>s.
    /// </summary>
    public static void Names(HttpContext context, IEnumerable<string> patients) =>
        context.Items[NamedPatients] = string.Join(",", new SortedSet<string>(patients, StringComparer.Ordinal));

    /// <summary>
    /// For an endpoint that commits a command: adds this request's record to the command's own transaction, so the
    /// change and its record commit together, or neither does (and the request needs no commit of its own). Call
    /// <see cref="Committed"/> once the command has committed; until then the middleware writes the record itself,
    /// with the status the request ends in. A command decided again (a lost race) enlists again in its new session.
    /// </summary>
    public static void Enlist(HttpContext context, IDocumentSession session, int status, string patient)
    {
        if (context.Items[PendingRecord] is not Pending pending) return;
        var (sql, values) = AccessLogStore.InsertCommand(Entry(context, Segments(context.Request), CurrentUser.From(context.User), pending.At, status, patient));
        session.QueueSqlCommand(sql, values);
    }

    /// <summary>The command that enlisted this request's record has committed it.</summary>
    public static void Committed(HttpContext context)
    {
        if (context.Items[PendingRecord] is Pending pending) pending.Committed = true;
    }

    public static bool IsPatientData(PathString path) =>
        path.StartsWithSegments("/api/trajectories") || path.StartsWithSegments("/api/patients") || path.StartsWithSegments("/api/access-log")
        || path.StartsWithSegments("/api/whatif") || path.StartsWithSegments("/api/migrations")
        || path.StartsWithSegments("/api/worklist") || path.StartsWithSegments("/api/dashboard") || path.StartsWithSegments("/api/quality");

    public async Task InvokeAsync(HttpContext context, IDocumentStore store)
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
            if (!pending.Committed) await log.AppendAsync(await Describe(context, store, pending.At, buffer));
        }
        catch (Exception e)
        {
            logger.LogError("Access log write failed ({ExceptionType}); the response was withheld", e.GetType().Name);
            context.Response.Clear();
            await Problems.Write(context, new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = 503, Title = "Temporarily unavailable", Type = "https://kbpathways.example/problems/unavailable",
                Detail = "The access could not be logged, so no patient data was returned. Try again shortly.",
            });
            return;
        }
        buffer.Position = 0;
        await buffer.CopyToAsync(body, context.RequestAborted);
    }

    private static async Task<AccessLogEntry> Describe(HttpContext context, IDocumentStore store, DateTimeOffset at, MemoryStream buffer)
    {
        var request = context.Request;
        var segments = Segments(request);
        var user = CurrentUser.From(context.User);
        var status = context.Response.StatusCode;
        var objectId = ObjectOf(request, segments);
        var patient = segments[1] == "patients" && segments.Length > 2 ? segments[2]
            : request.Query["patientId"].FirstOrDefault() is { Length: > 0 } searched ? searched
            : status >= 300 ? null
            : context.Items.TryGetValue(NamedPatients, out var named) ? (string)named! is { Length: > 0 } list ? list : null
            : PatientIn(buffer);
        if (patient is null && status < 300 && segments[1] == "trajectories" && Guid.TryParse(objectId, out var id) && user is not null)
        {
            await using var session = store.QuerySession();
            var summary = await session.LoadAsync<TrajectorySummary>(id);
            patient = summary?.Practice == user.Practice ? summary.PatientId : null;
        }
        return Entry(context, segments, user, at, status, patient);
    }

    private static AccessLogEntry Entry(HttpContext context, string[] segments, CurrentUser? user, DateTimeOffset at, int status, string? patient)
    {
        var request = context.Request;
        var (action, type) = Classify(request.Method, segments);
        return new AccessLogEntry(0, at, action, type, patient, ObjectOf(request, segments), user?.UserId ?? context.User.FindFirst(KbClaims.Subject)?.Value,
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
        ("GET", _, "access-log") => ("R", "access-log.read"),
        (_, _, "migrations") => ("U", "trajectory.migrate"),
        (_, _, "whatif") => ("R", "whatif.run"),
        (_, _, "worklist") => ("R", "worklist.read"),
        (_, _, "dashboard") => ("R", "dashboard.read"),
        (_, _, "quality") => ("R", "quality.read"), // figures derived from every patient's trajectories
        _ => (method == "GET" ? "R" : "U", $"{s[1]}.{method.ToLowerInvariant()}"),
    };

    /// <summary>The patients a successful response is about: every <c>patientId</c> in it, at any depth up to 3.</summary>
    private static string? PatientIn(MemoryStream buffer)
    {
        try
        {
            var found = new SortedSet<string>(StringComparer.Ordinal);
            Collect(JsonDocument.Parse(buffer.ToArray()).RootElement, 0, found);
            return found.Count == 0 ? null : string.Join(",", found);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void Collect(JsonElement json, int depth, SortedSet<string> found)
    {
        if (depth > 3) return;
        if (json.ValueKind == JsonValueKind.Array)
            foreach (var item in json.EnumerateArray()) Collect(item, depth + 1, found);
        else if (json.ValueKind == JsonValueKind.Object)
            foreach (var property in json.EnumerateObject())
                if (property.Name == "patientId" && property.Value.ValueKind == JsonValueKind.String) found.Add(property.Value.GetString()!);
                else Collect(property.Value, depth + 1, found);
    }
}
