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

    [Fact]
    public async Task Given_running_trajectories_When_migrated_from_the_command_line_Then_the_dry_run_reports_per_patient_changes_nothing_and_is_logged()
    {
        var huisarts = host.Client(practice, "huisarts");
        var waiting = await huisarts.Start("solk", "cm-1");
        var hypothesis = await huisarts.Start("solk", "cm-2");
        (await huisarts.Fire(hypothesis, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" } })).EnsureSuccessStatusCode();
        using var scratch = new KbPathways.Testing.ScratchDirectory("migrate");
        Directory.CreateDirectory(scratch.Path);
        var candidate = Path.Combine(scratch.Path, "solk-v2.yaml");
        await File.WriteAllTextAsync(candidate, (await File.ReadAllTextAsync(Path.Combine(HostFixture.RepoRoot, "pathways", "solk.yaml")))
            .Replace("version: 1", "version: 2").Replace("Werkhypothese", "Hypothese"));
        string[] settings = [$"--ConnectionStrings:Postgres={host.ConnectionString}", $"--Pathways:Path={Path.Combine(HostFixture.RepoRoot, "pathways")}"];

        async Task<(int Exit, string Output)> Migrate(params string[] args)
        {
            var output = new StringWriter();
            var exit = await KbPathways.Host.Cli.KbCommandLine.RunAsync(["migrate", "--practice", practice, "--candidate", candidate, .. args, .. settings], output, output);
            return (exit, output.ToString());
        }
        async Task<int> Version(string id) =>
            (await (await huisarts.GetAsync($"/api/trajectories/{id}/history")).Body()).EnumerateArray().Count(e => e.GetProperty("type").GetString() == "TrajectoryMigrated");

        var (exit, dry) = await Migrate();
        exit.ShouldBe(0, dry);
        dry.ShouldContain("cm-2");
        dry.ShouldContain("cannot move: ");
        dry.ShouldContain("solk v2: 1 of 2 running trajectories can move (dry run: nothing changed");
        (await Version(waiting)).ShouldBe(0);

        (exit, var mapped) = await Migrate("--map", "Werkhypothese=Hypothese", "--json");
        exit.ShouldBe(0, mapped);
        var report = System.Text.Json.JsonDocument.Parse(mapped).RootElement;
        report.GetProperty("movable").GetInt32().ShouldBe(2);
        report.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("patientId").GetString() == "cm-2").GetProperty("toState").GetString().ShouldBe("Hypothese");
        (await Version(hypothesis)).ShouldBe(0);

        (exit, var bad) = await Migrate("--map", "Werkhypothese");
        exit.ShouldBe(1);
        bad.ShouldContain("--map takes old=new state names; 'Werkhypothese' is not");

        // NEN 7513: each dry run read both patients' trajectories; each record names exactly them.
        var log = await (await host.Client(practice, "praktijkmanager").GetAsync("/api/access-log?patientId=cm-2")).Body();
        var records = log.EnumerateArray().Where(r => r.GetProperty("eventType").GetString() == "trajectory.migrate").ToList();
        records.Select(r => r.GetProperty("action").GetString()).ShouldBe(["R", "R"]);
        foreach (var record in records)
        {
            record.GetProperty("user").GetString()!.ShouldStartWith("cli:");
            record.GetProperty("patients").EnumerateArray().Select(p => p.GetString()).Order().ShouldBe(["cm-1", "cm-2"]);
            record.GetProperty("accessPoint").GetString()!.ShouldContain("command line: migrate");
        }
    }
}
