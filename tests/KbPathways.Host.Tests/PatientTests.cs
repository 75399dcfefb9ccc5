using System.Net;
using System.Net.Http.Json;

namespace KbPathways.Host.Tests;

[Collection(HostCollection.Name)]
public class PatientTests(HostFixture host)
{
    private readonly string practice = HostFixture.NewPractice();

    [Fact]
    public async Task Given_a_patient_When_marked_treated_and_unmarked_Then_observations_and_mark_follow_and_SOLK_alone_is_not_KB_care()
    {
        var huisarts = host.Client(practice, "huisarts");
        (await huisarts.GetAsync("/api/patients/p-42")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await host.Client(practice, "poh-ggz").PostAsJsonAsync("/api/patients/p-42/kb-mark", new { reason = "stapeling" })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var noReason = await huisarts.PostAsJsonAsync("/api/patients/p-42/kb-mark", new { });
        noReason.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await noReason.Body()).GetProperty("errors").TryGetProperty("reason", out _).ShouldBeTrue();

        var marked = await (await huisarts.PostAsJsonAsync("/api/patients/p-42/kb-mark", new { reason = "schulden, eenzaamheid, COPD" })).Body();
        marked.GetProperty("kbMarked").GetBoolean().ShouldBeTrue();
        marked.GetProperty("kbCode").GetString().ShouldBe("A69.02");
        marked.GetProperty("status").GetString().ShouldBe("niet in beeld");   // ingekaart, but nothing recorded of her (seed 000)
        marked.GetProperty("careStatus").GetProperty("ingekaart").GetBoolean().ShouldBeTrue();

        var id = await huisarts.Start("solk", "p-42");
        (await huisarts.Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" } })).EnsureSuccessStatusCode();
        (await huisarts.Fire(id, new { trigger = "ernstVastgesteld", data = new { klachtenclusters = 1, beperking = "licht", duurWeken = 4 } })).EnsureSuccessStatusCode();
        (await huisarts.Fire(id, new { trigger = "adviesGegeven", data = new { cvg = new { cijfer = 5 } } })).EnsureSuccessStatusCode();
        (await huisarts.Fire(id, new { trigger = "doelenBereikt", data = new { cvg = new { cijfer = 7 }, evaluatie = "beter" } })).EnsureSuccessStatusCode();

        var patient = await (await huisarts.GetAsync("/api/patients/p-42")).Body();
        patient.GetProperty("status").GetString().ShouldBe("niet in beeld");   // a SOLK trajectory makes her neither in beeld nor in zorg
        var cvg = patient.GetProperty("observations").EnumerateArray().Single();
        cvg.GetProperty("instrument").GetString().ShouldBe("cvg");
        cvg.GetProperty("firstTotal").GetDecimal().ShouldBe(5);
        cvg.GetProperty("latestTotal").GetDecimal().ShouldBe(7);
        (await host.Client(HostFixture.NewPractice(), "huisarts").GetAsync("/api/patients/p-42")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        (await huisarts.Fire(id, new { trigger = "uitvallen", data = new { reden = "verhuisd" } })).EnsureSuccessStatusCode();
        var removed = await (await huisarts.PostAsJsonAsync("/api/patients/p-42/kb-mark/remove", new { reason = "niet meer van toepassing" })).Body();
        removed.GetProperty("kbMarked").GetBoolean().ShouldBeFalse();
        removed.GetProperty("careStatus").GetProperty("ingekaart").GetBoolean().ShouldBeFalse();
        (await huisarts.PostAsJsonAsync("/api/patients/p-42/kb-mark/remove", new { reason = "x" })).StatusCode.ShouldBe(HttpStatusCode.Conflict);
    }
}
