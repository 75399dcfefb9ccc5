using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using KbPathways.Bench;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Replay;
using KbPathways.Domain.Trajectories;
using KbPathways.Host.Hosting;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using KbPathways.Projections.Database;
using KbPathways.Projections.Privacy;
using KbPathways.Testing;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Npgsql;

// One run, every figure: Domain (BenchmarkDotNet), the PostgreSQL ceiling and the API at concurrency 1/8/32,
// what-if replay, seeding to --events, rebuild, dashboard/worklist latency at that size, the API again on the big
// store, and the process's working set. JSON lines as it goes, a table at the end.
var events = Option("--events", 1_000_000);
var practices = Option("--practices", 50);
var seconds = Option("--seconds", 8);
var report = new Report();
Console.Error.WriteLine($"KbPathways bench: {Environment.ProcessorCount} cores, .NET {Environment.Version}, target {events:N0} events over {practices} practices");

// 0. Only the caches: GenerationalCache against BitFaster's ConcurrentLru (BenchmarkDotNet, its own table)
if (args.Contains("--caches"))
{
    BenchmarkRunner.Run<CacheBenchmarks>(ManualConfig.CreateEmpty()
        .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
        .AddLogger(ConsoleLogger.Default).AddColumnProvider(DefaultColumnProviders.Instance).AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default)
        .WithOptions(ConfigOptions.DisableOptimizationsValidator));
    return 0;
}

// 1. Domain
var bdn = args.Contains("--whatif") || args.Contains("--api") || args.Contains("--werklijst") || args.Contains("--projection") ? null : BenchmarkRunner.Run<DomainBenchmarks>(ManualConfig.CreateEmpty()
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddLogger(NullLogger.Instance).AddColumnProvider(DefaultColumnProviders.Instance)
    .WithOptions(ConfigOptions.DisableOptimizationsValidator));
foreach (var r in (bdn?.Reports ?? []).Where(r => r.ResultStatistics is not null))
    report.Add("domain", r.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\''), r.ResultStatistics!.Mean / 1000, "µs/op",
        $"allocated {r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase) ?? 0:N0} B/op");

if (args.Contains("--domain") || args.Contains("--whatif"))
{
    // Only the pure parts, no database: the BenchmarkDotNet figures and what-if over walked streams made in memory.
    var solkDefinition = PathwayLoader.Load("solk.yaml", File.ReadAllText(Path.Combine(Paths.Pathways, "solk.yaml"))).Definitions.Single();
    var walked = Enumerable.Range(0, 1000).Select(i => (IReadOnlyList<object>)Walk.Events(solkDefinition, Guid.NewGuid(), "p", $"p-{i}", Walk.Epoch, i % (Walk.Steps.Length + 1))).ToList();
    // Walked a day a step from the epoch; the candidate runs until six weeks after the last step, like the recorded streams below.
    WhatIfBench.Run(report, walked, "walked in memory", Walk.Epoch.AddDays(Walk.Steps.Length + 42));
    report.Print();
    return 0;
}

// 2. A private PostgreSQL and the host in this process
using var scratch = new ScratchDirectory("bench").WithDevelopmentKey(); // removed at the end, after the server stops
await using var postgres = await EmbeddedPostgres.StartAsync(scratch.Path);
if (args.Contains("--projection"))
{
    // Only the projection A/B of issue 22 (ProjectionBench): the host as shipped and with an inline projection, alternating.
    await ProjectionBench.RunAsync(postgres.ConnectionString.Replace("Maximum Pool Size=64", "Maximum Pool Size=100"), Paths.Pathways,
        seconds, Option("--rounds", 4), report);
    report.Print();
    return 0;
}
var app = await KbPathwaysApp.BuildAsync(["--environment", "Development"], builder =>
{
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    builder.Configuration["ConnectionStrings:Postgres"] = postgres.ConnectionString.Replace("Maximum Pool Size=64", "Maximum Pool Size=100") + Environment.GetEnvironmentVariable("BENCH_NPGSQL");
    builder.Configuration["Pathways:Path"] = Paths.Pathways;
    builder.Configuration["Logging:LogLevel:Default"] = "Warning";
    builder.Configuration["Limits:RequestsPerSecond"] = "1000000";
    builder.Configuration["Limits:Burst"] = "1000000";
});
await app.StartAsync();
var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
var auth = app.Services.GetRequiredService<AuthOptions>();
var store = app.Services.GetRequiredService<IDocumentStore>();
var solk = app.Services.GetRequiredService<PathwayCatalog>().Current("bench-api", "solk")!;

// 2b. The werklijst page with 300 open items, in a real browser (skipped without Chromium)
if (!args.Contains("--api") && !args.Contains("--store"))
{
    var werklijst = await WerklijstBench.RunAsync(address, app.Services.GetRequiredService<AuthOptions>());
    if (werklijst is { } w)
    {
        report.Add("page", $"werklijst with {w.Items} open items: time to the rendered list (median of 5)", w.MedianMs, "ms", $"max {w.MaxMs:0} ms; target ≤ 1,000 ms");
        report.Add("page", "werklijst: bytes the page loads (document, script, style, API answers)", w.Bytes / 1024.0, "KB", "");
    }
    else Console.Error.WriteLine("werklijst: skipped (no /usr/bin/chromium)");
    if (args.Contains("--werklijst"))
    {
        await app.StopAsync();
        report.Print();
        return 0;
    }
}

// 3. Ceiling and API, same run, same concurrency
await Ceiling.PrepareAsync(postgres.ConnectionString);
await Api.RunAsync(address, auth, "bench-warmup", 8, TimeSpan.FromSeconds(3)); // JIT, Wolverine code generation, pools
var ratios = new Dictionary<int, (double Api, double Ceiling)> { [8] = (double.NaN, double.NaN) };
var smallStoreCpu8 = double.NaN; // CPU seconds (PostgreSQL and this process) per step at concurrency 8 on the small store
var storeOnly = args.Contains("--store"); // only seeding, rebuild and the queries (no load phases)
foreach (var concurrency in storeOnly ? [] : new[] { 1, 8, 32 })
{
    var cpu = Cpu.Now(postgres.DataDirectory);
    var ceiling = await Ceiling.RunAsync(postgres.ConnectionString, concurrency, TimeSpan.FromSeconds(seconds));
    var ceilingCpu = Cpu.Now(postgres.DataDirectory);
    report.Add("ceiling", $"Npgsql event insert + summary upsert, {concurrency} clients", ceiling.PerSecond, "tx/s",
        $"{ceiling.Latency}; {ceilingCpu.PerUnit(cpu, ceiling.Acknowledged, "transaction")}");
    using var allocations = args.Contains("--allocations") && concurrency == 8 ? new AllocationSampler() : null;
    var api = await Api.RunAsync(address, auth, $"bench-api-{concurrency}", concurrency, TimeSpan.FromSeconds(seconds));
    allocations?.Print(api.Acknowledged);
    var apiCpu = Cpu.Now(postgres.DataDirectory);
    report.Add("api", $"steps over HTTP, concurrency {concurrency}", api.PerSecond, "steps/s", $"{api.Latency}; {(concurrency == 8 ? apiCpu.PerUnitWithAllocations(ceilingCpu, api.Acknowledged, "step") : apiCpu.PerUnit(ceilingCpu, api.Acknowledged, "step"))}");
    report.Add("cpu", $"PostgreSQL CPU per step / per ceiling transaction, concurrency {concurrency}",
        (apiCpu.Postgres - ceilingCpu.Postgres) / api.Acknowledged / ((ceilingCpu.Postgres - cpu.Postgres) / ceiling.Acknowledged), "×", "");
    ratios[concurrency] = (api.PerSecond, ceiling.PerSecond);
    if (concurrency == 8) smallStoreCpu8 = (apiCpu.Postgres + apiCpu.DotNet - ceilingCpu.Postgres - ceilingCpu.DotNet) / api.Acknowledged;
    report.Add("ratio", $"API / ceiling, concurrency {concurrency}", api.PerSecond / ceiling.PerSecond, "×", "");
}
var smallStore8 = ratios[8].Api;
report.Add("memory", "working set after the API runs", Process.GetCurrentProcess().WorkingSet64 / 1048576.0, "MB",
    $"peak {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0} MB (host + load generator in one process); {Report.Heap()}");
if (args.Contains("--api"))
{
    // Only the ceiling and the API on the empty store (e.g. under a profiler).
    await app.StopAsync();
    report.Print();
    return 0;
}

// 3b. Scale out: two more host processes on this database, before it is seeded (the seeded trajectories' deadlines
// are long overdue, and a starting host rings those). The in-process host stays up, idle. One alone at concurrency 8, then both at 4 each (same total);
// afterwards every acknowledged command is in the store exactly once (counted per practice from the events).
if (!storeOnly)
{
    var key = Convert.ToBase64String(auth.Key().Key);
    string[] unlimited = ["--Limits:RequestsPerSecond=1000000", "--Limits:Burst=1000000"];
    await using var hostA = await HostProcess.StartAsync(postgres.ConnectionString, Paths.Pathways, key, unlimited);
    await using var hostB = await HostProcess.StartAsync(postgres.ConnectionString, Paths.Pathways, key, unlimited);
    await Task.WhenAll(Api.RunAsync(hostA.Address, auth, "bench-2h-warmup", 4, TimeSpan.FromSeconds(3)),
        Api.RunAsync(hostB.Address, auth, "bench-2h-warmup", 4, TimeSpan.FromSeconds(3)));
    Measured one;
    Measured[] two;
    try
    {
        one = await Api.RunAsync(hostA.Address, auth, "bench-2h-one", 8, TimeSpan.FromSeconds(seconds));
        two = await Task.WhenAll(Api.RunAsync(hostA.Address, auth, "bench-2h-two", 4, TimeSpan.FromSeconds(seconds)),
            Api.RunAsync(hostB.Address, auth, "bench-2h-two", 4, TimeSpan.FromSeconds(seconds)));
    }
    catch (InvalidOperationException)
    {
        Console.Error.WriteLine($"host A said:\n{hostA.Output}\nhost B said:\n{hostB.Output}");
        throw;
    }
    report.Add("twohost", "steps over HTTP, one host process, concurrency 8", one.PerSecond, "steps/s", one.Latency);
    report.Add("twohost", "steps over HTTP, two host processes, concurrency 4 each", two.Sum(m => m.PerSecond), "steps/s",
        $"A: {two[0].Latency}; B: {two[1].Latency}");
    report.Add("twohost", "two hosts / one host", two.Sum(m => m.PerSecond) / one.PerSecond, "×", "");
    // The host alone, in its own process, after 8 s at concurrency 8 and 8 s at 4 (the load generator is elsewhere).
    var (hostNow, hostPeak) = hostA.WorkingSet;
    report.Add("memory", "working set of a host process after its load phases", hostNow / 1048576.0, "MB", $"peak {hostPeak / 1048576.0:0} MB");
    await using var db = new NpgsqlConnection(postgres.ConnectionString);
    await db.OpenAsync();
    foreach (var (practice, acknowledged) in new[] { ("bench-2h-one", one.Acknowledged), ("bench-2h-two", two.Sum(m => m.Acknowledged)) })
    {
        await using var count = new NpgsqlCommand("""
            SELECT count(*) FROM kbpathways.mt_events e JOIN kbpathways.mt_doc_trajectorysummary s ON s.id = e.stream_id
            WHERE s.data ->> 'Practice' = $1 AND e.type IN ('trajectory_started', 'step_taken')
            """, db) { Parameters = { new() { Value = practice } } };
        var stored = (long)(await count.ExecuteScalarAsync())!;
        report.Add("exactlyonce", $"{practice}: commands stored / acknowledged", stored, "events", $"{acknowledged:N0} acknowledged");
        if (stored != acknowledged) throw new InvalidOperationException($"{practice}: {acknowledged} commands acknowledged but {stored} stored");
    }
}
// 4. What-if: recorded streams re-run against a candidate (pure, in memory)
List<IReadOnlyList<object>> recorded;
await using (var session = store.QuerySession())
{
    var ids = await session.Query<TrajectorySummary>().Where(t => t.PathwayId == "solk").Select(t => t.Id).Take(1000).ToListAsync();
    recorded = [];
    foreach (var id in ids) recorded.Add([.. (await session.Events.FetchStreamAsync(id)).Select(e => e.Data)]);
}
// Recorded just now; the candidate runs until six weeks from now (its deadlines fire on the simulated clock until then).
if (recorded.Count > 0) WhatIfBench.Run(report, recorded, "recorded", DateTimeOffset.UtcNow.AddDays(42));

// 5. Seed to the target size, straight into the store (decided by the Domain, appended by Marten)
{
    var watch = Stopwatch.StartNew();
    var seeded = await Seeder.RunAsync(store, app.Services.GetRequiredService<PatientKeyRing>(), solk, events, practices, args.Contains("--completed"));
    report.Add("seed", $"seeded {seeded.Trajectories:N0} trajectories / {seeded.Events:N0} events", seeded.Events / watch.Elapsed.TotalSeconds, "events/s",
        $"{seeded.Completed:N0} of them completed");
    // As after any bulk load: vacuum and analyse what was loaded, so that autovacuum does not do it later, in the
    // middle of a measured phase (it did: a vacuum of the events table ran for half a minute after seeding).
    watch.Restart();
    await using var admin = new NpgsqlConnection(postgres.AdminConnectionString);
    await admin.OpenAsync();
    await new NpgsqlCommand("VACUUM (ANALYZE) kbpathways.mt_events, kbpathways.mt_streams, kbpathways.patient_keys", admin) { CommandTimeout = 0 }.ExecuteNonQueryAsync();
    report.Add("seed", "vacuum and analyse after the bulk load", watch.Elapsed.TotalSeconds, "s", "");
}

// 6. Rebuild every summary from the events (first only reading them, to show what the reading costs). Both start with
// no patient key in memory, as a `store rebuild` process does: the seeding left every key cached here.
{
    app.Services.GetRequiredService<PatientKeyRing>().ForgetAll();
    var read = Stopwatch.StartNew();
    long count = 0, newest;
    await using (var session = store.QuerySession())
        newest = (await session.QueryAsync<long>("SELECT max(seq_id) FROM kbpathways.mt_events"))[0];
    var replay = app.Services.GetRequiredService<ReplayService>();
    for (long from = 0; from < newest; from += ReplayService.PageSize)
        count += (await replay.ReadPageAsync(from, from + ReplayService.PageSize)).Count;
    report.Add("read", $"reading all {count:N0} events (deserialised, sealed fields opened)", count / read.Elapsed.TotalSeconds, "events/s", "");
}
{
    app.Services.GetRequiredService<PatientKeyRing>().ForgetAll();
    using var peak = new PeakMemory();
    var watch = Stopwatch.StartNew();
    var rebuilt = await app.Services.GetRequiredService<ReplayService>().RebuildAsync();
    report.Add("rebuild", $"rebuild of {rebuilt.Trajectories:N0} summaries from {rebuilt.Events:N0} events", rebuilt.Events / watch.Elapsed.TotalSeconds, "events/s",
        peak.Describe());
    // A rebuild runs as a process of its own (`store rebuild`, with the hosts stopped); here it ran inside the host, so
    // what it folded (every trajectory's state, about a gigabyte) is collected before the host is measured again.
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
}

// 7. Dashboard and worklist at that size (one practice of --practices), and the API again on the big store
int total;
await using (var session = store.QuerySession()) total = await session.Query<TrajectorySummary>().CountAsync();
// Right after the rebuild (which leaves the summaries vacuumed and analysed): the first 200 requests and the next 200
// (in one run the next were 1.4× faster, in others not); then while that practice keeps taking steps (a POH every
// 100 ms), so that most reads find changed trajectories to read again.
foreach (var pass in new[] { "after the rebuild", "again, warm" })
    foreach (var route in new[] { "/api/dashboard", "/api/worklist" })
    {
        var latency = await Api.QueryAsync(address, auth, Seeder.Practice(0), route, 200);
        report.Add("query", $"GET {route} {pass} (one practice of {total:N0} trajectories)", latency.PerSecond, "req/s", latency.Latency);
    }
{
    using var stopWriting = new CancellationTokenSource();
    var writer = Api.RunAsync(address, auth, Seeder.Practice(0), 1, TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(100), stopWriting.Token);
    var watch = Stopwatch.StartNew();
    var latency = await Api.QueryAsync(address, auth, Seeder.Practice(0), "/api/dashboard", 200);
    await stopWriting.CancelAsync();
    var written = await writer;
    report.Add("query", $"GET /api/dashboard while the practice takes steps ({written.Acknowledged / watch.Elapsed.TotalSeconds:0.0} steps/s)",
        latency.PerSecond, "req/s", latency.Latency);
}
if (!storeOnly)
{
    // The rebuild and the queries wrote a few hundred megabytes; their checkpoint is not part of the steps measured next.
    await using (var admin = new NpgsqlConnection(postgres.AdminConnectionString))
    {
        await admin.OpenAsync();
        await new NpgsqlCommand("CHECKPOINT", admin) { CommandTimeout = 0 }.ExecuteNonQueryAsync();
    }
    var cpu = Cpu.Now(postgres.DataDirectory);
    var big = await Api.RunAsync(address, auth, "bench-api-big", 8, TimeSpan.FromSeconds(seconds));
    var after = Cpu.Now(postgres.DataDirectory);
    report.Add("api", $"steps over HTTP, concurrency 8, store of {events:N0}+ events", big.PerSecond, "steps/s",
        $"{big.Latency}; {after.PerUnitWithAllocations(cpu, big.Acknowledged, "step")}");
    report.Add("flatness", "steps/s on the big store / on the small store (concurrency 8)", big.PerSecond / smallStore8, "×", "");
    // The same comparison in CPU per step (PostgreSQL's and this process's), which the machine's noise moves far less:
    // above 1 the step costs more on the big store.
    report.Add("flatness", "CPU per step on the big store / on the small store (concurrency 8)",
        (after.Postgres + after.DotNet - cpu.Postgres - cpu.DotNet) / big.Acknowledged / smallStoreCpu8, "×", "");
}
report.Add("memory", "working set at the end", Process.GetCurrentProcess().WorkingSet64 / 1048576.0, "MB",
    $"peak {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0} MB; {Report.Heap()}");

await app.StopAsync();
await app.DisposeAsync();

report.Print();
await postgres.StopAsync();
return 0;

int Option(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

namespace KbPathways.Bench
{
    public sealed record Measured(double PerSecond, string Latency, long Acknowledged = 0);

    /// <summary>
    /// CPU time spent by this process (host and load generator) and by the PostgreSQL cluster (every backend, and
    /// what the postmaster reaped), from /proc. Divided by the work done in a phase it gives CPU per step, which moves
    /// far less between runs on this shared machine than steps per second do.
    /// </summary>
    public readonly record struct Cpu(double DotNet, double Postgres, long Allocated)
    {
        private static readonly double Tick = 100.0; // USER_HZ on Linux

        public static Cpu Now(string dataDirectory)
        {
            var dotnet = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
            double postgres = 0;
            try
            {
                var postmaster = int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
                foreach (var dir in Directory.EnumerateDirectories("/proc"))
                {
                    if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
                    string stat;
                    try { stat = File.ReadAllText(Path.Combine(dir, "stat")); } catch (IOException) { continue; }
                    // pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17)
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    var ppid = int.Parse(fields[1], CultureInfo.InvariantCulture);
                    if (pid != postmaster && ppid != postmaster) continue;
                    postgres += (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / Tick;
                    if (pid == postmaster)
                        postgres += (long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)) / Tick;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                postgres = double.NaN;
            }
            return new Cpu(dotnet, postgres, GC.GetTotalAllocatedBytes(precise: true));
        }

        /// <summary>CPU milliseconds per unit of work since <paramref name="before"/>.</summary>
        public string PerUnit(Cpu before, double units, string unit) => string.Create(CultureInfo.InvariantCulture,
            $"CPU per {unit}: PostgreSQL {(Postgres - before.Postgres) * 1000 / units:0.00} ms, .NET {(DotNet - before.DotNet) * 1000 / units:0.00} ms");

        /// <summary>
        /// Also what this process allocated per unit: a rough figure. The runtime's count of all threads' allocations is
        /// not exact (over the ceiling's phases and at concurrency 1 it even went backwards), but steady for steps at 8.
        /// </summary>
        public string PerUnitWithAllocations(Cpu before, double units, string unit) => string.Create(CultureInfo.InvariantCulture,
            $"{PerUnit(before, units, unit)}; allocated about {(Allocated - before.Allocated) / units / 1024:0} KB");
    }

    /// <summary>What-if replay: SOLK streams re-run against a candidate with a shorter evaluation term (pure, in memory).</summary>
    public static class WhatIfBench
    {
        public static void Run(Report report, IReadOnlyList<IReadOnlyList<object>> streams, string source, DateTimeOffset until)
        {
            var candidate = PathwayLoader.Load("solk.yaml", File.ReadAllText(Path.Combine(Paths.Pathways, "solk.yaml"))
                .Replace("evaluatieTermijn: P6W", "evaluatieTermijn: P2W")).Definitions.Single();
            foreach (var stream in streams) WhatIf.Run(stream, candidate, until); // warm-up
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            long replayed = 0;
            while (watch.Elapsed < TimeSpan.FromSeconds(3))
                foreach (var stream in streams)
                {
                    WhatIf.Run(stream, candidate, until);
                    replayed += stream.Count;
                }
            var perEvent = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)replayed;
            var fold = Stopwatch.StartNew();
            long folded = 0;
            while (fold.Elapsed < TimeSpan.FromSeconds(2))
                foreach (var stream in streams)
                {
                    Trajectory.Replay(stream);
                    folded += stream.Count;
                }
            report.Add("fold", $"fold only (Trajectory.Replay of the same streams)", folded / fold.Elapsed.TotalSeconds, "events/s", "");
            report.Add("whatif", $"what-if replay ({streams.Count} {source} SOLK streams, shorter evaluation term)", replayed / watch.Elapsed.TotalSeconds,
                "events/s", $"{perEvent:N0} B allocated per event");
        }
    }

    /// <summary>
    /// The most memory a phase used, from its start: the process's peak resident set (reset at the start through
    /// <c>/proc/self/clear_refs</c>) and the largest managed heap seen, sampled every 50 ms after a full collection.
    /// </summary>
    public sealed class PeakMemory : IDisposable
    {
        private readonly long startHeap;
        private readonly long startResident;
        private long peakHeap;
        private readonly Timer sampler;

        public PeakMemory()
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            File.WriteAllText("/proc/self/clear_refs", "5");
            startHeap = peakHeap = GC.GetTotalMemory(false);
            startResident = Environment.WorkingSet;
            sampler = new Timer(_ =>
            {
                var heap = GC.GetTotalMemory(false);
                long seen;
                while (heap > (seen = Interlocked.Read(ref peakHeap)) && Interlocked.CompareExchange(ref peakHeap, heap, seen) != seen) { }
            }, null, 0, 50);
        }

        public string Describe() => string.Create(CultureInfo.InvariantCulture,
            $"peak working set {PeakResident() / 1048576.0:0} MB (from {startResident / 1048576.0:0}); managed heap up to {Interlocked.Read(ref peakHeap) / 1048576.0:0} MB (from {startHeap / 1048576.0:0})");

        private static long PeakResident() =>
            File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:")).Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024).Single();

        public void Dispose() => sampler.Dispose();
    }

    public sealed class Report
    {
        /// <summary>The managed heap after the last collection and what the GC holds committed: the part of the working set that is .NET objects.</summary>
        public static string Heap()
        {
            var gc = GC.GetGCMemoryInfo();
            return string.Create(CultureInfo.InvariantCulture, $"managed heap {gc.HeapSizeBytes / 1048576.0:0} MB, GC committed {gc.TotalCommittedBytes / 1048576.0:0} MB");
        }

        private readonly List<(string Kind, string What, double Value, string Unit, string Note)> rows = [];

        public void Add(string kind, string what, double value, string unit, string note)
        {
            rows.Add((kind, what, value, unit, note));
            Console.WriteLine(JsonSerializer.Serialize(new { kind, what, value = Math.Round(value, 2), unit, note }));
        }

        public void Print()
        {
            Console.WriteLine();
            Console.WriteLine($"| {"measure",-78} | {"value",12} | {"unit",-9} | notes");
            Console.WriteLine($"|{new string('-', 80)}|{new string('-', 14)}|{new string('-', 11)}|------");
            foreach (var r in rows)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {r.What,-78} | {r.Value.ToString(r.Unit == "×" ? "N2" : "N1", CultureInfo.InvariantCulture),12} | {r.Unit,-9} | {r.Note}"));
        }

        public static string Percentiles(List<double> ms)
        {
            ms.Sort();
            double P(double q) => ms.Count == 0 ? 0 : ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(q * ms.Count) - 1)];
            return string.Create(CultureInfo.InvariantCulture, $"p50 {P(0.50):0.0} ms, p90 {P(0.90):0.0} ms, p99 {P(0.99):0.0} ms (n={ms.Count})");
        }
    }

    /// <summary>
    /// The runtime's allocation samples (one about every 100 KB allocated, with the type that crossed the mark), by
    /// type: where a step's allocations go, without a profiler. <c>-- --api --allocations</c>, during concurrency 8.
    /// </summary>
    public sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
    {
        private readonly Dictionary<string, long> bytes = [];

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1); // GC
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (e.EventName != "GCAllocationTick_V4" || e.Payload is null) return;
            var type = (string)e.Payload[e.PayloadNames!.IndexOf("TypeName")]!;
            var amount = Convert.ToInt64(e.Payload[e.PayloadNames!.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
            lock (bytes) bytes[type] = bytes.GetValueOrDefault(type) + amount;
        }

        public void Print(long steps)
        {
            lock (bytes)
                foreach (var (type, amount) in bytes.OrderByDescending(b => b.Value).Take(40))
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{amount / (double)steps / 1024,8:0.0} KB/step  {type}"));
        }
    }

    /// <summary>The durable-write ceiling: the engine's transaction shape (insert one event row with a unique (stream, version), upsert one summary) through Npgsql alone.</summary>
    public static class Ceiling
    {
        public static async Task PrepareAsync(string connection)
        {
            await using var db = new NpgsqlConnection(connection);
            await db.OpenAsync();
            await new NpgsqlCommand("""
                create schema if not exists bench;
                create table if not exists bench.events (seq bigserial primary key, stream uuid not null, version int not null, type text not null,
                  data jsonb not null, at timestamptz not null default now(), unique (stream, version));
                create table if not exists bench.summaries (id uuid primary key, data jsonb not null, version int not null);
                """, db).ExecuteNonQueryAsync();
        }

        public static async Task<Measured> RunAsync(string connection, int concurrency, TimeSpan duration)
        {
            var latencies = new List<double>();
            var stop = DateTime.UtcNow + duration;
            var watch = Stopwatch.StartNew();
            const string Event = """{"trajectoryId":"x","trigger":"evaluatieGehouden","track":"main","from":"BehandelingHuisarts","to":"BehandelingHuisarts","data":{"evaluatie":"gaat goed"}}""";
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                var mine = new List<double>();
                await using var db = new NpgsqlConnection(connection);
                await db.OpenAsync();
                var stream = Guid.NewGuid();
                var version = 0;
                while (DateTime.UtcNow < stop)
                {
                    var t = Stopwatch.GetTimestamp();
                    await using var tx = await db.BeginTransactionAsync();
                    version++;
                    await using (var batch = new NpgsqlBatch(db, tx))
                    {
                        batch.BatchCommands.Add(new NpgsqlBatchCommand("insert into bench.events (stream, version, type, data) values ($1, $2, 'step_taken', $3::jsonb)")
                            { Parameters = { new() { Value = stream }, new() { Value = version }, new() { Value = Event } } });
                        batch.BatchCommands.Add(new NpgsqlBatchCommand("insert into bench.summaries (id, data, version) values ($1, $2::jsonb, $3) on conflict (id) do update set data = excluded.data, version = excluded.version")
                            { Parameters = { new() { Value = stream }, new() { Value = Event }, new() { Value = version } } });
                        await batch.ExecuteNonQueryAsync();
                    }
                    await tx.CommitAsync();
                    mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }
                lock (latencies) latencies.AddRange(mine);
            }));
            return new Measured(latencies.Count / watch.Elapsed.TotalSeconds, Report.Percentiles(latencies), latencies.Count);
        }
    }

    /// <summary>POHs over HTTP: each worker walks new patients through SOLK, one request per step, with a bearer token.</summary>
    public static class Api
    {
        /// <param name="pause">A pause after every request, for a steady trickle of steps instead of as many as possible.</param>
        public static async Task<Measured> RunAsync(Uri address, AuthOptions auth, string practice, int concurrency, TimeSpan duration,
            TimeSpan pause = default, CancellationToken stopped = default)
        {
            using var client = Client(address, auth, practice, concurrency, "huisarts");
            var latencies = new List<double>();
            var stop = DateTime.UtcNow + duration;
            var watch = Stopwatch.StartNew();
            var patients = 0;
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                var mine = new List<double>();
                while (DateTime.UtcNow < stop && !stopped.IsCancellationRequested)
                {
                    var patient = $"bench-{Interlocked.Increment(ref patients)}";
                    var t = Stopwatch.GetTimestamp();
                    var started = await client.PostAsJsonAsync("/api/trajectories", new { patientId = patient, pathway = "solk" });
                    started.EnsureSuccessStatusCode();
                    mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                    var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
                    foreach (var (trigger, json) in Walk.Steps)
                    {
                        if (DateTime.UtcNow >= stop || stopped.IsCancellationRequested) break;
                        if (pause > TimeSpan.Zero) await Task.Delay(pause, CancellationToken.None);
                        t = Stopwatch.GetTimestamp();
                        var content = new StringContent($$"""{"trigger":"{{trigger}}","data":{{json}}}""", System.Text.Encoding.UTF8, "application/json");
                        var response = await client.PostAsync($"/api/trajectories/{id}/fire", content);
                        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{trigger}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                        mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                    }
                }
                lock (latencies) latencies.AddRange(mine);
            }));
            return new Measured(latencies.Count / watch.Elapsed.TotalSeconds, Report.Percentiles(latencies), latencies.Count);
        }

        public static async Task<Measured> QueryAsync(Uri address, AuthOptions auth, string practice, string route, int times)
        {
            using var client = Client(address, auth, practice, 1, "praktijkmanager", "huisarts");
            // The first read of a practice reads it whole; a few more start the route's compilation in tiers.
            for (var warm = Stopwatch.StartNew(); warm.Elapsed < TimeSpan.FromSeconds(2);) (await client.GetAsync(route)).EnsureSuccessStatusCode();
            var latencies = new List<double>();
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < times; i++)
            {
                var t = Stopwatch.GetTimestamp();
                (await client.GetAsync(route)).EnsureSuccessStatusCode();
                latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
            return new Measured(times / watch.Elapsed.TotalSeconds, Report.Percentiles(latencies));
        }

        private static HttpClient Client(Uri address, AuthOptions auth, string practice, int connections, params string[] roles)
        {
            var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections }) { BaseAddress = address };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
                KbClaims.CreateToken(auth, "bench-" + roles[0], "Bench", roles, practice, TimeSpan.FromHours(2)));
            return client;
        }
    }

    /// <summary>Fills the store with walked SOLK trajectories spread over practices and 18 months, 500 per transaction.</summary>
    public static class Seeder
    {
        public static string Practice(int i) => $"bench-praktijk-{i:00}";

        /// <param name="completed">Walk every trajectory to its end (a history of years, mostly closed), instead of a
        /// random number of steps (mostly open).</param>
        public static async Task<(int Trajectories, long Events, int Completed)> RunAsync(IDocumentStore store, PatientKeyRing keys,
            KbPathways.Domain.Pathways.Model.PathwayDefinition solk, long target, int practices, bool completed)
        {
            var random = new Random(7);
            long written = 0;
            var trajectories = 0;
            var closed = 0;
            while (written < target)
            {
                await using var session = store.LightweightSession();
                await keys.GetOrCreateManyAsync([.. Enumerable.Range(trajectories, 500).Select(n => (Practice(n % practices), $"seed-{n}"))]);
                for (var i = 0; i < 500 && written < target; i++, trajectories++)
                {
                    var id = Guid.CreateVersion7();
                    var start = Walk.Epoch.AddHours(random.Next(0, 18 * 30 * 24));
                    var steps = random.Next(0, Walk.Steps.Length + 1);
                    var events = Walk.Events(solk, id, Practice(trajectories % practices), $"seed-{trajectories}", start, completed ? Walk.Steps.Length : steps);
                    var state = Trajectory.Replay(events);
                    if (completed)
                    {
                        var closing = TrajectoryDecider.Fire(new FireTrigger("afsluiten", Walk.Huisarts, Walk.Data("""{"signaleringsplan": true, "uitkomst": "stabiel"}""")),
                            state, solk, start.AddDays(Walk.Steps.Length + 1));
                        events.AddRange(closing);
                        state = closing.Aggregate(state, Trajectory.Evolve);
                    }
                    session.Events.StartStream<Trajectory>(id, events.ToArray());
                    if (state.Completed) closed++;
                    session.Store(TrajectorySummary.Of(state));
                    written += events.Count;
                }
                await session.SaveChangesAsync();
                Console.Error.Write($"\rseed: {written:N0}/{target:N0} events");
            }
            Console.Error.WriteLine();
            return (trajectories, written, closed);
        }
    }
}
