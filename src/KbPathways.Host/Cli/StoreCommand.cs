using System.Globalization;
using System.Text.Json;
using KbPathways.Domain.Trajectories;
using KbPathways.Host.Api;
using KbPathways.Host.Hosting;
using KbPathways.Projections;
using KbPathways.Projections.Database;

namespace KbPathways.Host.Cli;

/// <summary>
/// Commands that work on the event store with the host's configuration (same connection string, or the same embedded
/// PostgreSQL), without serving HTTP: <c>rebuild</c>, <c>whatif</c> and <c>access-log verify</c>.
/// </summary>
public static class StoreCommand
{
    public const string Usage = """
        usage:
          rebuild                                         rebuild the trajectory summaries from the events (hosts stopped)
          whatif --practice <id> --candidate <file.yaml> [--state <state>] [--from yyyy-MM-dd] [--to yyyy-MM-dd] [--json]
                                                          replay the practice's trajectories against a candidate pathway;
                                                          writes nothing
          access-log verify                               verify the access log's chain, signatures and signed head;
                                                          exit 0 when intact, 1 naming the first broken or missing record
        Host settings may follow, e.g. --ConnectionStrings:Postgres="Host=…"
        """;

    private static readonly string[] Flags = ["--practice", "--candidate", "--state", "--from", "--to"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors, CancellationToken ct = default)
    {
        if (args.Contains("--help") || args.Contains("-h") || args.Contains("help"))
        {
            output.WriteLine(Usage);
            return 0;
        }
        if (args is ["access-log", ..])
        {
            if (args is not [_, "verify", ..]) return Fail(errors, $"access-log needs a command: verify\n" + Usage);
            args = ["access-log", .. args.Skip(2)];
        }
        var command = args.FirstOrDefault();
        Dictionary<string, string> options;
        string[] hostArgs;
        try
        {
            (options, hostArgs) = Split(args.Skip(1));
        }
        catch (PathwayRuleException e)
        {
            return Fail(errors, e.Message);
        }
        if (command == "whatif" && (!options.ContainsKey("--practice") || !options.ContainsKey("--candidate")))
            return Fail(errors, "whatif needs --practice and --candidate\n" + Usage);
        if (command is not ("rebuild" or "whatif" or "access-log")) return Fail(errors, Usage);
        if (command == "whatif" && !File.Exists(options["--candidate"])) return Fail(errors, $"no candidate file at '{options["--candidate"]}'");

        // Quiet unless asked otherwise (a later --Logging:LogLevel:Default=… wins): the command's own output is what matters.
        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            app = await KbPathwaysApp.BuildAsync(["--Logging:LogLevel:Default=Warning", .. hostArgs], serving: false);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or Npgsql.NpgsqlException)
        {
            errors.WriteLine($"{command}: cannot start: {e.Message.Split('\n')[0]}");
            return 1;
        }
        try
        {
            // The store's tables as the host makes them (a database no host has used yet has none): so that a rebuild
            // of an empty store rebuilds nothing instead of failing.
            await app.Services.GetRequiredService<Marten.IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            return command switch
            {
                "rebuild" => await Rebuild(app.Services.GetRequiredService<ReplayService>(), output, errors, ct),
                "access-log" => await VerifyAccessLog(app.Services.GetRequiredService<AccessLog.AccessLogStore>(), output, errors, ct),
                _ => await WhatIf(app.Services, options, output, errors, ct),
            };
        }
        catch (PathwayRuleException e)
        {
            foreach (var f in e.FieldErrors) errors.WriteLine(f.Message);
            return Fail(errors, e.Message);
        }
        catch (Npgsql.NpgsqlException e)
        {
            errors.WriteLine($"{command}: the database cannot be reached ({e.Message.Split('\n')[0]}); check ConnectionStrings:Postgres");
            return 1;
        }
        finally
        {
            var embedded = app.Services.GetService<EmbeddedPostgres>();
            await app.DisposeAsync();
            if (embedded is not null) await embedded.StopAsync();
        }
    }

    private static async Task<int> Rebuild(ReplayService replay, TextWriter output, TextWriter errors, CancellationToken ct)
    {
        var bar = new ProgressBar(errors, Console.IsErrorRedirected || errors != Console.Error);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var result = await replay.RebuildAsync(new SyncProgress<RebuildProgress>(bar.Show), ct);
        bar.Done();
        var seconds = started.Elapsed.TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rebuilt {result.Trajectories} trajectory summaries from {result.Events} events in {seconds:0.0} s ({result.Events / Math.Max(seconds, 0.001):0} events/s); removed {result.Removed} without a stream"));
        return 0;
    }

    /// <summary>Exit 0: intact; 1: broken (the first break named).</summary>
    private static async Task<int> VerifyAccessLog(AccessLog.AccessLogStore log, TextWriter output, TextWriter errors, CancellationToken ct)
    {
        await log.EnsureAsync(ct);
        var result = await log.CheckAsync(ct: ct);
        var head = result.Head is { } h
            ? string.Create(CultureInfo.InvariantCulture, $"the signed head ({log.Signing.HeadFile}) names seal {h.Position:N0} of {h.At:u}")
            : $"no signed head yet in {log.Signing.HeadFile}";
        var signed = result.SignedFrom is { } from ? string.Create(CultureInfo.InvariantCulture, $"signed from seal {from:N0}") : "no signed seals";
        if (result.Break is { } found)
        {
            errors.WriteLine(found.Sequence is { } seq
                ? string.Create(CultureInfo.InvariantCulture, $"access log BROKEN at record {seq}: {found.Problem}")
                : $"access log BROKEN: {found.Problem}");
            errors.WriteLine(string.Create(CultureInfo.InvariantCulture, $"checked {result.Seals:N0} seals before the break; {signed}; {head}"));
            return 1;
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"access log intact: {result.Seals:N0} seals verified; {signed}; {head}"));
        return 0;
    }

    private static async Task<int> WhatIf(IServiceProvider services, Dictionary<string, string> options, TextWriter output, TextWriter errors, CancellationToken ct)
    {
        var candidate = Candidates.Load(await File.ReadAllTextAsync(options["--candidate"], ct), services.GetRequiredService<PathwayCatalog>());
        var selection = new ReplaySelection(options.GetValueOrDefault("--state"), Day(options, "--from"), Day(options, "--to"));
        var report = await services.GetRequiredService<ReplayService>().WhatIfAsync(options["--practice"], candidate, selection, ct);
        if (options.ContainsKey("--json"))
        {
            output.WriteLine(JsonSerializer.Serialize(report, JsonSerializerOptions.Web));
            return 0;
        }
        foreach (var item in report.Items.Where(i => i.Affected))
        {
            output.WriteLine($"{item.PatientId}  {item.TrajectoryId}  {item.RecordedState} → {item.CandidateState}");
            foreach (var difference in item.Differences) output.WriteLine($"    {difference}");
        }
        output.WriteLine($"{report.Pathway} (candidate {report.CandidateHash[..12]}): {report.Affected} of {report.Total} trajectories would differ");
        return 0;
    }

    private static DateTimeOffset? Day(Dictionary<string, string> options, string name) =>
        options.TryGetValue(name, out var text)
            ? DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
                ? new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)
                : throw new PathwayRuleException(RejectionKind.InvalidData, $"{name} must be a date as yyyy-MM-dd")
            : null;

    private static (Dictionary<string, string> Options, string[] HostArgs) Split(IEnumerable<string> args)
    {
        var options = new Dictionary<string, string>();
        var rest = new List<string>();
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            if (e.Current == "--json") options["--json"] = "";
            else if (Flags.Contains(e.Current))
            {
                var name = e.Current;
                options[name] = e.MoveNext() ? e.Current : throw new PathwayRuleException(RejectionKind.InvalidData, $"{name} needs a value");
            }
            else rest.Add(e.Current);
        }
        return (options, [.. rest]);
    }

    private static int Fail(TextWriter errors, string message)
    {
        errors.WriteLine(message);
        return 2;
    }

    /// <summary>Calls back on the reporting thread, so the bar is drawn in order.</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>A bar redrawn in place on a terminal; on a pipe, one line per tenth.</summary>
    private sealed class ProgressBar(TextWriter writer, bool plain)
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
}
