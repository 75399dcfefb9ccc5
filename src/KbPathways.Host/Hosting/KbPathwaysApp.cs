using Microsoft.Extensions.Options;
using Marten;
using System.Threading.RateLimiting;
using JasperFx;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Host.AccessLog;
using KbPathways.Host.Api;
using KbPathways.Projections.Database;
using KbPathways.Host.Identity;
using KbPathways.Host.Pathways;
using KbPathways.Projections;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Scalar.AspNetCore;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;

namespace KbPathways.Host.Hosting;

/// <summary>
/// The HTTP host: the library (<see cref="ServiceCollectionExtensions.AddKbPathways"/>) plus HTTP endpoints,
/// identity, problem+json, health and OpenAPI, and — when no connection string is configured — a private PostgreSQL.
/// </summary>
public static class KbPathwaysApp
{
    private const string Ready = "ready";

    /// <param name="serving">false for a command that only uses the store (rebuild, whatif): it accepts no requests,
    /// so it needs no production signing key.</param>
    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? customize = null, bool serving = true)
    {
        var demo = args.Contains("--demo");
        // Settings (appsettings.json) live beside the binary; relative paths such as Pathways:Path stay relative to
        // the folder the host was started from.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [.. args.Where(a => a != "--demo")], ContentRootPath = AppContext.BaseDirectory,
        });
        if (demo)
        {
            builder.Services.AddSingleton<DemoData>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<DemoData>());
        }
        customize?.Invoke(builder);
        var config = builder.Configuration;

        var pathwaysPath = PathwayFiles.Locate(config["Pathways:Path"], builder.Environment.ContentRootPath);
        config["Pathways:Path"] = pathwaysPath; // what the demo data and the start-up block read
        var loaded = PathwayLoader.Load(PathwayFiles.Read(pathwaysPath));
        if (loaded.HasErrors)
            throw new InvalidOperationException($"pathways in '{pathwaysPath}' have errors:\n{string.Join('\n', loaded.Errors)}");

        var auth = config.GetSection("Auth").Get<AuthOptions>() ?? new AuthOptions();
        var demoKeysAllowed = config["Auth:AllowDevelopmentKey"] == "true";
        if (serving && auth.IsDevelopmentKey && builder.Environment.IsProduction() && !demoKeysAllowed)
            throw new InvalidOperationException("Production needs Auth:SigningKey and Auth:Issuer (or Auth:AllowDevelopmentKey=true for a demo).");
        var accessLog = config.GetSection("AccessLog").Get<AccessLogOptions>() ?? new AccessLogOptions();
        if (serving && accessLog.IsDevelopmentKey && builder.Environment.IsProduction() && !demoKeysAllowed)
            throw new InvalidOperationException("Production needs AccessLog:SealKey, a key the database never sees (or Auth:AllowDevelopmentKey=true for a demo).");

        var connection = config.GetConnectionString("Postgres");
        EmbeddedPostgres? embedded = null;
        if (string.IsNullOrWhiteSpace(connection))
        {
            // A production host that forgot its connection string must not quietly keep health data in a private cluster.
            if (!config.GetValue("Embedded:Enabled", !builder.Environment.IsProduction()))
                throw new InvalidOperationException(
                    $"no ConnectionStrings:Postgres configured, and the embedded PostgreSQL is off in {builder.Environment.EnvironmentName} " +
                    "(set ConnectionStrings:Postgres, or Embedded:Enabled=true for a private cluster the host starts itself)");
            embedded = await EmbeddedPostgres.StartAsync(config["Embedded:DataDirectory"] ?? EmbeddedPostgres.DefaultDataDirectory());
            connection = embedded.ConnectionString;
            Console.Error.WriteLine($"KbPathways: no ConnectionStrings:Postgres configured; using the embedded PostgreSQL in {embedded.DataDirectory} on 127.0.0.1:{embedded.Port}");
        }

        try
        {
            return Build(builder, connection, loaded.Definitions, auth, accessLog, embedded, serving);
        }
        catch
        {
            if (embedded is not null) await embedded.StopAsync();
            throw;
        }
    }

    /// <summary>
    /// Lets Npgsql prepare the statements a connection runs repeatedly (Marten's appends and upserts, the access log's
    /// insert), so PostgreSQL stops parsing and planning them on every step (its top symbols in the profile; +19 % steps/s
    /// at concurrency 8 and +33 % at 32 over three interleaved runs, docs/performance.md). A connection string that sets
    /// its own <c>Max Auto Prepare</c> keeps it.
    /// </summary>
    public static string WithPreparedStatements(string connection)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connection);
        // (NpgsqlConnectionStringBuilder.ContainsKey answers whether a keyword exists, not whether it was given.)
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connection }.Keys.Cast<string>()
            .Any(k => k.Replace(" ", "").Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase));
        if (!given)
        {
            builder.MaxAutoPrepare = 100;
            builder.AutoPrepareMinUsages = 2;
        }
        return builder.ConnectionString;
    }

    private static WebApplication Build(WebApplicationBuilder builder, string connection,
        IReadOnlyList<Domain.Pathways.Model.PathwayDefinition> definitions, AuthOptions auth, AccessLogOptions accessLogOptions, EmbeddedPostgres? embedded, bool serving)
    {
        connection = WithPreparedStatements(connection);
        builder.Services.AddValidatedSettings(builder.Configuration);
        builder.Services.AddKbPathways(o =>
        {
            o.ConnectionString = connection;
            o.Definitions = definitions;
            o.Patients = builder.Configuration.GetSection("Patients").Get<PatientOptions>() ?? new PatientOptions();
            o.Quality = builder.Configuration.GetSection("Quality").Get<QualityReportOptions>() ?? new QualityReportOptions();
            o.Trajectories = builder.Configuration.GetSection("Trajectories").Get<TrajectoryOptions>() ?? new TrajectoryOptions();
            o.Practices = Practices(builder.Configuration);
            o.DueSoon = builder.Configuration["Worklist:DueSoon"] ?? PracticeChoices.DefaultDueSoon;
        }).IntegrateWithWolverine().ApplyAllDatabaseChangesOnStartup();
        builder.Services.AddSingleton<DeadlineAlarms>();
        builder.Services.AddSingleton<ICommandParticipant, DeadlineAlarmParticipant>();
        builder.Services.AddHostedService<DeadlineRecovery>();
        builder.Services.AddHostedService<IdempotencyExpiryStarter>();
        builder.Services.ConfigureMarten(o => o.Schema.For<RecurringJob>());
        builder.Host.UseWolverine(opts =>
        {
            opts.ApplicationAssembly = typeof(KbPathwaysApp).Assembly;
            // The acting user is built from the validated token per request (one place), so endpoints take it
            // as a parameter; its factory registration is why code generation must locate it.
            opts.CodeGeneration.AlwaysUseServiceLocationFor<CurrentUser>();
            // Alarms are persisted in PostgreSQL with the rest, so they survive a restart.
            opts.Policies.UseDurableLocalQueues();
            // Envelope ids from random version-7 GUIDs: the default (NewId) is built from the machine's network
            // identity and a clock, so two host processes on one machine made the same id, and a step whose alarm
            // collided in the outbox failed (the bench's two-host phase hit it).
            opts.EnvelopeIdGeneration = EnvelopeIdGeneration.GuidV7;
        });
        builder.Services.AddWolverineHttp();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped(sp => CurrentUser.From(sp.GetRequiredService<IHttpContextAccessor>().HttpContext!.User)
            ?? throw new UnauthorizedAccessException());
        AddIdentity(builder.Services, auth);
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            // Every route but health and the pages needs a bearer token (or the pages' session): say so, so that a
            // client generator and the API page ask for one.
            document.Components ??= new Microsoft.OpenApi.OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, Microsoft.OpenApi.IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["Bearer"] = new Microsoft.OpenApi.OpenApiSecurityScheme
            {
                Type = Microsoft.OpenApi.SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "JWT",
                Description = "A token from the practice's identity provider (or, in development, from the 'token' command).",
            };
            document.Security = [new Microsoft.OpenApi.OpenApiSecurityRequirement { [new Microsoft.OpenApi.OpenApiSecuritySchemeReference("Bearer", document)] = [] }];
            return Task.CompletedTask;
        }).AddOperationTransformer(Api.ApiDescriptions.Describe));
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<Problems.ExceptionHandler>();
        builder.Services.AddSingleton(new AccessLogStore(connection, accessLogOptions.Signing(connection, embedded)));
        builder.Services.AddHostedService<AccessLogSealer>();
        builder.Services.AddSingleton<AccessLogVerifier>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AccessLogVerifier>());
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: [Ready])
            .AddCheck<PathwaysHealthCheck>("pathways", tags: [Ready])
            .AddCheck<AccessLogHealthCheck>("access-log", tags: [Ready]);
        builder.Services.AddSingleton(builder.Configuration.GetSection("Quality").Get<QualityOptions>() ?? new QualityOptions());
        builder.Services.AddSingleton(accessLogOptions);
        AddTelemetry(builder);
        AddLimits(builder);
        if (embedded is not null) builder.Services.AddSingleton(embedded);

        var app = builder.Build();
        // The settings, checked now (ValidateOnStart's own check waits for the host to start, which a command never does),
        // before anything touches the database: one message naming each key that is not valid.
        app.Services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
        if (embedded is not null) app.Lifetime.ApplicationStopped.Register(() => embedded.StopAsync().GetAwaiter().GetResult());
        app.Lifetime.ApplicationStarted.Register(() => Welcome(app));
        // The access log is checked (and made, where this role may) before a host serves anything; a command that only
        // uses the store leaves the database as it is (db-assert, db-patch) or checks the log itself (access-log verify).
        var accessLog = app.Services.GetRequiredService<AccessLogStore>();
        if (serving) accessLog.EnsureAsync().GetAwaiter().GetResult();
        if (serving && accessLog.RoleCanAlter == true)
            app.Logger.LogWarning("The database role of ConnectionStrings:Postgres can change or delete access-log records. " +
                "Provision the access log as an administrator so the application may only read and append (docs/reliability.md).");
        // An error status that no one gave a body (404 no such route, 405, 415, 403) gets a problem+json one.
        app.UseStatusCodePages();
        app.UseExceptionHandler(); // Problems.ExceptionHandler: every exception a problem+json
        app.UseAuthentication();
        app.Use(Sessions.Guard);
        app.UseRateLimiter();
        app.UseMiddleware<AccessLogMiddleware>();
        app.UseExceptionHandler(); // again inside the access log, so it records the problem a request ended in
        app.Use(Problems.UriLimit);
        app.Use(Problems.NoSuchRoute);
        app.UseAuthorization();
        app.MapOpenApi().AllowAnonymous();
        // The API page: a field for the bearer token (kept in the page only), and nothing that calls outside services.
        app.MapScalarApiReference("/api-docs", o => o.WithTitle("KbPathways API").AddPreferredSecuritySchemes("Bearer")
            .AddHttpAuthentication("Bearer", _ => { }).HideClientButton().DisableAgent().DisableMcp().DisableTelemetry()
            .DisableDefaultFonts().HideDeveloperTools()).AllowAnonymous(); // (the token is not persisted: the default)
        // /health/live: the process answers; /health/ready and /health: the database, the pathways and the access log.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = HealthResponse.Write }).AllowAnonymous().WithMetadata(new HttpMethodMetadata(["GET"]));
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = HealthResponse.Write }).AllowAnonymous().WithMetadata(new HttpMethodMetadata(["GET"]));
        app.MapHealthChecks("/health", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = HealthResponse.Write }).AllowAnonymous().WithMetadata(new HttpMethodMetadata(["GET"]));
        EmbeddedPages.Map(app);
        var identity = app.Services.GetRequiredService<AuthOptions>();
        if (identity.PagesSignInAtProvider) Sessions.MapProviderSignIn(app);
        else if (identity.IsDevelopmentKey && !app.Environment.IsProduction()) Sessions.MapDevelopmentSignIn(app);
        else Sessions.MapSignOut(app);
        // '?page=abc' is a 400 problem+json, not page 0.
        app.MapWolverineEndpoints(http => http.RejectUnparseableQueryValues = true);
        return app;
    }

    /// <summary>The one block a start ends with: where the host listens, and where a person goes next.</summary>
    private static void Welcome(WebApplication app)
    {
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.FirstOrDefault()?.TrimEnd('/');
        if (address is null) return;
        var auth = app.Services.GetRequiredService<AuthOptions>();
        var signIn = auth.PagesSignInAtProvider ? "at the practice's identity provider"
            : auth.IsDevelopmentKey && !app.Environment.IsProduction() ? "as a demo user of any role (development)" : "with a token from the identity provider";
        // A log entry (quiet hosts, such as the tests', leave it out), written as one block.
        app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("KbPathways").LogInformation("{Welcome}", $"""
            KbPathways is running on {address}
              werkplek   {address}/werkplek    sign in {signIn} at {address}/aanmelden
              dashboard  {address}/dashboard
              API page   {address}/api-docs    a development token: dotnet run --no-launch-profile --project src/KbPathways.Host -- token --user u1 --role huisarts --practice demo-praktijk
              pathways   {Path.GetFullPath(app.Configuration["Pathways:Path"]!)} ({app.Services.GetRequiredService<PathwayCatalog>().All.Count} loaded)
            Stop with Ctrl+C.
            """);
    }

    private static Dictionary<string, PracticeSettings> Practices(IConfiguration config) =>
        config.GetSection("Practices").Get<Dictionary<string, PracticeSettings>>() ?? [];

    /// <summary>
    /// Metrics for HTTP, Wolverine, Marten and the engine always (for any meter listener); traces of HTTP, PostgreSQL,
    /// Wolverine and Marten only when OTEL_EXPORTER_OTLP_ENDPOINT is set, and then both are exported over OTLP. Traces
    /// nobody receives would still be made: an activity per request and per database command. Query strings are not
    /// recorded (they can hold a patient id).
    /// </summary>
    private static void AddTelemetry(WebApplicationBuilder builder)
    {
        var export = !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("kbpathways"))
            .WithMetrics(m =>
            {
                m.AddAspNetCoreInstrumentation().AddMeter(EngineMetrics.MeterName, "Wolverine", "Marten");
                if (export) m.AddOtlpExporter();
            });
        if (export)
            telemetry.WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.EnrichWithHttpRequest = (activity, _) => activity.SetTag("url.query", null))
                .AddNpgsql().AddSource("Wolverine", "Marten").AddOtlpExporter());
    }

    /// <summary>
    /// Request bodies are capped (413), and each user of each practice has a token bucket (429), so one busy user or
    /// practice cannot starve another. Anonymous callers share a bucket per address.
    /// </summary>
    private static void AddLimits(WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>().Configure<IOptions<LimitsOptions>>((k, limits) =>
        {
            k.Limits.MaxRequestBodySize = limits.Value.MaxBodyBytes;
            // Kestrel answers a longer request line itself, with an empty 414; up to this size it reaches Problems.UriLimit,
            // which answers 414 problem+json (and the access log records it).
            k.Limits.MaxRequestLineSize = 64 * 1024;
        });
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<Microsoft.AspNetCore.RateLimiting.RateLimiterOptions>().Configure<IOptions<LimitsOptions>>((o, options) =>
        {
            var limits = options.Value;
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var user = CurrentUser.From(context.User);
                var key = user is null ? "anon:" + context.Connection.RemoteIpAddress : $"{user.Practice}:{user.UserId}";
                return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.Burst, TokensPerPeriod = limits.RequestsPerSecond, ReplenishmentPeriod = TimeSpan.FromSeconds(1), QueueLimit = 0,
                });
            });
            o.OnRejected = (rejected, _) => new ValueTask(Problems.Write(rejected.HttpContext, new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = 429, Title = "Too many requests", Type = "https://kbpathways.example/problems/rate-limited",
                Detail = "Slow down and try again in a second.",
            }));
        });
    }

    private static void AddIdentity(IServiceCollection services, AuthOptions auth)
    {
        services.AddSingleton(auth);
        var authentication = services.AddAuthentication(Sessions.Scheme);
        Sessions.Add(authentication, auth);
        authentication.AddJwtBearer(jwt =>
        {
            jwt.MapInboundClaims = false;
            jwt.TokenValidationParameters = auth.UsesProvider
                ? new TokenValidationParameters
                {
                    // Issuer and signing keys from the provider's discovery document and JWKS (fetched, cached, refreshed).
                    ValidAudience = auth.Audience,
                    ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha256],
                    NameClaimType = KbClaims.Name,
                    RoleClaimType = KbClaims.Role,
                    ClockSkew = TimeSpan.FromSeconds(30),
                }
                : new TokenValidationParameters
                {
                    ValidIssuer = auth.Issuer,
                    ValidAudience = auth.Audience,
                    IssuerSigningKey = auth.Key(),
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    NameClaimType = KbClaims.Name,
                    RoleClaimType = KbClaims.Role,
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
            if (auth.UsesProvider)
            {
                jwt.Authority = auth.Authority;
                jwt.Audience = auth.Audience;
                jwt.RequireHttpsMetadata = auth.RequireHttpsMetadata;
            }
            jwt.Events = new JwtBearerEvents
            {
                // The provider's claim names become ours (sub, name, role, practice), once, at validation.
                OnTokenValidated = context =>
                {
                    if (context.Principal?.Identity is System.Security.Claims.ClaimsIdentity identity) KbClaims.Map(identity, auth);
                    return Task.CompletedTask;
                },
                OnForbidden = context => Problems.Write(context.HttpContext, new Microsoft.AspNetCore.Mvc.ProblemDetails
                {
                    Status = 403, Title = "Not allowed", Type = "https://kbpathways.example/problems/forbidden",
                    Detail = "The token must name one user (sub) and one practice (practice), each a single non-empty text.",
                }),
                OnChallenge = async context =>
                {
                    context.HandleResponse();
                    await Problems.Write(context.HttpContext, new Microsoft.AspNetCore.Mvc.ProblemDetails
                    {
                        Status = 401, Title = "Not signed in", Type = "https://kbpathways.example/problems/unauthorized",
                        Detail = "Send a valid bearer token.",
                    });
                },
            };
        });
        // Every endpoint needs a token with a user and a practice, unless it says AllowAnonymous.
        // (CurrentUser.From accepts exactly one non-empty text for each; an array, an object or an empty text is refused.)
        services.AddAuthorizationBuilder().SetFallbackPolicy(new AuthorizationPolicyBuilder(Sessions.Scheme)
            .RequireAuthenticatedUser().RequireAssertion(context => CurrentUser.From(context.User) is not null).Build());
    }
}

/// <summary>Ready when the database answers.</summary>
public sealed class DatabaseHealthCheck(Marten.IDocumentStore store) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public async Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var session = store.QuerySession();
            await session.QueryAsync<int>("select 1", cancellationToken);
            return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy("reachable");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("database unreachable");
        }
    }
}

/// <summary>Ready when pathways are loaded.</summary>
public sealed class PathwaysHealthCheck(PathwayCatalog catalog) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(catalog.All.Count > 0
            ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy($"{catalog.All.Count} loaded",
                new Dictionary<string, object> { ["count"] = catalog.All.Count })
            : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("no pathways loaded"));
}

/// <summary>
/// The health answer as JSON: <c>status</c> (<c>ready</c>, <c>degraded</c> — still serving, 200 — or
/// <c>unavailable</c>, 503) and per check its status, description and data.
/// </summary>
public static class HealthResponse
{
    public static Task Write(HttpContext context, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report)
    {
        var status = report.Status switch
        {
            Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy => "ready",
            Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded => "degraded",
            _ => "unavailable",
        };
        return context.Response.WriteAsJsonAsync(new
        {
            status,
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString().ToLowerInvariant(), description = e.Value.Description, data = e.Value.Data,
            }),
        });
    }
}
