using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace KbPathways.Host.Api;

/// <summary>
/// What the OpenAPI document says of each route beyond what the endpoint's signature tells: a readable operation id, a
/// summary in English with the Dutch domain terms, the answer it gives on success, every error status it can answer
/// (each as RFC 9457 problem+json with its problem type), and the <c>Idempotency-Key</c> header where it is honoured.
/// <see cref="Routes"/> is the one table; a test checks it covers the live route table and that the document validates.
/// (Health checks, the OpenAPI document itself and the API page are infrastructure and not in the document.)
/// </summary>
public static class ApiDescriptions
{
    public sealed record Route(string Method, string Path, string OperationId, string Summary, int Success, Type? Answer, int[] Errors,
        bool Idempotent = false, bool Csv = false);

    /// <summary>Every request may be refused before it reaches the route: no or a bad token, too many requests, the database away.</summary>
    public static readonly int[] Always = [401, 429, 503];
    private static readonly int[] Body = [400, 413, 415];

    public static readonly Route[] Routes =
    [
        new("GET", "/api/me", "getMe", "The signed-in user: name, practice, roles and their Dutch labels.", 200, null, []),
        new("GET", "/api/pathways", "listPathways", "The practice's current pathways (zorgpaden), with their version and content hash.", 200, null, []),
        new("GET", "/api/pathways/{id}", "getPathway", "One pathway described for clients: tracks, states, steps with their forms and JSON Schemas, fields, instruments, the in beeld / in zorg rule, the diagram.", 200, null, [404]),
        new("POST", "/api/trajectories", "startTrajectory", "Start a patient's trajectory (traject) on one of the practice's pathways.", 201, typeof(TrajectoryView), [.. Body, 403, 404, 422]),
        new("GET", "/api/trajectories", "listTrajectories", "The practice's trajectories, by patient, pathway or state, a page at a time.", 200, null, [400, 422]),
        new("GET", "/api/trajectories/{id}", "getTrajectory", "A trajectory now, or as it was at a moment (asOf) or stream version, with the steps (actions) the caller may take.", 200, null, [400, 404]),
        new("GET", "/api/trajectories/{id}/history", "getTrajectoryHistory", "Every event of a trajectory: who took which step, with which data, and why it went where it went.", 200, null, [404]),
        new("POST", "/api/trajectories/{id}/fire", "takeStep", "Take a step (fire a trigger) with its data; optionally with the version last seen and an Idempotency-Key.", 200, typeof(TrajectoryView), [.. Body, 403, 404, 409, 422], Idempotent: true),
        new("GET", "/api/patients/{patientId}", "getPatient", "A patient: KB mark (KB-ruiter) and its history, in beeld / in zorg and why, trajectories, first and latest scores.", 200, null, [404, 422]),
        new("DELETE", "/api/patients/{patientId}", "erasePatient", "Erase a patient's data (AVG art. 17, WGBO): destroys their key, closes their trajectories.", 200, null, [403, 404, 422]),
        new("POST", "/api/patients/{patientId}/kb-mark", "placeKbMark", "Place the KB mark (KB-ruiter, ingekaart) with a reason.", 200, null, [.. Body, 403, 422]),
        new("POST", "/api/patients/{patientId}/kb-mark/remove", "removeKbMark", "Remove the KB mark with a reason.", 200, null, [.. Body, 403, 409, 422]),
        new("GET", "/api/access-log", "readAccessLog", "The NEN 7513 access log of the practice, by patient or user.", 200, null, [400, 403, 422]),
        new("GET", "/api/access-log/verify", "verifyAccessLog", "Verify the access log's chain, seals and signed head.", 200, null, [403]),
        new("GET", "/api/worklist", "getWorklist", "Open work (werklijst) for the caller's roles or the whole practice: steps to take and besluiten to carry out, overdue first.", 200, null, [400, 422]),
        new("GET", "/api/jaarbespreking", "getYearlyReview", "The yearly review (jaarbespreking) of the KB patients, one list per eigen huisarts.", 200, null, []),
        new("GET", "/api/dashboard", "getDashboard", "The practice's KB dashboard now: in beeld, in zorg, states, overdue work, open handovers, CVG, the MDO list.", 200, null, [403]),
        new("GET", "/api/quality", "getQualityReport", "The quality indicators of the kwaliteitscyclus for a period, as JSON or CSV.", 200, typeof(QualityView), [400, 403], Csv: true),
        new("POST", "/api/whatif", "runWhatIf", "Replay the practice's trajectories against a candidate pathway or overlay and list what would differ; writes nothing.", 200, null, [.. Body, 403, 422]),
        new("POST", "/api/migrations", "migrateTrajectories", "Move running trajectories to a new pathway version (a dry run unless asked otherwise).", 200, null, [.. Body, 403, 422]),
        new("GET", "/", "getHome", "Leads a browser to the werkplek.", 302, null, []),
        new("GET", "/werkplek", "getWerkplekPage", "The POH's workplace (werkplek): a page.", 200, null, []),
        new("GET", "/werkplek/{asset}", "getWerkplekAsset", "A script or style sheet of the werkplek.", 200, null, [404]),
        new("GET", "/dashboard", "getDashboardPage", "The practice manager's dashboard: a page.", 200, null, []),
        new("GET", "/dashboard/{asset}", "getDashboardAsset", "A script or style sheet of the dashboard page.", 200, null, [404]),
        new("GET", "/aanmelden", "getSignInPage", "Development sign-in: one demo user per role (not in Production, nor with an identity provider).", 200, null, [404]),
        new("POST", "/aanmelden", "signIn", "Development sign-in as a demo user: sets the session cookie.", 302, null, [400, 404]),
        new("POST", "/afmelden", "signOut", "Sign out: clears the session cookie.", 302, null, []),
    ];

    private static readonly Dictionary<(string, string), Route> ByRoute =
        Routes.ToDictionary(r => (r.Method, r.Path.TrimStart('/')), r => r);

    /// <summary>The problem type each error status answers with (see <see cref="Problems"/>).</summary>
    public static string ProblemTypes(int status) => status switch
    {
        400 => "malformed",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not-found",
        409 => "not-permitted, version-conflict",
        413 => "too-large",
        415 => "malformed (unsupported media type)",
        422 => "invalid-data, guard-failed, unknown-trigger, unknown-role, idempotency-key-reused",
        429 => "rate-limited",
        503 => "unavailable",
        _ => "internal",
    };

    /// <summary>Applies <see cref="Routes"/> to one operation of the generated document.</summary>
    public static async Task Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var key = (context.Description.HttpMethod ?? "GET", (context.Description.RelativePath ?? "").Split('?')[0]);
        if (!ByRoute.TryGetValue(key, out var route)) return;
        operation.OperationId = route.OperationId;
        operation.Summary = route.Summary;
        operation.Responses ??= [];
        var success = operation.Responses.TryGetValue("200", out var generated) ? generated : null;
        operation.Responses.Remove("200");
        operation.Responses.Remove("404");
        if (route.Answer is not null)
        {
            var content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(route.Answer, null, ct) } };
            if (route.Csv) content["text/csv"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
            operation.Responses[route.Success.ToString()] = new OpenApiResponse { Description = Description(route.Success), Content = content };
        }
        else operation.Responses[route.Success.ToString()] = route.Success == 200 && success is not null ? success
            : new OpenApiResponse { Description = Description(route.Success) };
        var problem = await context.GetOrCreateSchemaAsync(typeof(HttpValidationProblemDetails), null, ct);
        var apiRoute = route.Path.StartsWith("/api/", StringComparison.Ordinal);
        foreach (var status in route.Errors.Concat(apiRoute ? Always : []).Distinct().Order())
            operation.Responses[status.ToString()] = new OpenApiResponse
            {
                Description = $"{Description(status)} (problem+json; type …/problems/{ProblemTypes(status)})",
                Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = problem } },
            };
        if (route.Idempotent)
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "Idempotency-Key", In = ParameterLocation.Header, Required = false,
                Description = "Retrying with the same key (up to 200 characters, kept Idempotency:Retention) gives the first answer again and takes the step once.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 200 },
            });
        }
        if (!apiRoute) operation.Security = []; // pages, assets and health need no token
    }

    private static string Description(int status) => status switch
    {
        200 => "OK", 201 => "Created", 302 => "Found (a redirect)", 400 => "Malformed request", 401 => "Not signed in", 403 => "Not allowed for this role",
        404 => "Not found (or another practice's)", 409 => "Not possible in the current state, or the trajectory changed", 413 => "Request too large",
        415 => "Not JSON", 422 => "Data not valid, condition not met, or unknown trigger or role", 429 => "Too many requests",
        503 => "Temporarily unavailable", _ => "Error",
    };
}
