using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Trajectories;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace KbPathways.Host.Tests;

/// <summary>
/// The KB figures as seed 000 defines them, on a real store: what the dashboard, the quality report and the patient view
/// say, and what an independent fold of the raw events says, are the same — now and after the POH-Kb's contact lapses.
/// </summary>
[Collection(HostCollection.Name)]
public class CareStatusTests(HostFixture host) : IAsyncLifetime
{
    private readonly string practice = HostFixture.NewPractice();
    private readonly MovableClock clock = new(DateTimeOffset.UtcNow);
    private WebApplication app = null!;
    private Uri address = null!;

    public async Task InitializeAsync() => (app, address) = await TestHost.StartAsync(host.ConnectionString,
        services: s => s.AddSingleton(new KbPathways.Projections.BusinessClock(clock)));

    public async Task DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private HttpClient As(string role) => app.Client(address, practice, role);

    private async Task Step(string id, string trigger, string role, object data)
    {
        var response = await As(role).Fire(id, new { trigger, data });
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private async Task<string> Marked(string patient)
    {
        var id = await As("huisarts").Start("kb-begeleiding", patient);
        await Step(id, "kbMarkeringGeplaatst", "huisarts", new { kbCode = "A69.02", doelgroep = "stapeling", eigenHuisarts = "dr. Jansen", reden = "schulden en eenzaamheid" });
        return id;
    }

    private async Task Informed(string id) =>
        await Step(id, "informatieVastgelegd", "poh-kb", new { contactpersonen = "dochter; buurtteam", afspraken = "huisbezoek maandelijks" });

    [Fact]
    public async Task Given_patients_at_each_level_When_counted_Then_dashboard_report_patient_view_and_raw_events_agree_and_contact_lapses()
    {
        await As("huisarts").Start("solk", "cs-solk");                              // SOLK only: neither
        (await As("huisarts").PostAsJsonAsync("/api/patients/cs-solk/kb-mark", new { reason = "stapeling" })).EnsureSuccessStatusCode();
        await Marked("cs-gemarkeerd");                                               // marked, nothing recorded: neither
        await Informed(await Marked("cs-beeld"));                                    // in beeld
        var zorg = await Marked("cs-zorg");
        await Informed(zorg);
        await Step(zorg, "inZorgGenomen", "poh-kb", new { reden = "crisis huisvesting" });
        await Step(zorg, "huisbezoekAfgelegd", "poh-kb", new { huisbezoekDatum = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime) });

        await Agree(inBeeld: ["cs-beeld", "cs-zorg"], inZorg: ["cs-zorg"]);

        // The step placed the KB mark on the patient, once; the patient view says why she is in zorg.
        var patient = await (await As("poh-kb").GetAsync("/api/patients/cs-zorg")).Body();
        patient.GetProperty("kbMarked").GetBoolean().ShouldBeTrue();
        patient.GetProperty("kbCode").GetString().ShouldBe("A69.02");
        patient.GetProperty("markHistory").GetArrayLength().ShouldBe(1);
        patient.GetProperty("careStatus").GetProperty("contactBefore").GetDateTimeOffset().ShouldBe(clock.GetUtcNow().AddDays(42), TimeSpan.FromSeconds(1));

        clock.Advance(TimeSpan.FromDays(43));                                          // contactInterval P6W passes without contact
        await Agree(inBeeld: ["cs-beeld", "cs-zorg"], inZorg: []);

        await Step(zorg, "vierDGesprekGevoerd", "poh-kb", new { vierD = new { prioriteit = "sociaal" }, cvg = new { cijfer = 5 } });
        await Agree(inBeeld: ["cs-beeld", "cs-zorg"], inZorg: ["cs-zorg"]);          // contact again: back in zorg
    }

    private async Task Agree(string[] inBeeld, string[] inZorg)
    {
        var (fromEvents, zorgFromEvents) = await FromRawEvents();
        fromEvents.ShouldBe(inBeeld, ignoreOrder: true);
        zorgFromEvents.ShouldBe(inZorg, ignoreOrder: true);

        var dashboard = await (await As("praktijkmanager").GetAsync("/api/dashboard")).Body();
        dashboard.GetProperty("inBeeld").GetInt32().ShouldBe(inBeeld.Length);
        dashboard.GetProperty("inZorg").GetInt32().ShouldBe(inZorg.Length);

        var year = clock.GetUtcNow().Year;
        var today = clock.GetUtcNow().ToString("yyyy-MM-dd");
        var report = await (await As("praktijkmanager").GetAsync($"/api/quality?from={year}-01-01&to={today}")).Body();
        decimal Value(string indicator) => report.GetProperty("indicators").EnumerateArray()
            .Single(v => v.GetProperty("indicator").GetString() == indicator && v.GetProperty("pathway").ValueKind == JsonValueKind.Null)
            .GetProperty("value").GetDecimal();
        Value("in-beeld").ShouldBe(inBeeld.Length);
        Value("in-zorg").ShouldBe(inZorg.Length);

        foreach (var patient in new[] { "cs-solk", "cs-gemarkeerd", "cs-beeld", "cs-zorg" })
        {
            var view = await (await As("poh-kb").GetAsync($"/api/patients/{patient}")).Body();
            view.GetProperty("status").GetString().ShouldBe(inZorg.Contains(patient) ? "in zorg" : inBeeld.Contains(patient) ? "in beeld" : "niet in beeld", patient);
        }
    }

    /// <summary>
    /// Seed 000's rule folded by hand from the practice's raw events, as an auditor would: in beeld = an open kb-begeleiding
    /// trajectory with doelgroep, contactpersonen and afspraken recorded; in zorg = the KB mark on the patient, an open
    /// trajectory in one of the active-contact states, and a POH-Kb contact within six weeks.
    /// </summary>
    private async Task<(List<string> InBeeld, List<string> InZorg)> FromRawEvents()
    {
        await using var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var events = (await session.Events.QueryAllRawEvents().OrderBy(e => e.Sequence).ToListAsync()).Select(e => e.Data).ToList();
        var now = clock.GetUtcNow();
        var marked = new HashSet<string>();
        foreach (var e in events)
        {
            if (e is KbMarkPlaced p && p.Practice == practice) marked.Add(p.PatientId);
            if (e is KbMarkRemoved r && r.Practice == practice) marked.Remove(r.PatientId);
        }
        var started = events.OfType<TrajectoryStarted>().Where(s => s.Practice == practice && s.PathwayId == "kb-begeleiding").ToList();
        List<string> inBeeld = [], inZorg = [];
        foreach (var start in started)
        {
            var steps = events.OfType<StepTaken>().Where(s => s.TrajectoryId == start.TrajectoryId).ToList();
            if (events.OfType<TrajectoryCompleted>().Any(c => c.TrajectoryId == start.TrajectoryId)) continue;
            var fields = steps.SelectMany(s => s.Data.Keys).Concat(start.Data.Keys).ToHashSet();
            var state = steps.LastOrDefault(s => s.Track == "main" && s.Kind != StepKind.Internal)?.To ?? start.Tracks["main"];
            var contact = steps.LastOrDefault(s => s.Indicators?.Contains("kb-contact") == true)?.At;
            if (new[] { "doelgroep", "contactpersonen", "afspraken" }.All(fields.Contains)) inBeeld.Add(start.PatientId);
            if (marked.Contains(start.PatientId) && new[] { "SituatieInKaart", "PlanMaken", "InZorg", "VingerAanDePols" }.Contains(state)
                && contact is { } at && at.AddDays(42) >= now) inZorg.Add(start.PatientId);
        }
        return (inBeeld, inZorg);
    }
}
