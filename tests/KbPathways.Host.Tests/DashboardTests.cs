using System.Text.Json;

namespace KbPathways.Host.Tests;

[Collection(HostCollection.Name)]
public class DashboardTests(HostFixture host)
{
    private readonly string practice = HostFixture.NewPractice();

    [Fact]
    public async Task Given_trajectories_in_several_states_Then_dashboard_and_worklist_match_the_trajectories_themselves()
    {
        var huisarts = host.Client(practice, "huisarts", "poh-ggz", "poh-o");
        var ids = new List<string>
        {
            await huisarts.Start("solk", "d-1"), await huisarts.Start("solk", "d-2"), await huisarts.Start("solk", "d-3"),
            await huisarts.Start("proactieve-ouderenzorg", "d-4"),
        };
        (await huisarts.Fire(ids[1], new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" } })).EnsureSuccessStatusCode();
        (await huisarts.Fire(ids[2], new { trigger = "uitvallen", data = new { reden = "x" } })).EnsureSuccessStatusCode();

        var trajectories = new List<JsonElement>();
        foreach (var id in ids) trajectories.Add(await (await huisarts.GetAsync($"/api/trajectories/{id}")).Body());
        var expected = trajectories.Where(t => !t.GetProperty("completed").GetBoolean())
            .GroupBy(t => (t.GetProperty("pathway").GetString()!, t.GetProperty("state").GetString()!))
            .Select(g => $"{g.Key.Item1}/{g.Key.Item2}={g.Count()}").Order().ToList();

        var dashboard = await (await host.Client(practice, "praktijkmanager").GetAsync("/api/dashboard")).Body();
        dashboard.GetProperty("active").GetInt32().ShouldBe(3);
        dashboard.GetProperty("completed").GetInt32().ShouldBe(1);
        dashboard.GetProperty("states").EnumerateArray()
            .Select(s => $"{s.GetProperty("pathway").GetString()}/{s.GetProperty("state").GetString()}={s.GetProperty("count").GetInt32()}").Order()
            .ShouldBe(expected);
        dashboard.GetProperty("overdue").GetArrayLength().ShouldBe(0);

        var forPohGgz = (await (await host.Client(practice, "poh-ggz").GetAsync("/api/worklist")).Body()).GetProperty("items");
        forPohGgz.GetArrayLength().ShouldBe(0); // SOLK is with the huisarts in Gesignaleerd and Werkhypothese
        var forHuisarts = (await (await host.Client(practice, "huisarts").GetAsync("/api/worklist")).Body()).GetProperty("items");
        forHuisarts.EnumerateArray().Select(i => i.GetProperty("patientId").GetString()).Order().ShouldBe(["d-1", "d-2"]);
        var gesignaleerd = forHuisarts.EnumerateArray().Single(i => i.GetProperty("patientId").GetString() == "d-1");
        gesignaleerd.GetProperty("nextDeadline").GetString().ShouldBe("werkhypotheseTermijn");
        var forPohO = (await (await host.Client(practice, "poh-o").GetAsync("/api/worklist")).Body()).GetProperty("items");
        forPohO.EnumerateArray().Single().GetProperty("pathway").GetString().ShouldBe("proactieve-ouderenzorg");
    }
}
