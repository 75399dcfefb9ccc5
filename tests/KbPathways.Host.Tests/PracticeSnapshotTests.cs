using KbPathways.Projections;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace KbPathways.Host.Tests;

/// <summary>
/// The dashboard, worklist and report read a practice through <see cref="PracticeSnapshots"/>, which keeps documents in
/// memory between reads. Here a second host's snapshots (its own instance, its own memory) read while this host
/// writes: every read must show what was committed before it, and read again only what changed.
/// </summary>
[Collection(HostCollection.Name)]
public class PracticeSnapshotTests(HostFixture host)
{
    [Fact]
    public async Task Given_a_practice_read_by_another_host_When_this_host_takes_a_step_and_erases_a_patient_Then_its_next_reads_show_both()
    {
        var practice = HostFixture.NewPractice();
        var huisarts = host.Client(practice, "huisarts");
        var ids = new[] { await huisarts.Start("solk", "s-1"), await huisarts.Start("solk", "s-2"), await huisarts.Start("solk", "s-3") };
        await using var dataSource = NpgsqlDataSource.Create(host.ConnectionString);
        var other = new PracticeSnapshots(dataSource, host.Services.GetRequiredService<IDocumentStore>(), capacity: 1);

        var first = await other.ReadAsync(practice);
        first.Summaries.Select(s => s.PatientId).Order().ShouldBe(["s-1", "s-2", "s-3"]);
        first.Summaries.ShouldAllBe(s => s.State == "Gesignaleerd");
        (await other.ReadAsync(practice)).ShouldBeSameAs(first, "nothing changed, so nothing is read or derived again");

        (await huisarts.Fire(ids[1], new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" } }))
            .EnsureSuccessStatusCode();
        var second = await other.ReadAsync(practice);
        second.ShouldNotBeSameAs(first);
        second.Summaries.Single(s => s.PatientId == "s-2").State.ShouldBe("Werkhypothese");
        foreach (var unchanged in second.Summaries.Where(s => s.PatientId != "s-2"))
            unchanged.ShouldBeSameAs(first.Summaries.Single(s => s.Id == unchanged.Id), "an unchanged trajectory is not read again");

        (await huisarts.DeleteAsync("/api/patients/s-3")).EnsureSuccessStatusCode();
        (await other.ReadAsync(practice)).Summaries.Select(s => s.PatientId).Order().ShouldBe(["s-1", "s-2"]);

        other.Count.ShouldBe(1);
        (await other.ReadAsync(HostFixture.NewPractice())).Summaries.ShouldBeEmpty();
        other.Count.ShouldBe(1, "capacity 1: the practice read longest ago is dropped");
    }

    [Fact]
    public async Task Given_a_dashboard_just_read_When_a_step_is_taken_and_the_patient_erased_Then_the_next_reads_show_it_and_memory_is_emptied()
    {
        var practice = HostFixture.NewPractice();
        var huisarts = host.Client(practice, "huisarts");
        var manager = host.Client(practice, "praktijkmanager");
        var id = await huisarts.Start("solk", "n-1");
        string States(System.Text.Json.JsonElement dashboard) => string.Join(",", dashboard.GetProperty("states").EnumerateArray()
            .Select(s => $"{s.GetProperty("state").GetString()}={s.GetProperty("count").GetInt32()}"));

        States(await (await manager.GetAsync("/api/dashboard")).Body()).ShouldBe("Gesignaleerd=1");
        (await (await huisarts.GetAsync("/api/worklist")).Body()).GetProperty("total").GetInt32().ShouldBe(1);

        (await huisarts.Fire(id, new { trigger = "uitvallen", data = new { reden = "x" } })).EnsureSuccessStatusCode();
        var after = await (await manager.GetAsync("/api/dashboard")).Body();
        States(after).ShouldBe("");
        after.GetProperty("completed").GetInt32().ShouldBe(1);
        (await (await huisarts.GetAsync("/api/worklist")).Body()).GetProperty("total").GetInt32().ShouldBe(0);

        // An erasure empties what the host holds, so the erased patient's summary does not wait in memory for a next read.
        var held = host.Services.GetRequiredService<PracticeSnapshots>();
        held.Count.ShouldBeGreaterThan(0);
        (await huisarts.DeleteAsync("/api/patients/n-1")).EnsureSuccessStatusCode();
        for (var wait = 0; held.Count > 0 && wait < 50; wait++) await Task.Delay(100);
        held.Count.ShouldBe(0);
    }
}
