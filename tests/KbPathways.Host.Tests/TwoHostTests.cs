using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using KbPathways.Host.Identity;
using KbPathways.Projections.Database;
using KbPathways.Testing;
using Npgsql;

namespace KbPathways.Host.Tests;

/// <summary>
/// Two host processes on one PostgreSQL: both take commands; every deadline alarm rings on exactly one of them, and
/// when one is killed with SIGKILL the other rings the alarms it had scheduled — nothing doubled, nothing lost.
/// </summary>
[Trait("Category", "Reliability")]
public class TwoHostTests : IAsyncLifetime
{
    /// <summary>A pathway whose only deadline is one minute: the shortest the pathway language has.</summary>
    private const string Alarm = """
        id: wekker
        version: 1
        title: Wekkercontrole
        roles:
          poh: POH
        states:
          Wacht:
            initial: true
            owner: poh
            deadlines:
              termijn: { after: PT1M, fires: verlopen }
            on:
              verlopen: { roles: [], to: Verlopen }
          Verlopen: { final: true, outcome: verlopen }
        """;

    private readonly ScratchDirectory scratch = new("two");
    private readonly ScratchDirectory pathways = new("two-pathways");
    private readonly string signingKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    private EmbeddedPostgres postgres = null!;

    public async Task InitializeAsync()
    {
        postgres = await EmbeddedPostgres.StartAsync(scratch.Path);
        Directory.CreateDirectory(pathways.Path);
        foreach (var file in Directory.GetFiles(Path.Combine(HostFixture.RepoRoot, "pathways"), "*.yaml"))
            File.Copy(file, Path.Combine(pathways.Path, Path.GetFileName(file)));
        await File.WriteAllTextAsync(Path.Combine(pathways.Path, "wekker.yaml"), Alarm);
    }

    public async Task DisposeAsync()
    {
        await postgres.StopAsync();
        scratch.Dispose();
        pathways.Dispose();
    }

    [Fact]
    public async Task Given_two_hosts_When_one_is_killed_before_its_alarms_ring_Then_every_alarm_rings_once_on_the_other()
    {
        var a = await HostProcess.StartAsync(postgres.ConnectionString, pathways.Path, signingKey);
        await using var b = await HostProcess.StartAsync(postgres.ConnectionString, pathways.Path, signingKey);
        var token = KbClaims.CreateToken(new AuthOptions { SigningKey = signingKey }, "poh-1", "POH", ["poh", "huisarts"], "praktijk-twee", TimeSpan.FromHours(1));
        HttpClient Client(HostProcess host) => new() { BaseAddress = host.Address, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };
        using var toA = Client(a);
        using var toB = Client(b);

        // 60 trajectories, half started on each host: each host schedules the alarms of its own commands.
        var ids = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            var response = await (i % 2 == 0 ? toA : toB).PostAsJsonAsync("/api/trajectories", new { patientId = $"w-{i}", pathway = "wekker" });
            response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }
        // Every alarm's envelope id is a random version-7 GUID. The default ids, made from the machine's network identity
        // and a clock, collided between two host processes on one machine, and the step whose alarm collided failed.
        await using (var envelopes = new NpgsqlConnection(postgres.ConnectionString))
        {
            await envelopes.OpenAsync();
            await using var query = new NpgsqlCommand("SELECT id FROM kbpathways.wolverine_incoming_envelopes", envelopes);
            var alarmIds = new List<Guid>();
            await using (var rows = await query.ExecuteReaderAsync())
                while (await rows.ReadAsync()) alarmIds.Add(rows.GetGuid(0));
            alarmIds.Count.ShouldBeGreaterThanOrEqualTo(ids.Count);
            alarmIds.ShouldAllBe(id => id.Version == 7);
        }
        a.Kill(); // before any alarm is due: host A's alarms are only in the database now
        await a.DisposeAsync();

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        int done;
        do
        {
            await Task.Delay(2000);
            done = 0;
            foreach (var id in ids)
                if ((await (await toB.GetAsync($"/api/trajectories/{id}")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString() == "Verlopen") done++;
        } while (done < ids.Count && DateTime.UtcNow < deadline);
        done.ShouldBe(ids.Count);

        await using var db = new NpgsqlConnection(postgres.ConnectionString);
        await db.OpenAsync();
        await Task.Delay(3000); // any duplicate alarm would have rung by now
        await using var count = new NpgsqlCommand("""
            SELECT count(*) FILTER (WHERE n <> 1), count(*) FROM (
              SELECT e.stream_id, count(*) AS n FROM kbpathways.mt_events e
              WHERE e.type = 'step_taken' AND e.data->>'Trigger' = 'verlopen' GROUP BY e.stream_id) x
            """, db);
        await using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        reader.GetInt64(0).ShouldBe(0); // no trajectory whose alarm rang twice
        reader.GetInt64(1).ShouldBe(ids.Count); // and none that did not ring
        Console.WriteLine($"two hosts: {ids.Count} alarms (half scheduled by the killed host) rang exactly once on the survivor");
    }
}
