using System.Net;
using System.Net.Http.Json;

namespace KbPathways.Host.Tests;

[Collection(HostCollection.Name)]
public class MigrationTests(HostFixture host)
{
    private readonly string practice = HostFixture.NewPractice();

    [Fact]
    public async Task Given_running_trajectories_When_migrated_to_a_new_version_Then_dry_run_reports_and_the_real_run_records_it()
    {
        var huisarts = host.Client(practice, "huisarts");
        var waiting = await huisarts.Start("solk", "m-1");
        var hypothesis = await huisarts.Start("solk", "m-2");
        (await huisarts.Fire(hypothesis, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" } })).EnsureSuccessStatusCode();
        var v2 = (await File.ReadAllTextAsync(Path.Combine(HostFixture.RepoRoot, "pathways", "solk.yaml")))
            .Replace("version: 1", "version: 2").Replace("Werkhypothese", "Hypothese");
        var manager = host.Client(practice, "praktijkmanager");

        var dry = await (await manager.PostAsJsonAsync("/api/migrations", new { candidate = v2 })).Body();
        dry.GetProperty("dryRun").GetBoolean().ShouldBeTrue();
        dry.GetProperty("total").GetInt32().ShouldBe(2);
        dry.GetProperty("movable").GetInt32().ShouldBe(1);
        var refused = dry.GetProperty("items").EnumerateArray().Single(i => !i.GetProperty("canMove").GetBoolean());
        refused.GetProperty("patientId").GetString().ShouldBe("m-2");
        refused.GetProperty("refusal").GetString()!.ShouldContain("'Werkhypothese' does not exist in version 2");
        (await (await huisarts.GetAsync($"/api/trajectories/{hypothesis}")).Body()).GetProperty("definitionVersion").GetInt32().ShouldBe(1);

        var real = await manager.PostAsJsonAsync("/api/migrations", new { candidate = v2, dryRun = false, mapping = new Dictionary<string, string> { ["Werkhypothese"] = "Hypothese" } });
        real.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await real.Body()).GetProperty("movable").GetInt32().ShouldBe(2);

        var moved = await (await huisarts.GetAsync($"/api/trajectories/{hypothesis}")).Body();
        moved.GetProperty("definitionVersion").GetInt32().ShouldBe(2);
        moved.GetProperty("state").GetString().ShouldBe("Hypothese");
        var history = await (await huisarts.GetAsync($"/api/trajectories/{hypothesis}/history")).Body();
        history.EnumerateArray().Count(e => e.GetProperty("type").GetString() == "TrajectoryMigrated").ShouldBe(1);
        (await huisarts.Fire(hypothesis, new { trigger = "ernstVastgesteld", data = new { klachtenclusters = 1, beperking = "licht", duurWeken = 3 } })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await (await huisarts.GetAsync($"/api/trajectories/{waiting}")).Body()).GetProperty("deadlines").GetArrayLength().ShouldBe(1);

        var again = await (await manager.PostAsJsonAsync("/api/migrations", new { candidate = v2, dryRun = false })).Body();
        again.GetProperty("total").GetInt32().ShouldBe(0);
    }
}
