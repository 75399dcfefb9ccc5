using System.Globalization;
using System.Text.Json;
using JasperFx.CommandLine;
using KbPathways.Domain.Trajectories;
using KbPathways.Host.Api;
using KbPathways.Projections;

namespace KbPathways.Host.Cli;

/// <summary>
/// The base of the commands that work on the event store with the host's configuration (same connection string, or the
/// same embedded PostgreSQL) without serving HTTP: <c>rebuild</c>, <c>whatif</c> and <c>access-log verify</c>. The store's
/// tables are made as the host makes them first (a database no host has used yet has none), so that a rebuild of an empty
/// store rebuilds nothing instead of failing.
/// </summary>
public abstract class StoreCommand<TInput> : KbCommand<TInput> where TInput : NetCoreInput
{
    public sealed override async Task<bool> Execute(TInput input)
    {
        if (Check(input) is { } problem) return Fail(problem);
        if (!NeedsStore(input)) return await Execute(input, EmptyServices.Instance);
        input.ApplyHostBuilderInput();
        var app = await ((KbHostBuilder)input.HostBuilder).BuildAsync();
        await app.Services.GetRequiredService<Marten.IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        try
        {
            return await Execute(input, app.Services);
        }
        catch (PathwayRuleException e)
        {
            foreach (var f in e.FieldErrors) Errors.WriteLine(f.Message);
            return Fail(e.Message);
        }
    }

    /// <summary>
    /// A NEN 7513 record of what this command read or changed, naming exactly the patients it touched, with the operating
    /// system's user as the user and this machine's command line as the access point. Written before the command shows
    /// anything (a command that cannot log shows nothing: the caller sees the failure).
    /// </summary>
    protected async Task LogAccessAsync(IServiceProvider services, DateTimeOffset at, string action, string eventType, string practice,
        IEnumerable<string> patients, string what)
    {
        var log = services.GetRequiredService<AccessLog.AccessLogStore>();
        await log.EnsureAsync();
        var user = $"cli:{Environment.UserName}";
        await log.AppendAsync(new AccessLog.AccessLogEntry(0, at, action, eventType, AccessLog.PatientList.Encode(patients), what, user, user, practice,
            $"{Environment.MachineName} command line: {CommandName}", Authorised: true, TreatmentRelation: null, Consent: null, Emergency: false, Status: 0));
    }

    private string CommandName => JasperFx.CommandLine.CommandFactory.CommandNameFor(GetType());

    /// <summary>The start of the command, to the second (as the access log keeps it).</summary>
    protected static DateTimeOffset Now(IServiceProvider services)
    {
        var now = (services.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
    }

    /// <summary>False when this use of the command answers without the database.</summary>
    protected virtual bool NeedsStore(TInput input) => true;

    /// <summary>A problem with the input found before anything starts, or null.</summary>
    protected virtual string? Check(TInput input) => null;

    protected abstract Task<bool> Execute(TInput input, IServiceProvider services);
}

/// <summary>The input of the commands that run a candidate pathway over a practice's trajectories.</summary>
public abstract class CandidateInput : NetCoreInput
{
    [Description("The practice whose trajectories are read")]
    public string PracticeFlag { get; set; } = "";

    [Description("The candidate pathway (YAML: a whole pathway or an overlay)"), FlagAlias("candidate", true)] // (-c is --contentroot)
    public string CandidateFlag { get; set; } = "";

    [Description("The report as JSON (as the API answers it)")]
    public bool JsonFlag { get; set; }

    /// <summary>What is missing before anything starts, or null.</summary>
    public string? Problem(string command, string example) =>
        PracticeFlag.Length == 0 || CandidateFlag.Length == 0 ? $"{command} needs --practice and --candidate, e.g. {command} --practice demo-praktijk --candidate {example}"
        : !File.Exists(CandidateFlag) ? $"no candidate file at '{CandidateFlag}'"
        : null;
}

public class MigrateInput : CandidateInput
{
    [Description("Old state=new state, for states the new version renamed or dropped, e.g. --map Intake=Kennismaking"), FlagAlias("map", true)]
    public string[] MapFlag { get; set; } = [];
}

/// <summary>
/// <c>migrate</c>: what moving the practice's running trajectories of a pathway to a new version would do, per patient —
/// a dry run that changes nothing. The move itself is the API's (<c>POST /api/migrations</c> with <c>dryRun: false</c>):
/// a running host arms the moved trajectories' deadlines through its durable messaging, keeps its caches true, and
/// the access log names the practice manager who did it; a command beside it could do none of that.
/// </summary>
[Description("Dry run: what moving a practice's running trajectories to a new pathway version would do (the move: POST /api/migrations)", Name = "migrate")]
public class MigrateCommand : StoreCommand<MigrateInput>
{
    protected override string? Check(MigrateInput input) =>
        input.Problem("migrate", "solk-v2.yaml")
        ?? (input.MapFlag.FirstOrDefault(m => m.Split('=') is not [{ Length: > 0 }, { Length: > 0 }]) is { } bad ? $"--map takes old=new state names; '{bad}' is not" : null);

    protected override async Task<bool> Execute(MigrateInput input, IServiceProvider services)
    {
        var at = Now(services);
        var target = Candidates.Load(await File.ReadAllTextAsync(input.CandidateFlag), services.GetRequiredService<PathwayCatalog>());
        var mapping = input.MapFlag.Select(m => m.Split('=')).ToDictionary(p => p[0], p => p[1]);
        var role = services.GetRequiredService<QualityOptions>().Roles.FirstOrDefault() ?? "praktijkmanager";
        var actor = new Actor($"cli:{Environment.UserName}", role);
        var outcomes = await services.GetRequiredService<TrajectoryService>().MigrateAsync(input.PracticeFlag, target, mapping, actor, dryRun: true);
        var report = new MigrationReport(target.Id, target.Version, target.Hash, DryRun: true, outcomes.Count, outcomes.Count(o => o.CanMove), outcomes);
        await LogAccessAsync(services, at, "R", "trajectory.migrate", input.PracticeFlag,
            outcomes.Select(o => o.PatientId), $"migrate:{target.Id}@{target.Version}");
        if (input.JsonFlag)
        {
            Output.WriteLine(JsonSerializer.Serialize(report, JsonSerializerOptions.Web));
            return true;
        }
        foreach (var o in outcomes)
            Output.WriteLine(o.CanMove ? $"{o.PatientId}  {o.TrajectoryId}  v{o.FromVersion} {o.FromState} → v{target.Version} {o.ToState}"
                : $"{o.PatientId}  {o.TrajectoryId}  v{o.FromVersion} {o.FromState}: cannot move: {o.Refusal}");
        Output.WriteLine($"{target.Id} v{target.Version}: {report.Movable} of {report.Total} running trajectories can move (dry run: nothing changed; " +
                         "the move is POST /api/migrations with dryRun: false, as a practice manager)");
        return true;
    }
}

/// <summary>The services of a command that needs none.</summary>
internal sealed class EmptyServices : IServiceProvider
{
    public static readonly EmptyServices Instance = new();

    public object? GetService(Type serviceType) => null;
}

/// <summary><c>rebuild</c>: every trajectory summary folded again from its events.</summary>
[Description("Rebuild the trajectory summaries from the events (with the hosts stopped)", Name = "rebuild")]
public class RebuildCommand : StoreCommand<NetCoreInput>
{
    protected override async Task<bool> Execute(NetCoreInput input, IServiceProvider services)
    {
        var replay = services.GetRequiredService<ReplayService>();
        var bar = new ProgressBar(Errors, Console.IsErrorRedirected || Errors != Console.Error);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var result = await replay.RebuildAsync(new SyncProgress<RebuildProgress>(bar.Show));
        bar.Done();
        var seconds = started.Elapsed.TotalSeconds;
        Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rebuilt {result.Trajectories} trajectory summaries from {result.Events} events in {seconds:0.0} s ({result.Events / Math.Max(seconds, 0.001):0} events/s); removed {result.Removed} without a stream"));
        return true;
    }
}

public class AccessLogInput : NetCoreInput
{
    [Description("verify: check the chain, every seal's signature and the signed head; sql: print the SQL an administrator runs to provision the log's schema and roles")]
    public string Action { get; set; } = "";

    [Description("sql: the database role the host logs in as (default: kbpathways_app)"), FlagAlias("role", true)]
    public string RoleFlag { get; set; } = KbPathways.Projections.Database.EmbeddedPostgres.AppRole;
}

/// <summary><c>access-log verify</c>: exit 0 intact; 1 broken, the first break named.</summary>
[Description("Verify the access log's chain, signatures and signed head (exit 1 naming the first break), or print its provisioning SQL", Name = "access-log")]
public class AccessLogCommand : StoreCommand<AccessLogInput>
{
    protected override string? Check(AccessLogInput input) =>
        input.Action is not ("verify" or "sql") ? $"unknown access-log command '{input.Action}'; use: access-log verify, or access-log sql [--role ROLE]"
        : !System.Text.RegularExpressions.Regex.IsMatch(input.RoleFlag, "^[a-z_][a-z0-9_]{0,62}$") ? "--role must be a PostgreSQL role name: lower-case letters, digits and _"
        : null;

    protected override bool NeedsStore(AccessLogInput input) => input.Action == "verify";

    protected override async Task<bool> Execute(AccessLogInput input, IServiceProvider services)
    {
        if (input.Action == "sql")
        {
            Output.WriteLine($"-- KbPathways access log (NEN 7513): run as a superuser or a role with CREATEROLE, once per database.\n-- The host's role '{input.RoleFlag}' may then only read and append the log.");
            Output.WriteLine(KbPathways.Projections.Database.AuditSchema.Provision(input.RoleFlag));
            return true;
        }
        var log = services.GetRequiredService<AccessLog.AccessLogStore>();
        await log.EnsureAsync();
        var result = await log.CheckAsync();
        var head = result.Head is { } h
            ? string.Create(CultureInfo.InvariantCulture, $"the signed head ({log.Signing.HeadFile}) names seal {h.Position:N0} of {h.At:u}")
            : $"no signed head yet in {log.Signing.HeadFile}";
        var signed = result.SignedFrom is { } from ? string.Create(CultureInfo.InvariantCulture, $"signed from seal {from:N0}") : "no signed seals";
        if (result.Break is { } found)
        {
            Errors.WriteLine(found.Sequence is { } seq
                ? string.Create(CultureInfo.InvariantCulture, $"access log BROKEN at record {seq}: {found.Problem}")
                : $"access log BROKEN: {found.Problem}");
            Errors.WriteLine(string.Create(CultureInfo.InvariantCulture, $"checked {result.Seals:N0} seals before the break; {signed}; {head}"));
            return false;
        }
        Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"access log intact: {result.Seals:N0} seals verified; {signed}; {head}"));
        return true;
    }
}

public class WhatIfInput : CandidateInput
{
    [Description("Only trajectories now in this state")]
    public string? StateFlag { get; set; }

    [Description("Only trajectories started on or after this day (yyyy-MM-dd)")]
    public string? FromFlag { get; set; }

    [Description("Only trajectories started before this day (yyyy-MM-dd)")]
    public string? ToFlag { get; set; }
}

/// <summary><c>whatif</c>: the practice's trajectories replayed against a candidate pathway; writes nothing.</summary>
[Description("Replay a practice's trajectories against a candidate pathway (writes nothing)", Name = "whatif")]
public class WhatIfCommand : StoreCommand<WhatIfInput>
{
    protected override string? Check(WhatIfInput input) =>
        input.Problem("whatif", "kandidaat.yaml")
        ?? (Day(input.FromFlag, "--from") is { } from && from.Problem is not null ? from.Problem
        : Day(input.ToFlag, "--to") is { } to && to.Problem is not null ? to.Problem
        : null);

    protected override async Task<bool> Execute(WhatIfInput input, IServiceProvider services)
    {
        var at = Now(services);
        var candidate = Candidates.Load(await File.ReadAllTextAsync(input.CandidateFlag), services.GetRequiredService<PathwayCatalog>());
        var selection = new ReplaySelection(input.StateFlag, Day(input.FromFlag, "--from")?.Day, Day(input.ToFlag, "--to")?.Day);
        var report = await services.GetRequiredService<ReplayService>().WhatIfAsync(input.PracticeFlag, candidate, selection);
        await LogAccessAsync(services, at, "R", "whatif.run", input.PracticeFlag, report.Items.Select(i => i.PatientId), $"whatif:{report.Pathway}");
        if (input.JsonFlag)
        {
            Output.WriteLine(JsonSerializer.Serialize(report, JsonSerializerOptions.Web));
            return true;
        }
        foreach (var item in report.Items.Where(i => i.Affected))
        {
            Output.WriteLine($"{item.PatientId}  {item.TrajectoryId}  {item.RecordedState} → {item.CandidateState}");
            foreach (var difference in item.Differences) Output.WriteLine($"    {difference}");
        }
        Output.WriteLine($"{report.Pathway} (candidate {report.CandidateHash[..12]}): {report.Affected} of {report.Total} trajectories would differ");
        return true;
    }

    private static (DateTimeOffset? Day, string? Problem)? Day(string? text, string name) =>
        text is null ? null
        : DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? (new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), null)
            : (null, $"{name} must be a date as yyyy-MM-dd");
}

/// <summary>Calls back on the reporting thread, so the bar is drawn in order.</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>A bar redrawn in place on a terminal; on a pipe, one line per tenth.</summary>
internal sealed class ProgressBar(TextWriter writer, bool plain)
{
    private int lastTenth = -1;

    public void Show(RebuildProgress p)
    {
        var fraction = p.Total == 0 ? 1 : (double)p.Events / p.Total;
        if (plain)
        {
            var tenth = (int)(fraction * 10);
            if (tenth == lastTenth) return;
            lastTenth = tenth;
            writer.WriteLine($"rebuild: {(int)(fraction * 100)}% ({p.Events}/{p.Total} events)");
            return;
        }
        var filled = (int)(fraction * 30);
        writer.Write($"\rrebuild [{new string('#', filled)}{new string('.', 30 - filled)}] {(int)(fraction * 100),3}% {p.Events}/{p.Total} events");
    }

    public void Done()
    {
        if (!plain) writer.WriteLine();
    }
}
