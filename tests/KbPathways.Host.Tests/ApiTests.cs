using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace KbPathways.Host.Tests;

[Collection(HostCollection.Name)]
public class ApiTests(HostFixture host)
{
    private readonly string practice = HostFixture.NewPractice();

    private async Task<int> VersionOf(HttpClient client, string id) =>
        (await (await client.GetAsync($"/api/trajectories/{id}")).Body()).GetProperty("streamVersion").GetInt32();

    [Fact]
    public async Task Given_a_SOLK_patient_When_walked_through_the_API_Then_each_response_shows_the_right_next_steps()
    {
        var huisarts = host.Client(practice, "huisarts");
        var poh = host.Client(practice, "poh-ggz");
        var start = await huisarts.PostAsJsonAsync("/api/trajectories", new { patientId = "p-17", pathway = "solk" });
        start.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await start.Body();
        var id = body.GetProperty("id").GetString()!;
        start.Headers.Location!.ToString().ShouldBe($"/api/trajectories/{id}");
        body.GetProperty("state").GetString().ShouldBe("Gesignaleerd");
        // Beside the main flow: the 2e lijn, the expertteam or a meekijkconsult, and welzijn (tracks; seeds 001 and 003).
        string[] beside = ["verwezenNaarTweedeLijn", "expertteamGeraadpleegd", "meekijkconsultGevraagd", "verwezenNaarWelzijn"];
        string[] besidePoh = ["expertteamGeraadpleegd", "verwezenNaarWelzijn"];
        body.Strings("permittedTriggers").ShouldBe(["werkhypotheseVastgelegd", "uitvallen", "werkhypotheseHerzien", "overdragenTweedeLijn", .. beside]);
        body.GetProperty("deadlines").EnumerateArray().Select(d => d.GetProperty("trigger").GetString()).ShouldBe(["werkhypotheseVerlopen"]);

        async Task<JsonElement> Step(HttpClient who, string trigger, object? data, string state, string[] permitted, string[] deadlines)
        {
            var response = await who.Fire(id, new { trigger, data });
            var step = await response.Body();
            response.StatusCode.ShouldBe(HttpStatusCode.OK, step.ToString());
            step.GetProperty("state").GetString().ShouldBe(state);
            step.Strings("permittedTriggers").ShouldBe(permitted);
            step.GetProperty("deadlines").EnumerateArray().Select(d => d.GetProperty("name").GetString()!).ShouldBe(deadlines);
            return step;
        }
        string[] exits = ["uitvallen", "werkhypotheseHerzien", "overdragenTweedeLijn", .. beside];
        await Step(huisarts, "werkhypotheseVastgelegd", new { medischOnderzoekAfgerond = true, scegsNotities = "SCEGS" }, "Werkhypothese", ["ernstVastgesteld", .. exits], []);
        await Step(huisarts, "ernstVastgesteld", new { klachtenclusters = 3, beperking = "licht", duurWeken = 8 }, "Matig", ["verwezenNaarPohGgz", .. exits], []);
        await Step(huisarts, "verwezenNaarPohGgz", new { intakeDatum = "2026-12-01", vastgesteldMet = new[] { "pohGgz" } }, "IntakePOHGGZ", [.. exits], ["evaluatie"]);
        await Step(poh, "analyse4DAfgerond", new { vierD = new { prioriteit = "sociaal" }, cvg = new { cijfer = 5 } }, "Behandelplan", ["planVastgesteld", "uitvallen", .. besidePoh], []);
        await Step(poh, "planVastgesteld", new { behandelplan = "graded activity", meerdereDisciplines = false }, "BehandelingEerstelijns",
            ["evaluatieGehouden", "sessieGehouden", "doelenBereikt", "uitvallen", .. besidePoh], ["evaluatie"]);
        await Step(poh, "doelenBereikt", new { cvg = new { cijfer = 7 }, evaluatie = "doelen bereikt" }, "Terugvalpreventie", ["afsluiten", "uitvallen", .. besidePoh], ["checkin"]);
        var closed = await Step(poh, "afsluiten", new { signaleringsplan = true, uitkomst = "hersteld" }, "Afgesloten", [], []);
        closed.GetProperty("completed").GetBoolean().ShouldBeTrue();
        closed.GetProperty("outcome").GetString().ShouldBe("afgesloten");

        var history = await (await huisarts.GetAsync($"/api/trajectories/{id}/history")).Body();
        var steps = history.EnumerateArray().Where(e => e.GetProperty("type").GetString() == "StepTaken").ToList();
        steps.Select(s => s.GetProperty("trigger").GetString()).ShouldBe(
            ["werkhypotheseVastgelegd", "ernstVastgesteld", "verwezenNaarPohGgz", "analyse4DAfgerond", "planVastgesteld", "doelenBereikt", "afsluiten"]);
        steps[1].GetProperty("actor").GetProperty("role").GetString().ShouldBe("huisarts");
        steps[1].GetProperty("decision")[0].GetProperty("condition").GetString().ShouldBe("beperking = ernstig");
        steps[3].GetProperty("actor").GetProperty("role").GetString().ShouldBe("poh-ggz");
        history.EnumerateArray().Last().GetProperty("type").GetString().ShouldBe("TrajectoryCompleted");
    }

    [Fact]
    public async Task Given_bad_requests_When_sent_Then_each_gets_its_problem_and_nothing_is_appended()
    {
        var huisarts = host.Client(practice, "huisarts");
        var id = await huisarts.Start();
        var version = await VersionOf(huisarts, id);

        async Task Expect(HttpResponseMessage response, HttpStatusCode status, Action<JsonElement>? check = null)
        {
            response.StatusCode.ShouldBe(status, await response.Content.ReadAsStringAsync());
            response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            var problem = await response.Body();
            problem.GetProperty("status").GetInt32().ShouldBe((int)status);
            problem.ToString().ShouldNotContain("   at ");
            check?.Invoke(problem);
            (await VersionOf(huisarts, id)).ShouldBe(version);
        }

        await Expect(await huisarts.PostAsync($"/api/trajectories/{id}/fire", new StringContent("{\"trigger\":", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        await Expect(await host.Client(practice).Fire(id, new { trigger = "werkhypotheseVastgelegd" }), HttpStatusCode.Unauthorized);
        var forged = host.Client(practice);
        forged.DefaultRequestHeaders.Authorization = new("Bearer", host.Token(practice, "huisarts")[..^4] + "AAAA");
        await Expect(await forged.Fire(id, new { trigger = "werkhypotheseVastgelegd" }), HttpStatusCode.Unauthorized);
        await Expect(await host.Client(practice, "poh-ggz").Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" } }),
            HttpStatusCode.Forbidden);
        await Expect(await huisarts.Fire(id, new { trigger = "afsluiten" }), HttpStatusCode.Conflict,
            p => p.Strings("permittedTriggers").ShouldContain("werkhypotheseVastgelegd"));
        await Expect(await huisarts.Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" }, expectedVersion = version - 1 }),
            HttpStatusCode.Conflict);
        await Expect(await huisarts.Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = "ja" } }), HttpStatusCode.UnprocessableEntity,
            p => p.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order().ShouldBe(["medischOnderzoekAfgerond", "scegsNotities"]));
        await Expect(await huisarts.GetAsync($"/api/trajectories/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Given_another_practices_trajectory_When_read_or_fired_Then_404_exactly_as_for_an_unknown_id()
    {
        var id = await host.Client(practice, "huisarts").Start();
        var other = host.Client(HostFixture.NewPractice(), "huisarts");
        var unknown = Guid.NewGuid().ToString();

        foreach (var (theirs, missing) in new[]
                 {
                     (await other.GetAsync($"/api/trajectories/{id}"), await other.GetAsync($"/api/trajectories/{unknown}")),
                     (await other.GetAsync($"/api/trajectories/{id}/history"), await other.GetAsync($"/api/trajectories/{unknown}/history")),
                     (await other.Fire(id, new { trigger = "uitvallen", data = new { reden = "x" } }), await other.Fire(unknown, new { trigger = "uitvallen", data = new { reden = "x" } })),
                 })
        {
            theirs.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            (await theirs.Content.ReadAsStringAsync()).Replace(id, "ID").ShouldBe((await missing.Content.ReadAsStringAsync()).Replace(unknown, "ID"));
        }
        (await (await other.GetAsync("/api/trajectories")).Body()).GetProperty("total").GetInt32().ShouldBe(0);
    }

    [Fact]
    public async Task Given_50_concurrent_fires_with_one_expected_version_Then_exactly_one_wins()
    {
        var huisarts = host.Client(practice, "huisarts");
        var id = await huisarts.Start();
        var version = await VersionOf(huisarts, id);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
            huisarts.Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" }, expectedVersion = version })));

        responses.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.Conflict).ShouldBe(49);
        (await VersionOf(huisarts, id)).ShouldBe(version + 1);
    }

    [Fact]
    public async Task Given_two_trajectories_of_one_patient_When_both_record_an_instrument_at_once_Then_both_steps_are_kept()
    {
        var huisarts = host.Client(practice, "huisarts");
        var pairs = new List<(string Patient, string[] Trajectories)>();
        for (var p = 0; p < 12; p++)
        {
            var patient = $"samen-{p}";
            var ids = new[] { await huisarts.Start("solk", patient), await huisarts.Start("solk", patient) };
            foreach (var id in ids)
            {
                (await huisarts.Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" } })).EnsureSuccessStatusCode();
                (await huisarts.Fire(id, new { trigger = "ernstVastgesteld", data = new { klachtenclusters = 1, beperking = "licht", duurWeken = 4 } })).EnsureSuccessStatusCode();
            }
            pairs.Add((patient, ids));
        }

        // Both steps of a pair append an observation to the same patient stream at the same moment.
        var responses = await Task.WhenAll(pairs.SelectMany(pair => pair.Trajectories).Select(id =>
            huisarts.Fire(id, new { trigger = "adviesGegeven", data = new { cvg = new { cijfer = 5 } } })));

        responses.Select(r => r.StatusCode).ShouldAllBe(status => status == HttpStatusCode.OK);
        foreach (var (patient, _) in pairs)
        {
            var observations = await (await huisarts.GetAsync($"/api/patients/{patient}")).Body();
            observations.GetProperty("observations").EnumerateArray().Single().GetProperty("latestTotal").GetDecimal().ShouldBe(5);
        }
        var store = host.Services.GetRequiredService<Marten.IDocumentStore>();
        var keys = host.Services.GetRequiredService<KbPathways.Projections.Privacy.PatientKeyRing>();
        await using var session = store.QuerySession();
        foreach (var (patient, _) in pairs)
        {
            var key = (await keys.FindAsync(practice, patient))!;
            (await session.Events.FetchStreamAsync(key.Pseudonym)).Count(e => e.Data is KbPathways.Domain.Patients.ObservationRecorded).ShouldBe(2);
        }
    }

    [Fact]
    public async Task Given_one_idempotency_key_retried_10_times_serially_and_concurrently_Then_one_set_of_events_and_identical_answers()
    {
        var huisarts = host.Client(practice, "huisarts");
        var id = await huisarts.Start();
        var version = await VersionOf(huisarts, id);
        var step = new { trigger = "verwezenNaarTweedeLijn", data = new { verwijsvraag = "neurologie" } };

        var serial = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var response = await huisarts.Fire(id, step, key: "key-serial");
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            serial.Add(await response.Content.ReadAsStringAsync());
        }
        serial.Distinct().Count().ShouldBe(1);
        (await VersionOf(huisarts, id)).ShouldBe(version + 2); // the step and its deadline

        var back = new { trigger = "terugkoppelingOntvangen", data = new { terugkoppeling = "geen afwijkingen" } };
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => huisarts.Fire(id, back, key: "key-concurrent")));
        concurrent.ShouldAllBe(r => r.StatusCode == HttpStatusCode.OK);
        (await Task.WhenAll(concurrent.Select(r => r.Content.ReadAsStringAsync()))).Distinct().Count().ShouldBe(1);
        (await VersionOf(huisarts, id)).ShouldBe(version + 3);

        var reused = await huisarts.Fire(id, new { trigger = "uitvallen", data = new { reden = "x" } }, key: "key-serial");
        reused.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await VersionOf(huisarts, id)).ShouldBe(version + 3);
    }

    [Fact]
    public async Task Given_the_catalog_When_listed_Then_the_practice_sees_the_shared_pathways_with_hashes()
    {
        var client = host.Client(practice, "huisarts");
        var pathways = await (await client.GetAsync("/api/pathways")).Body();
        pathways.EnumerateArray().Select(p => p.GetProperty("id").GetString()).Order()
            .ShouldBe(["doen-wat-nodig-is", "fitgaaf", "kb-begeleiding", "meer-bewegen", "proactieve-ouderenzorg", "solk"]);
        pathways.EnumerateArray().ShouldAllBe(p => p.GetProperty("hash").GetString()!.Length == 64);

        var solk = await (await client.GetAsync("/api/pathways/solk")).Body();
        solk.GetProperty("mermaid").GetString()!.ShouldStartWith("stateDiagram-v2");
        (await client.GetAsync("/api/pathways/bestaat-niet")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var overlaid = await (await host.Client("voorbeeldpraktijk", "huisarts").GetAsync("/api/pathways/proactieve-ouderenzorg")).Body();
        overlaid.GetProperty("settings").GetProperty("gfiDrempel").GetString().ShouldBe("5");
    }

    [Fact]
    public async Task Given_trajectories_When_listed_with_filters_Then_only_matching_ones_of_the_practice_are_paged()
    {
        var client = host.Client(practice, "huisarts", "poh-o");
        await client.Start("solk", "a");
        await client.Start("solk", "b");
        await client.Start("proactieve-ouderenzorg", "a");

        var all = await (await client.GetAsync("/api/trajectories?pageSize=2")).Body();
        all.GetProperty("total").GetInt32().ShouldBe(3);
        all.GetProperty("items").GetArrayLength().ShouldBe(2);
        var second = await (await client.GetAsync("/api/trajectories?pageSize=2&page=2")).Body();
        (second.GetProperty("items").GetArrayLength(), second.GetProperty("total").GetInt32()).ShouldBe((1, 3));
        var past = await (await client.GetAsync("/api/trajectories?pageSize=2&page=3")).Body();
        past.TryGetProperty("items", out _).ShouldBeTrue(past.ToString());
        (past.GetProperty("items").GetArrayLength(), past.GetProperty("total").GetInt32()).ShouldBe((0, 3));   // past the end: still the total
        all.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray()).Select(t => t.GetProperty("id").GetString())
            .Distinct().Count().ShouldBe(3);                                                                   // the pages do not overlap
        (await (await client.GetAsync("/api/trajectories?patientId=a")).Body()).GetProperty("total").GetInt32().ShouldBe(2);
        (await (await client.GetAsync("/api/trajectories?pathway=solk&state=Gesignaleerd")).Body()).GetProperty("total").GetInt32().ShouldBe(2);
        var unparseable = await client.GetAsync("/api/trajectories?page=abc");
        unparseable.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        unparseable.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
    }

    [Fact]
    public async Task Given_a_trajectory_that_moved_on_When_read_as_of_an_earlier_time_or_version_Then_the_earlier_state()
    {
        var huisarts = host.Client(practice, "huisarts");
        var id = await huisarts.Start();
        await Task.Delay(50);
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(50);
        (await huisarts.Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" } })).EnsureSuccessStatusCode();

        (await (await huisarts.GetAsync($"/api/trajectories/{id}")).Body()).GetProperty("state").GetString().ShouldBe("Werkhypothese");
        var then = await (await huisarts.GetAsync($"/api/trajectories/{id}?asOf={Uri.EscapeDataString(between.ToString("O"))}")).Body();
        then.GetProperty("state").GetString().ShouldBe("Gesignaleerd");
        then.GetProperty("streamVersion").GetInt32().ShouldBe(2);
        (await (await huisarts.GetAsync($"/api/trajectories/{id}?version=1")).Body()).GetProperty("deadlines").GetArrayLength().ShouldBe(0);
        (await huisarts.GetAsync($"/api/trajectories/{id}?version=0")).StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await host.Client(HostFixture.NewPractice(), "huisarts").GetAsync($"/api/trajectories/{id}?version=1")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
