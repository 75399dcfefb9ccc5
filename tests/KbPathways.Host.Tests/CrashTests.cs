using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KbPathways.Host.AccessLog;
using KbPathways.Host.Identity;
using KbPathways.Projections.Database;
using KbPathways.Testing;
using Npgsql;

namespace KbPathways.Host.Tests;

/// <summary>
/// Crash safety with the host as its own process: POHs walk patients through SOLK (every step with an
/// Idempotency-Key, retried after a failure) while the host is killed with SIGKILL at random moments and restarted.
/// Afterwards: every acknowledged step is in its stream, every stream is a clean prefix whose summary equals its
/// fold, and the access log's chain is whole. The number of kills is <c>KB_CRASH_KILLS</c> (default 100).
/// </summary>
[Trait("Category", "Reliability")]
public class CrashTests : IAsyncLifetime
{
    private static readonly (string Trigger, string Json)[] Walk =
    [
        ("werkhypotheseVastgelegd", """{"medischOnderzoekAfgerond": true, "scegsNotities": "SCEGS"}"""),
        ("ernstVastgesteld", """{"klachtenclusters": 1, "beperking": "licht", "duurWeken": 4}"""),
        ("adviesGegeven", """{"cvg": {"cijfer": 5}}"""),
        ("evaluatieGehouden", """{"evaluatie": "eerste"}"""),
        ("evaluatieGehouden", """{"evaluatie": "tweede"}"""),
        ("doelenBereikt", """{"cvg": {"cijfer": 7}, "evaluatie": "bereikt"}"""),
    ];

    private readonly ScratchDirectory scratch = new("crash");
    private EmbeddedPostgres postgres = null!;
    private readonly string signingKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    private static string Pathways => Path.Combine(HostFixture.RepoRoot, "pathways");

    public async Task InitializeAsync() => postgres = await EmbeddedPostgres.StartAsync(scratch.Path);

    public async Task DisposeAsync()
    {
        await postgres.StopAsync();
        scratch.Dispose();
    }

    private sealed record Acknowledged(Guid Trajectory, int Version, string Trigger);

    /// <summary>POHs walking patients through SOLK against whichever address the host has now; every step is retried
    /// with its Idempotency-Key until it is answered. Each POH is a user of their own (each user has a request budget).</summary>
    private sealed class Load(Func<int, string> token, Func<Uri> address)
    {
        private readonly CancellationTokenSource stop = new();
        private Task[] workers = [];
        public List<Acknowledged> Acknowledged { get; } = [];
        public int Failures;
        public List<(int Status, string Body)> Refusals { get; } = [];

        public int Count { get { lock (Acknowledged) return Acknowledged.Count; } }

        public void Start(int count) => workers = [.. Enumerable.Range(0, count).Select(w => Task.Run(() => Worker(w)))];

        public async Task StopAsync()
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }

        private async Task<HttpResponseMessage?> Send(HttpClient client, Func<HttpRequestMessage> request)
        {
            try
            {
                var response = await client.SendAsync(request());
                if (response.IsSuccessStatusCode) return response;
                var text = await response.Content.ReadAsStringAsync();
                lock (Refusals) Refusals.Add(((int)response.StatusCode, text));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            Interlocked.Increment(ref Failures);
            await Task.Delay(100);
            return null;
        }

        private async Task Worker(int worker)
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token(worker));
            for (var patient = 0; !stop.IsCancellationRequested; patient++)
            {
                // A start without a key: unacknowledged when the host dies, then simply started again.
                var started = await Send(client, () => new HttpRequestMessage(HttpMethod.Post, new Uri(address(), "/api/trajectories"))
                    { Content = JsonContent.Create(new { patientId = $"w{worker}-p{patient}", pathway = "solk" }) });
                if (started is null) continue;
                var body = await started.Content.ReadFromJsonAsync<JsonElement>();
                var id = Guid.Parse(body.GetProperty("id").GetString()!);
                lock (Acknowledged) Acknowledged.Add(new(id, body.GetProperty("streamVersion").GetInt32(), "start"));
                foreach (var (trigger, json) in Walk)
                {
                    var key = Guid.NewGuid().ToString();
                    // The same request, with the same key, until it is answered: applied once however often it is sent.
                    while (!stop.IsCancellationRequested)
                    {
                        var response = await Send(client, () => new HttpRequestMessage(HttpMethod.Post, new Uri(address(), $"/api/trajectories/{id}/fire"))
                        {
                            Content = new StringContent($$"""{"trigger":"{{trigger}}","data":{{json}}}""", Encoding.UTF8, "application/json"),
                            Headers = { { "Idempotency-Key", key } },
                        });
                        if (response is null) continue;
                        var after = await response.Content.ReadFromJsonAsync<JsonElement>();
                        lock (Acknowledged) Acknowledged.Add(new(id, after.GetProperty("streamVersion").GetInt32(), trigger));
                        break;
                    }
                }
            }
        }
    }

    private string Token(int worker) =>
        KbClaims.CreateToken(new AuthOptions { SigningKey = signingKey }, $"poh-{worker + 1}", "POH", ["huisarts"], "praktijk-crash", TimeSpan.FromHours(2));

    [Fact]
    public async Task Given_mixed_load_When_the_host_is_killed_at_random_moments_Then_nothing_acknowledged_is_lost_and_every_stream_is_whole()
    {
        var kills = int.TryParse(Environment.GetEnvironmentVariable("KB_CRASH_KILLS"), out var k) ? k : 100;
        var host = await HostProcess.StartAsync(postgres.ConnectionString, Pathways, signingKey);
        var load = new Load(Token, () => host.Address);
        load.Start(4);
        var random = new Random(2026);
        try
        {
            for (var i = 0; i < kills; i++)
            {
                // Every other kill lands at a random moment once the host serves steps; the others at a random moment
                // of its first second, while it compiles its handlers and answers its first requests.
                if (i % 2 == 0)
                {
                    var served = load.Count;
                    for (var wait = 0; load.Count <= served && wait < 600; wait++) await Task.Delay(50);
                }
                await Task.Delay(random.Next(0, i % 2 == 0 ? 500 : 1000));
                host.Kill();
                await host.DisposeAsync();
                host = await HostProcess.StartAsync(postgres.ConnectionString, Pathways, signingKey);
            }
            await Task.Delay(1000);
        }
        catch
        {
            await load.StopAsync();
            await host.DisposeAsync(); // no stray host process when the test fails
            throw;
        }
        await load.StopAsync();
        await host.DisposeAsync();

        load.Acknowledged.Count(a => a.Trigger != "start").ShouldBeGreaterThan(kills); // the load was real
        load.Refusals.Where(r => r.Status is not (500 or 503)).ShouldBeEmpty(); // never a rejection of a valid step
        await using var db = new NpgsqlConnection(postgres.ConnectionString);
        await db.OpenAsync();
        var stepCount = await AssertWhole(db, load.Acknowledged);

        // The projections equal a rebuild from the events.
        var before = await Summaries(db);
        (await KbPathways.Host.Cli.KbCommandLine.RunAsync(["rebuild", $"--ConnectionStrings:Postgres={postgres.ConnectionString}",
            $"--Pathways:Path={Pathways}", "--Logging:LogLevel:Default=Warning"], new StringWriter(), new StringWriter())).ShouldBe(0);
        (await Summaries(db)).ShouldBe(before);

        // The access log survived every kill whole; records left unsealed by a kill are sealed by the next host.
        var log = new AccessLogStore(postgres.ConnectionString, new AccessLogSigning(
            KbPathways.Host.Identity.DevelopmentKeys.Read(AccessLogOptions.DevelopmentKeyFile), ScratchDirectory.NewAccessLogHeadFile()));
        while (await log.SealAsync() > 0) { }
        (await log.VerifyAsync(TimeSpan.Zero)).ShouldBeNull();

        Console.WriteLine($"crash suite: {kills} SIGKILLs survived; {load.Acknowledged.Count} acknowledged commands, {stepCount} steps stored, {load.Failures} failed attempts retried");
    }

    [Fact]
    public async Task Given_load_When_postgres_restarts_Then_503_without_detail_while_down_healthy_soon_after_and_nothing_acknowledged_lost()
    {
        await using var host = await HostProcess.StartAsync(postgres.ConnectionString, Pathways, signingKey);
        var load = new Load(Token, () => host.Address);
        load.Start(2);
        for (var wait = 0; load.Count < 10 && wait < 600; wait++) await Task.Delay(50);
        using var probe = new HttpClient { BaseAddress = host.Address };
        TimeSpan healthyAfter;
        try
        {
            var restart = postgres.RestartAsync(down: TimeSpan.FromSeconds(5));
            await Task.Delay(2500);
            var down = await probe.GetAsync("/health");
            down.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            await restart;
            var back = System.Diagnostics.Stopwatch.StartNew();
            while ((await probe.GetAsync("/health")).StatusCode != HttpStatusCode.OK && back.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(100);
            healthyAfter = back.Elapsed;
            var served = load.Count;
            for (var wait = 0; load.Count <= served + 5 && wait < 600; wait++) await Task.Delay(50);
        }
        finally
        {
            await load.StopAsync();
        }

        healthyAfter.ShouldBeLessThan(TimeSpan.FromSeconds(30));
        load.Refusals.ShouldNotBeEmpty(); // requests did meet the outage
        load.Refusals.ShouldAllBe(r => r.Status == 503 && r.Body.Contains("\"status\":503") && !r.Body.Contains("   at ") && !r.Body.Contains("Exception"));
        await using var db = new NpgsqlConnection(postgres.ConnectionString);
        await db.OpenAsync();
        await AssertWhole(db, load.Acknowledged);
        Console.WriteLine($"postgres restart: healthy {healthyAfter.TotalSeconds:0.0} s after it was back; {load.Refusals.Count} requests answered 503 while down; {load.Acknowledged.Count} acknowledged, none lost");
    }

    /// <summary>
    /// Every acknowledged command is in its stream; every stream is a clean prefix whose summary was written with it;
    /// no keyed step applied twice. Returns the number of steps stored.
    /// </summary>
    private static async Task<int> AssertWhole(NpgsqlConnection db, List<Acknowledged> acknowledged)
    {
        // 1. The answer's version exists, and the last step at or before it is the acknowledged one (a step appends
        //    its StepTaken, then any deadlines it arms).
        var steps = new Dictionary<Guid, SortedList<int, string>>();
        var lengths = new Dictionary<Guid, int>();
        await using (var read = new NpgsqlCommand("SELECT e.stream_id, e.version, e.type, coalesce(e.data->>'Trigger', 'start') FROM kbpathways.mt_events e JOIN kbpathways.mt_streams s ON s.id = e.stream_id WHERE s.type = 'trajectory'", db))
        await using (var reader = await read.ExecuteReaderAsync())
            while (await reader.ReadAsync())
            {
                var (id, version, type) = (reader.GetGuid(0), (int)reader.GetInt64(1), reader.GetString(2));
                lengths[id] = Math.Max(lengths.GetValueOrDefault(id), version);
                if (type is "trajectory_started" or "step_taken")
                    (steps.TryGetValue(id, out var list) ? list : steps[id] = [])[version] = reader.GetString(3);
            }
        var lost = acknowledged.Where(a => lengths.GetValueOrDefault(a.Trajectory) < a.Version
            || steps[a.Trajectory].LastOrDefault(s => s.Key <= a.Version).Value != a.Trigger).ToList();
        lost.ShouldBeEmpty();

        // 2. Every stream is a clean prefix 1..n, its stream row says n, and its summary was written with it (same transaction).
        await using (var check = new NpgsqlCommand("""
            SELECT count(*) FROM (
              SELECT s.id, s.version, count(e.*) AS n, min(e.version) AS lo, max(e.version) AS hi, (d.data->>'Version')::int AS summary
              FROM kbpathways.mt_streams s JOIN kbpathways.mt_events e ON e.stream_id = s.id
              LEFT JOIN kbpathways.mt_doc_trajectorysummary d ON d.id = s.id
              WHERE s.type = 'trajectory' GROUP BY s.id, s.version, d.data) x
            WHERE n <> hi OR lo <> 1 OR version <> hi OR summary IS DISTINCT FROM hi::int
            """, db))
            ((long)(await check.ExecuteScalarAsync())!).ShouldBe(0);

        // 3. No step applied twice: one idempotency record per stored step (every step here was sent with a key).
        var keyed = (long)(await new NpgsqlCommand("SELECT count(*) FROM kbpathways.mt_doc_idempotencyrecord", db).ExecuteScalarAsync())!;
        var stepCount = steps.Values.Sum(l => l.Count(s => s.Value != "start"));
        keyed.ShouldBe(stepCount);
        return stepCount;
    }

    private static async Task<List<string>> Summaries(NpgsqlConnection db)
    {
        var rows = new List<string>();
        await using var command = new NpgsqlCommand("SELECT id::text || data::text FROM kbpathways.mt_doc_trajectorysummary ORDER BY id", db);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }
}
