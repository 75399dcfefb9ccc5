using System.Net;
using System.Text.Json;

namespace KbPathways.Host.Tests;

/// <summary>
/// The MDO in the seeds' fixed format: each besluit has an owner and a date, and lands on that owner's worklist as an
/// open action due at the end of its date, until a newer MDO record replaces the list.
/// </summary>
[Collection(HostCollection.Name)]
public class DecisionTests(HostFixture host)
{
    private readonly string practice = HostFixture.NewPractice();

    private async Task Step(string id, string trigger, string role, object data)
    {
        var response = await host.Client(practice, role).Fire(id, new { trigger, data });
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private async Task<List<JsonElement>> Decisions(string role) =>
        [.. (await (await host.Client(practice, role).GetAsync("/api/worklist")).Body()).GetProperty("items").EnumerateArray()
            .Where(i => i.GetProperty("decision").GetBoolean())];

    private static object Mdo(params (string Besluit, string Eigenaar, DateOnly Datum)[] besluiten) => new
    {
        toestemmingDelen = true, mdoDatum = "2026-02-10", hulpvraag = "schulden en eenzaamheid", voorbereidDoor = "POH-Kb",
        deelnemers = new[] { "huisarts", "pohKb", "buurtteam" }, aanwezig = "patient",
        besluiten = besluiten.Select(b => new { besluit = b.Besluit, eigenaar = b.Eigenaar, datum = b.Datum.ToString("yyyy-MM-dd") }),
    };

    [Fact]
    public async Task Given_an_MDO_with_two_decisions_When_recorded_Then_each_lands_on_its_owners_worklist_with_its_date_until_the_next_MDO()
    {
        var id = await host.Client(practice, "huisarts").Start("kb-begeleiding", "d-1");
        await Step(id, "kbMarkeringGeplaatst", "huisarts", new { kbCode = "A69.02", doelgroep = "stapeling", eigenHuisarts = "dr. Jansen", reden = "x" });
        await Step(id, "inZorgGenomen", "poh-kb", new { reden = "x" });
        await Step(id, "vierDGesprekGevoerd", "poh-kb", new { vierD = new { prioriteit = "sociaal" }, cvg = new { cijfer = 4 } });
        await Step(id, "planGemaakt", "poh-kb", new { gewensteSituatie = "x", plan = "x" });
        var today = DateOnly.FromDateTime(DateTime.UtcNow);

        var refused = await host.Client(practice, "poh-kb").Fire(id, new { trigger = "mdoGehouden", data = Mdo(("schuldhulp", "kassier", today)) });
        refused.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await refused.Body()).GetProperty("errors").TryGetProperty("besluiten[0].eigenaar", out _).ShouldBeTrue();

        await Step(id, "mdoGehouden", "poh-kb", Mdo(("schuldhulp aanvragen", "buurtteammedewerker", today.AddDays(14)), ("huisbezoek samen", "poh-kb", today.AddDays(3))));

        var buurtteam = (await Decisions("buurtteammedewerker")).ShouldHaveSingleItem();
        buurtteam.GetProperty("patientId").GetString().ShouldBe("d-1");
        buurtteam.GetProperty("deadlineLabel").GetString()!.ShouldStartWith("Besluit 1 uit 'MDO gehouden'");
        var due = buurtteam.GetProperty("dueAt").GetDateTimeOffset();
        TimeZoneInfo.ConvertTime(due, TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam")).ToString("yyyy-MM-dd HH:mm:ss")
            .ShouldBe($"{today.AddDays(14):yyyy-MM-dd} 23:59:59");          // due by the end of its date, in the practice's time zone
        var poh = (await Decisions("poh-kb")).ShouldHaveSingleItem();
        poh.GetProperty("deadlineLabel").GetString()!.ShouldStartWith("Besluit 2");
        poh.GetProperty("dueSoon").GetBoolean().ShouldBeTrue();
        (await Decisions("huisarts")).ShouldBeEmpty();

        // The next MDO's besluiten replace the list.
        await Step(id, "mdoGehouden", "huisarts", Mdo(("evaluatie met de huisarts", "huisarts", today.AddDays(30))));
        (await Decisions("buurtteammedewerker")).ShouldBeEmpty();
        (await Decisions("poh-kb")).ShouldBeEmpty();
        (await Decisions("huisarts")).ShouldHaveSingleItem();
    }
}
