using System.Net.Http.Json;
using System.Text.Json;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Trajectories;
using KbPathways.Host.Hosting;
using KbPathways.Projections.Database;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using KbPathways.Testing;

namespace KbPathways.Host.Tests;

/// <summary>A private PostgreSQL with a host started with <c>--demo</c>: a seeded store for the tests that look back.</summary>
public sealed class DemoHost : IAsyncLifetime
{
    private readonly ScratchDirectory scratch = new("demo");
    public EmbeddedPostgres Postgres { get; private set; } = null!;
    public WebApplication App { get; private set; } = null!;
    public Uri Address { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Postgres = await EmbeddedPostgres.StartAsync(scratch.Path);
        (App, Address) = await TestHost.StartAsync(Postgres.ConnectionString, ["--demo"]);
        await App.Services.GetRequiredService<DemoData>().Seeded.WaitAsync(TimeSpan.FromMinutes(2));
        var huisarts = Client("huisarts");
        foreach (var patient in new[] { "DEMO-solk-001", "DEMO-meer-bewegen-010", "KB-zonder-traject-1", "KB-zonder-traject-2" })
            (await huisarts.PostAsJsonAsync($"/api/patients/{patient}/kb-mark", new { reason = "4D-gesprek: problemen op meerdere domeinen" })).EnsureSuccessStatusCode();
        (await huisarts.PostAsJsonAsync("/api/patients/KB-zonder-traject-2/kb-mark/remove", new { reason = "verhuisd" })).EnsureSuccessStatusCode();
    }

    public HttpClient Client(params string[] roles) => App.Client(Address, DemoData.Practice, roles);

    public string Token(params string[] roles) =>
        KbPathways.Host.Identity.KbClaims.CreateToken(App.Services.GetRequiredService<KbPathways.Host.Identity.AuthOptions>(), "user-" + roles[0], "Test",
            roles, DemoData.Practice, TimeSpan.FromHours(1));

    public async Task DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        await Postgres.StopAsync();
        scratch.Dispose();
    }
}

public class DemoTests(DemoHost demo) : IClassFixture<DemoHost>
{
    private async Task<JsonElement[]> Trajectories()
    {
        var page = await (await demo.Client("huisarts").GetAsync("/api/trajectories?pageSize=200")).Body();
        return [.. page.GetProperty("items").EnumerateArray()];
    }

    [Fact]
    public async Task Given_the_demo_option_When_the_host_starts_Then_every_pathway_has_demo_patients_and_a_restart_adds_none()
    {
        var first = await Trajectories();
        first.Select(t => t.GetProperty("pathwayId").GetString()).Distinct().Order()
            .ShouldBe(["doen-wat-nodig-is", "fitgaaf", "kb-begeleiding", "meer-bewegen", "proactieve-ouderenzorg", "solk"]);
        first.ShouldAllBe(t => t.GetProperty("patientId").GetString()!.StartsWith("DEMO-"));
        first.Select(t => t.GetProperty("state").GetString()).Distinct().Count().ShouldBeGreaterThan(10);

        var (again, address) = await TestHost.StartAsync(demo.Postgres.ConnectionString, ["--demo"]);
        try
        {
            await again.Services.GetRequiredService<DemoData>().Seeded.WaitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            await again.StopAsync();
            await again.DisposeAsync();
        }
        (await Trajectories()).Length.ShouldBe(first.Length);
    }

    [Fact]
    public async Task Given_a_seeded_store_Then_quality_and_dashboard_figures_equal_those_computed_from_the_events()
    {
        await using var session = demo.App.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var events = (await session.Events.QueryAllRawEvents().ToListAsync()).Select(e => e.Data).ToList();
        var steps = events.OfType<StepTaken>().ToList();
        int Tagged(string indicator) => steps.Sum(s => s.Indicators?.Count(i => i == indicator) ?? 0);
        var year = DateTime.UtcNow.Year;

        var response = await demo.Client("praktijkmanager").GetAsync($"/api/quality?from={year}-01-01&to={year}-12-31");
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var indicators = (await response.Body()).GetProperty("indicators").EnumerateArray().ToList();
        decimal? Value(string indicator, string? group = null) => indicators
            .Single(v => v.GetProperty("indicator").GetString() == indicator && v.GetProperty("pathway").ValueKind == JsonValueKind.Null
                         && v.GetProperty("month").ValueKind == JsonValueKind.Null
                         && (group is null ? v.GetProperty("group").ValueKind == JsonValueKind.Null : v.GetProperty("group").GetString() == group))
            .GetProperty("value") is { ValueKind: JsonValueKind.Number } n ? n.GetDecimal() : null;

        Value("instroom").ShouldBe(events.OfType<TrajectoryStarted>().Count());
        Value("uitstroom").ShouldBe(events.OfType<TrajectoryCompleted>().Count());
        Value("mdo").ShouldBe(Tagged("mdo"));
        Tagged("mdo").ShouldBeGreaterThan(0);
        foreach (var level in steps.SelectMany(s => s.Indicators ?? []).Where(i => i.StartsWith("escalatie/")).Distinct())
            Value("escalaties", level["escalatie/".Length..]).ShouldBe(Tagged(level));
        Value("verwijzingen", "buurtteam").ShouldBe(Tagged("verwijzing/buurtteam"));
        var sessions = steps.Where(s => s.Indicators?.Contains("sessie") == true).GroupBy(s => s.TrajectoryId)
            .Where(g => events.OfType<TrajectoryCompleted>().Any(c => c.TrajectoryId == g.Key)).Select(g => (decimal)g.Count()).ToList();
        Value("sessies-per-traject").ShouldBe(sessions.Count == 0 ? null : Math.Round(sessions.Average(), 2));

        // The KB figures (seed 000) equal the one rule applied to the stored rows; CareStatusTests checks the rule against raw events.
        var open = (await Trajectories()).Where(t => !t.GetProperty("completed").GetBoolean()).ToList();
        var data = await demo.App.Services.GetRequiredService<KbPathways.Projections.QualityService>().LoadAsync(DemoData.Practice);
        var clock = demo.App.Services.GetRequiredService<KbPathways.Projections.BusinessClock>();
        var dashboard = await (await demo.Client("praktijkmanager").GetAsync("/api/dashboard")).Body();
        var (inBeeld, inZorg) = KbPathways.Domain.Quality.QualityReport.CareStatus(data.Rows, data.Marks, data.Definition, clock.Now);
        dashboard.GetProperty("inZorg").GetInt32().ShouldBe(inZorg.Count);
        dashboard.GetProperty("inBeeld").GetInt32().ShouldBe(inBeeld.Count);
        inZorg.Count.ShouldBeGreaterThan(0);
        inBeeld.Count.ShouldBeGreaterThan(inZorg.Count);
        var catalog = demo.App.Services.GetRequiredService<KbPathways.Projections.PathwayCatalog>();
        dashboard.GetProperty("active").GetInt32().ShouldBe(open.Count);
        var mdoStates = catalog.All.SelectMany(d => d.AllStates.Where(st => d.Tracks.First(t => t.Name == st.Track).TransitionsFrom(st)
            .Any(x => x.Indicators.Contains("mdo"))).Select(st => $"{d.Id}/{st.Name}")).ToHashSet();
        dashboard.GetProperty("mdoList").EnumerateArray().Select(i => i.GetProperty("patientId").GetString()).Order().ShouldBe(open
            .Where(t => mdoStates.Contains($"{t.GetProperty("pathwayId").GetString()}/{t.GetProperty("state").GetString()}"))
            .Select(t => t.GetProperty("patientId").GetString()).Order());
        dashboard.GetProperty("mdoList").GetArrayLength().ShouldBeGreaterThan(0);
        // NEN 7513: the dashboard's record names exactly the patients the dashboard showed.
        var listed = new[] { "overdue", "openHandovers", "mdoList" }.SelectMany(list => dashboard.GetProperty(list).EnumerateArray())
            .Select(i => i.GetProperty("patientId").GetString()!).Distinct().Order(StringComparer.Ordinal).ToList();
        var log = await (await demo.Client("praktijkmanager").GetAsync($"/api/access-log?patientId={listed[0]}&limit=1000")).Body();
        log.EnumerateArray().Last(e => e.GetProperty("eventType").GetString() == "dashboard.read")
            .Strings("patients").ShouldBe(listed);
        Value("in-beeld").ShouldBe(dashboard.GetProperty("inBeeld").GetInt32());
        Value("in-zorg").ShouldBe(dashboard.GetProperty("inZorg").GetInt32());
    }

    /// <summary>Every column but the version Marten gives each write: the document and the columns duplicated from it.</summary>
    private Task<List<string>> Summaries() => Rows(
        "select id::text || ' ' || practice || ' ' || patient_id || ' ' || mt_dotnet_type || ' ' || data::text from kbpathways.mt_doc_trajectorysummary order by id");

    private Task<List<string>> MarkHistories() => Rows(
        "select id::text || ' ' || practice || ' ' || mt_dotnet_type || ' ' || data::text from kbpathways.mt_doc_patientmarks order by id");

    private async Task<List<string>> Rows(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(demo.Postgres.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    private async Task<(int Exit, string Output, string Errors)> Cli(params string[] args)
    {
        var (output, errors) = (new StringWriter(), new StringWriter());
        var exit = await KbPathways.Host.Cli.KbCommandLine.RunAsync(
            [.. args, $"--ConnectionStrings:Postgres={demo.Postgres.ConnectionString}", $"--Pathways:Path={Path.Combine(HostFixture.RepoRoot, "pathways")}",
             "--Logging:LogLevel:Default=Warning"], output, errors);
        return (exit, output.ToString(), errors.ToString());
    }

    [Fact]
    public async Task Given_summaries_deleted_and_a_stray_one_added_When_rebuilt_from_the_events_Then_they_equal_the_live_ones()
    {
        var live = await Summaries();
        live.Count.ShouldBeGreaterThan(20);
        var marks = await MarkHistories();
        marks.ShouldNotBeEmpty();
        await using (var connection = new Npgsql.NpgsqlConnection(demo.Postgres.ConnectionString))
        {
            await connection.OpenAsync();
            await new Npgsql.NpgsqlCommand("delete from kbpathways.mt_doc_trajectorysummary; delete from kbpathways.mt_doc_patientmarks", connection)
                .ExecuteNonQueryAsync();
        }
        await using (var session = demo.App.Services.GetRequiredService<IDocumentStore>().LightweightSession())
        {
            session.Store(new KbPathways.Projections.TrajectorySummary { Id = Guid.NewGuid(), Practice = DemoData.Practice, PatientId = "stray" });
            await session.SaveChangesAsync();
        }
        // A failed append can leave Marten's bookkeeping in the event table: a tombstone for each sequence number it used
        // up (the bench's two-host phase left some). A rebuild passes over them.
        await using (var session = demo.App.Services.GetRequiredService<IDocumentStore>().LightweightSession())
        {
            session.Events.Append(JasperFx.Events.Tombstone.StreamId, new JasperFx.Events.Tombstone());
            await session.SaveChangesAsync();
        }

        var (exit, output, errors) = await Cli("rebuild");

        exit.ShouldBe(0, errors);
        output.ShouldContain($"rebuilt {live.Count} trajectory summaries");
        output.ShouldContain("removed 1 without a stream");
        errors.ShouldContain("rebuild: 100%");
        (await Summaries()).ShouldBe(live);
        (await MarkHistories()).ShouldBe(marks);
        // Written afresh and vacuumed: no dead row versions, and every page visible to all (index-only scans work at once).
        await using var db = new Npgsql.NpgsqlConnection(demo.Postgres.ConnectionString);
        await db.OpenAsync();
        await using var pages = new Npgsql.NpgsqlCommand(
            "select relpages, relallvisible from pg_class where oid = 'kbpathways.mt_doc_trajectorysummary'::regclass", db);
        await using var reader = await pages.ExecuteReaderAsync();
        (await reader.ReadAsync()).ShouldBeTrue();
        reader.GetInt32(0).ShouldBeGreaterThan(0);
        reader.GetInt32(1).ShouldBe(reader.GetInt32(0));
    }

    [Fact]
    public async Task Given_a_stricter_gfi_threshold_When_replayed_from_the_command_line_Then_it_reports_the_affected_and_writes_nothing()
    {
        var candidate = Path.Combine(Path.GetTempPath(), $"kandidaat-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(candidate, "extends: proactieve-ouderenzorg\nsettings:\n  gfiDrempel: 10\n");
        var before = await EventCount();

        var (exit, output, errors) = await Cli("whatif", "--practice", DemoData.Practice, "--candidate", candidate, "--json");

        exit.ShouldBe(0, errors);
        var report = JsonDocument.Parse(output).RootElement;
        report.GetProperty("pathway").GetString().ShouldBe("proactieve-ouderenzorg");
        var api = await (await demo.Client("praktijkmanager").PostAsJsonAsync("/api/whatif",
            new { candidate = "extends: proactieve-ouderenzorg\nsettings:\n  gfiDrempel: 10\n" })).Body();
        report.GetProperty("affected").GetInt32().ShouldBe(api.GetProperty("affected").GetInt32());
        report.GetProperty("affected").GetInt32().ShouldBeGreaterThan(0);
        report.GetProperty("total").GetInt32().ShouldBe(api.GetProperty("total").GetInt32());
        (await EventCount()).ShouldBe(before);

        // NEN 7513: the command read every replayed patient's trajectory; its record names each of them, and who ran it.
        var log = await (await demo.Client("praktijkmanager").GetAsync($"/api/access-log?userId=cli:{Environment.UserName}")).Body();
        var record = log.EnumerateArray().First(r => r.GetProperty("eventType").GetString() == "whatif.run");
        record.GetProperty("patients").EnumerateArray().Select(p => p.GetString()).Order()
            .ShouldBe(report.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("patientId").GetString()).Distinct().Order());
        record.GetProperty("accessPoint").GetString()!.ShouldContain("command line: whatif");

        var missing = await Cli("whatif", "--practice", DemoData.Practice);
        missing.Exit.ShouldBe(1);
        missing.Errors.ShouldStartWith("whatif needs --practice and --candidate");
    }

    private async Task<long> EventCount()
    {
        await using var connection = new Npgsql.NpgsqlConnection(demo.Postgres.ConnectionString);
        await connection.OpenAsync();
        return (long)(await new Npgsql.NpgsqlCommand("select count(*) from kbpathways.mt_events", connection).ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Given_the_dashboard_page_in_a_headless_browser_Then_it_shows_the_numbers_the_api_returns()
    {
        await using var browser = await HeadlessChromium.StartAsync();
        // The practice manager signs in on the development page (the demo practice is its default) and lands on the dashboard.
        await browser.NavigateAsync($"{demo.Address}aanmelden");
        await browser.EvaluateAsync("document.querySelector('button[value=\"demo-praktijkmanager\"]').click(); true");
        await browser.WaitForAsync("location.pathname === '/dashboard' && document.body?.dataset.ready === 'true'");
        var page = await browser.EvaluateAsync("""
            JSON.stringify({
              error: document.querySelector('#error').hidden ? null : document.querySelector('#error').textContent,
              from: document.querySelector('#from').value, to: document.querySelector('#to').value,
              kpi: Object.fromEntries([...document.querySelectorAll('[data-testid^=kpi-]')].map(n => [n.dataset.testid.slice(4), [Number(n.dataset.value), n.textContent]])),
              states: [...document.querySelectorAll('[data-testid=state-bar]')].map(n => `${n.dataset.pathway}/${n.dataset.state}=${n.dataset.count}`),
              overdue: document.querySelectorAll('[data-testid=overdue-row]').length,
              mdo: [...document.querySelectorAll('[data-testid=mdo-row]')].map(n => n.dataset.trajectory),
              months: [...document.querySelectorAll('[data-testid=month-bar]')].map(n => n.dataset.month),
              indicators: [...document.querySelectorAll('[data-testid=indicator]')].map(n => `${n.dataset.indicator}|${n.dataset.pathway}|${n.dataset.group}|${n.dataset.value}`),
              headings: [...document.querySelectorAll('h2')].map(h => h.textContent),
              meaning: [...document.querySelectorAll('[data-testid^=meaning-]')].map(n => n.textContent),
            })
            """);
        var shown = JsonDocument.Parse(page.GetString()!).RootElement;
        shown.GetProperty("error").ValueKind.ShouldBe(JsonValueKind.Null, shown.GetProperty("error").ToString());

        var manager = demo.Client("praktijkmanager");
        var dashboard = await (await manager.GetAsync("/api/dashboard")).Body();
        var quality = await (await manager.GetAsync($"/api/quality?from={shown.GetProperty("from")}&to={shown.GetProperty("to")}")).Body();
        int Kpi(string name) => (int)shown.GetProperty("kpi").GetProperty(name)[0].GetDecimal();
        Kpi("inBeeld").ShouldBe(dashboard.GetProperty("inBeeld").GetInt32());
        Kpi("inZorg").ShouldBe(dashboard.GetProperty("inZorg").GetInt32());
        // What the figures mean in this practice, in the words of its pathway's rule (seed 000).
        shown.GetProperty("meaning").EnumerateArray().Select(m => m.GetString()).ShouldBe([
            "Kb-doelgroep, belangrijke contactpersonen en afspraken voor de zorgverlening vastgelegd.",
            "Ingekaart (KB-ruiter) en contact met de POH-Kb in de laatste 6 weken."]);
        Kpi("active").ShouldBe(dashboard.GetProperty("active").GetInt32());
        Kpi("completed").ShouldBe(dashboard.GetProperty("completed").GetInt32());
        Kpi("handovers").ShouldBe(dashboard.GetProperty("openHandovers").GetArrayLength());
        Kpi("overdue").ShouldBe(dashboard.GetProperty("overdueCount").GetInt32());
        dashboard.GetProperty("overdue").GetArrayLength().ShouldBe(Math.Min(dashboard.GetProperty("overdueCount").GetInt32(), 100));
        shown.GetProperty("kpi").GetProperty("active")[1].GetString().ShouldBe(dashboard.GetProperty("active").GetInt32().ToString());
        shown.GetProperty("states").EnumerateArray().Select(s => s.GetString()).ShouldBe(dashboard.GetProperty("states").EnumerateArray()
            .Select(s => $"{s.GetProperty("pathway").GetString()}/{s.GetProperty("state").GetString()}={s.GetProperty("count").GetInt32()}"));
        shown.GetProperty("overdue").GetInt32().ShouldBe(dashboard.GetProperty("overdue").GetArrayLength());
        shown.GetProperty("mdo").EnumerateArray().Select(s => s.GetString())
            .ShouldBe(dashboard.GetProperty("mdoList").EnumerateArray().Select(i => i.GetProperty("trajectoryId").GetString()));
        var rows = quality.GetProperty("indicators").EnumerateArray().ToList();
        shown.GetProperty("indicators").EnumerateArray().Select(s => s.GetString()).Order().ShouldBe(rows.Where(v => v.GetProperty("month").ValueKind == JsonValueKind.Null)
            .Select(v => $"{v.GetProperty("indicator").GetString()}|{v.GetProperty("pathway").GetString()}|{v.GetProperty("group").GetString()}|{(v.GetProperty("value") is { ValueKind: JsonValueKind.Number } n ? n.GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture) : "")}").Order());
        shown.GetProperty("months").EnumerateArray().Select(s => s.GetString()).ShouldBe(rows
            .Where(v => v.GetProperty("month").ValueKind == JsonValueKind.String && v.GetProperty("pathway").ValueKind == JsonValueKind.Null
                        && v.GetProperty("indicator").GetString() is "instroom" or "uitstroom")
            .Select(v => v.GetProperty("month").GetString()).Distinct().Order());
        shown.GetProperty("headings").EnumerateArray().Select(h => h.GetString()).ShouldContain("Verlopen termijnen");

        var screenshot = await browser.ScreenshotAsync();
        screenshot.Take(8).ShouldBe(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        var artifacts = Path.Combine(HostFixture.RepoRoot, "artifacts");
        Directory.CreateDirectory(artifacts);
        await File.WriteAllBytesAsync(Path.Combine(artifacts, "dashboard.png"), screenshot);
        foreach (var (width, name) in new[] { (1400, "laptop"), (820, "tablet"), (400, "telefoon") })
        {
            await browser.SetViewportAsync(width, 1024, mobile: width < 800);
            await Task.Delay(150);
            await File.WriteAllBytesAsync(Path.Combine(artifacts, $"dashboard-{name}.png"), await browser.ScreenshotAsync());
            // Nothing runs off the screen: the page is no wider than the window.
            (await browser.EvaluateAsync("document.documentElement.scrollWidth")).GetInt32().ShouldBeLessThanOrEqualTo(width, name);
        }
        await browser.SetViewportAsync(1366, 1800);

        // a role without dashboard rights sees a Dutch explanation, not numbers
        await browser.NavigateAsync($"{demo.Address}aanmelden");
        await browser.EvaluateAsync("document.querySelector('button[value=\"demo-poh-ggz\"]').click(); true");
        await browser.WaitForAsync("location.pathname === '/werkplek' && document.body?.dataset.ready === 'true'");
        await browser.NavigateAsync($"{demo.Address}dashboard");
        (await browser.EvaluateAsync("document.querySelector('#error').textContent")).GetString()!.ShouldContain("Uw rol mag het dashboard niet zien");
        (await browser.EvaluateAsync("document.querySelector('#content').hidden")).GetBoolean().ShouldBeTrue();
    }
}
