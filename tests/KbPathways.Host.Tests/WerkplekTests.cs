using KbPathways.Testing;
using System.Net;
using System.Text.Json;

namespace KbPathways.Host.Tests;

/// <summary>
/// The POH's workplace in a real headless Chromium, as its users would use it: sign in on the development page, find
/// work on the werklijst, take steps through the forms the page builds from the API, read the timeline. Screenshots
/// of each page at laptop and tablet width are kept in artifacts/werkplek/.
/// </summary>
[Collection(HostCollection.Name)]
public class WerkplekTests(HostFixture host)
{
    private readonly string practice = HostFixture.NewPractice();
    private static readonly string Artifacts = Path.Combine(HostFixture.RepoRoot, "artifacts", "werkplek");

    private async Task SignIn(HeadlessChromium browser, string role)
    {
        await browser.NavigateAsync($"{host.BaseAddress}aanmelden");
        await browser.EvaluateAsync($"document.querySelector('#praktijk').value = '{practice}'; document.querySelector('button[value=\"demo-{role}\"]').click(); true");
        try
        {
            await browser.WaitForAsync("location.pathname === '/werkplek' && document.body?.dataset.ready === 'true'");
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"sign-in as {role} did not reach the werkplek: {await browser.EvaluateAsync("location.href + ' | ' + document.body?.innerText.slice(0, 500)")}");
        }
    }

    private static async Task Go(HeadlessChromium browser, string hash)
    {
        await browser.EvaluateAsync($"document.body.dataset.ready = 'false'; location.hash = '{hash}'; true");
        await browser.WaitForAsync("document.body.dataset.ready === 'true'");
    }

    private static async Task<string> Text(HeadlessChromium browser, string selector) =>
        (await browser.EvaluateAsync($"document.querySelector({JsonSerializer.Serialize(selector)})?.textContent ?? ''")).GetString()!;

    /// <summary>Opens the step's form, lets <paramref name="fill"/> (JavaScript over <c>f</c>, the form) fill it, and submits.</summary>
    private static async Task Step(HeadlessChromium browser, string trigger, string fill = "", bool expectSuccess = true)
    {
        await browser.EvaluateAsync($"document.querySelector('button[data-trigger=\"{trigger}\"]').click(); true");
        await browser.WaitForAsync($"document.querySelector('form[data-form=\"{trigger}\"]')");
        await browser.EvaluateAsync($$"""
            (() => {
              const f = document.querySelector('form[data-form="{{trigger}}"]');
              const set = (name, value) => { const c = f.querySelector(`[name="${name}"]`); c.value = value; c.dispatchEvent(new Event('input', { bubbles: true })); };
              const pick = (name, value) => { const c = f.querySelector(`[name="${name}"][value="${value}"]`); c.checked = true; c.dispatchEvent(new Event('change', { bubbles: true })); };
              {{fill}}
              document.body.dataset.ready = 'false';
              f.querySelector('button[type=submit]').click();
              return true;
            })()
            """);
        if (expectSuccess)
        {
            await browser.WaitForAsync($"document.body.dataset.ready === 'true' && !document.querySelector('form[data-form=\"{trigger}\"]')");
            (await Text(browser, "#message")).ShouldContain("vastgelegd");
        }
        else await browser.WaitForAsync($"!document.querySelector('form[data-form=\"{trigger}\"] .problem').hidden");
    }

    private static async Task Screenshots(HeadlessChromium browser, string name)
    {
        Directory.CreateDirectory(Artifacts);
        foreach (var (width, label) in new[] { (1400, "laptop"), (820, "tablet"), (400, "telefoon") })
        {
            await browser.SetViewportAsync(width, width < 800 ? 844 : 1024, mobile: width < 800);
            await Task.Delay(150);
            var png = await browser.ScreenshotAsync();
            png.Take(4).ShouldBe(new byte[] { 0x89, 0x50, 0x4E, 0x47 });
            await File.WriteAllBytesAsync(Path.Combine(Artifacts, $"{name}-{label}.png"), png);
            // Nothing runs off the screen: the page is no wider than the window.
            (await browser.EvaluateAsync("document.documentElement.scrollWidth")).GetInt32().ShouldBeLessThanOrEqualTo(width, $"{name} at {label} width");
        }
        await browser.SetViewportAsync(1366, 1800);
    }

    [Fact]
    public async Task Given_a_POH_Kb_When_she_records_and_takes_a_patient_into_care_through_the_forms_Then_the_patient_page_says_in_beeld_then_in_zorg_and_why()
    {
        var huisarts = host.Client(practice, "huisarts");
        var id = await huisarts.Start("kb-begeleiding", "p-kb");
        (await huisarts.Fire(id, new { trigger = "kbMarkeringGeplaatst", data = new { kbCode = "A69.02", doelgroep = "stapeling", eigenHuisarts = "dr. Jansen", reden = "schulden, eenzaamheid" } }))
            .EnsureSuccessStatusCode();
        await using var browser = await HeadlessChromium.StartAsync();
        await SignIn(browser, "poh-kb");

        await Go(browser, "#/patient/p-kb");
        (await Text(browser, "[data-testid=kb-status]")).ShouldBe("niet in beeld");
        (await Text(browser, "[data-testid=kb-status-why]")).ShouldContain("nog vastleggen: belangrijke contactpersonen, afspraken voor de zorgverlening");

        await Go(browser, $"#/traject/{id}");
        await Step(browser, "informatieVastgelegd", "set('contactpersonen', 'zus (mantelzorg)'); set('afspraken', 'huisbezoek eens per maand');");
        await Go(browser, "#/patient/p-kb");
        (await Text(browser, "[data-testid=kb-status]")).ShouldBe("in beeld");
        (await Text(browser, "[data-testid=kb-status-why]")).ShouldContain("Nog geen contact met de POH-Kb");

        await Go(browser, $"#/traject/{id}");
        await Step(browser, "inZorgGenomen", "set('reden', 'dreigende uitzetting');");
        await Step(browser, "huisbezoekAfgelegd", $"set('huisbezoekDatum', '{DateTime.UtcNow:yyyy-MM-dd}');");
        await Go(browser, "#/patient/p-kb");
        (await Text(browser, "[data-testid=kb-status]")).ShouldBe("in zorg");
        var until = (await (await host.Client(practice, "poh-kb").GetAsync("/api/patients/p-kb")).Body()).GetProperty("careStatus").GetProperty("contactBefore").GetString();
        var shown = (await browser.EvaluateAsync($"new Date('{until}').toLocaleDateString('nl-NL', {{ dateStyle: 'medium', timeZone: 'Europe/Amsterdam' }})")).GetString();
        (await Text(browser, "[data-testid=kb-status-why]")).ShouldContain($"in zorg tot {shown} zonder nieuw contact");
        await Screenshots(browser, "patient-in-zorg");
    }

    [Fact]
    public async Task Given_a_POH_Kb_When_she_records_an_MDO_with_two_besluiten_in_the_form_Then_each_owner_finds_theirs_on_the_werklijst()
    {
        var huisarts = host.Client(practice, "huisarts");
        var id = await huisarts.Start("kb-begeleiding", "p-mdo");
        foreach (var (trigger, role, data) in new (string, string, object)[]
                 {
                     ("kbMarkeringGeplaatst", "huisarts", new { kbCode = "A69.02", doelgroep = "stapeling", eigenHuisarts = "dr. Jansen", reden = "x" }),
                     ("inZorgGenomen", "poh-kb", new { reden = "x" }),
                     ("vierDGesprekGevoerd", "poh-kb", new { vierD = new { prioriteit = "sociaal" }, cvg = new { cijfer = 4 } }),
                     ("planGemaakt", "poh-kb", new { gewensteSituatie = "x", plan = "x" }),
                 })
            (await host.Client(practice, role).Fire(id, new { trigger, data })).EnsureSuccessStatusCode();
        await using var browser = await HeadlessChromium.StartAsync();
        await SignIn(browser, "poh-kb");
        await Go(browser, $"#/traject/{id}");

        var due = DateTime.UtcNow.AddDays(10).ToString("yyyy-MM-dd");
        await browser.EvaluateAsync("document.querySelector('button[data-trigger=\"mdoGehouden\"]').click(); true");
        await browser.WaitForAsync("document.querySelector('form[data-form=\"mdoGehouden\"] [data-add=besluiten]')");
        await browser.EvaluateAsync("document.querySelector('[data-add=besluiten]').click(); true");   // a second besluit
        await Screenshots(browser, "mdo-formulier");
        await Step(browser, "mdoGehouden", $$"""
            set('mdoDatum', '{{DateTime.UtcNow:yyyy-MM-dd}}'); set('hulpvraag', 'schulden en eenzaamheid'); set('voorbereidDoor', 'POH-Kb');
            for (const v of ['huisarts', 'pohKb', 'buurtteam']) { const c = f.querySelector(`[name="deelnemers"][value="${v}"]`); c.checked = true; }
            pick('aanwezig', 'patient'); pick('toestemmingDelen', 'true');
            f.querySelector('[data-add=besluiten]').click();
            const rows = f.querySelectorAll('li.decision');
            const row = (r, besluit, eigenaar) => { r.querySelector('[name=besluit]').value = besluit; r.querySelector('[name=eigenaar]').value = eigenaar; r.querySelector('[name=datum]').value = '{{due}}'; };
            row(rows[0], 'schuldhulp aanvragen', 'buurtteammedewerker'); row(rows[1], 'huisbezoek samen met het buurtteam', 'poh-kb');
            """);
        await Go(browser, $"#/traject/{id}/tijdlijn");
        (await Text(browser, "main")).ShouldContain("huisbezoek samen met het buurtteam — POH-Kb, uiterlijk");
        await Screenshots(browser, "tijdlijn-besluiten");

        await Go(browser, "#/werklijst");
        (await Text(browser, "main")).ShouldContain("Besluit 2 uit 'MDO gehouden'");
        await Screenshots(browser, "werklijst-besluit");
        var buurtteam = await (await host.Client(practice, "buurtteammedewerker").GetAsync("/api/worklist")).Body();
        buurtteam.GetProperty("items").EnumerateArray().ShouldContain(i => i.GetProperty("deadlineLabel").GetString()!.StartsWith("Besluit 1"));
    }

    [Fact]
    public async Task Given_Kb_patients_of_two_huisartsen_When_the_POH_Kb_goes_through_one_list_Then_that_review_is_done_and_the_report_says_so()
    {
        var huisarts = host.Client(practice, "huisarts");
        foreach (var (patient, gp) in new[] { ("jb-1", "dr. Jansen"), ("jb-2", "dr. Jansen"), ("jb-3", "dr. Bakker") })
        {
            var id = await huisarts.Start("kb-begeleiding", patient);
            (await huisarts.Fire(id, new { trigger = "kbMarkeringGeplaatst", data = new { kbCode = "A69.02", doelgroep = "stapeling", eigenHuisarts = gp, reden = "x" } }))
                .EnsureSuccessStatusCode();
        }
        await using var browser = await HeadlessChromium.StartAsync();
        await SignIn(browser, "poh-kb");
        await Go(browser, "#/jaarbespreking");
        (await Text(browser, "main")).ShouldContain("Jaarbespreking Kb-patiënten");
        (await browser.EvaluateAsync("[...document.querySelectorAll('[data-testid=review-list] h2')].map(h => h.textContent).join(' | ')")).GetString()
            .ShouldBe("dr. Bakker 0 van 1 besproken | dr. Jansen 0 van 2 besproken");
        await Screenshots(browser, "jaarbespreking");

        await browser.EvaluateAsync("""
            (() => { const f = document.querySelector('form[data-review="dr. Jansen"]');
              for (const c of f.querySelectorAll('input[name=besproken]')) c.checked = true;
              document.body.dataset.ready = 'false'; f.querySelector('button[type=submit]').click(); return true; })()
            """);
        await browser.WaitForAsync("document.body.dataset.ready === 'true' && document.querySelector('#message').textContent.includes('Vastgelegd')");
        (await Text(browser, "#message")).ShouldBe("Vastgelegd: 2 besproken met dr. Jansen.");
        (await browser.EvaluateAsync("[...document.querySelectorAll('[data-testid=review-list] h2')].map(h => h.textContent).join(' | ')")).GetString()
            .ShouldBe("dr. Bakker 0 van 1 besproken | dr. Jansen besproken");

        var year = DateTime.UtcNow.Year;
        var report = await (await host.Client(practice, "praktijkmanager").GetAsync($"/api/quality?from={year}-01-01&to={DateTime.UtcNow:yyyy-MM-dd}")).Body();
        decimal? Review(string gp) => report.GetProperty("indicators").EnumerateArray()
            .Single(v => v.GetProperty("indicator").GetString() == "jaarbespreking" && v.GetProperty("group").GetString() == gp).GetProperty("value").GetDecimal();
        Review("dr. Jansen").ShouldBe(100m);
        Review("dr. Bakker").ShouldBe(0m);
    }

    [Fact]
    public async Task Given_a_huisarts_and_a_POH_GGZ_When_they_walk_a_SOLK_trajectory_through_the_forms_Then_it_closes_and_the_timeline_equals_the_history()
    {
        await using var browser = await HeadlessChromium.StartAsync();
        await SignIn(browser, "huisarts");
        (await Text(browser, "#me-name")).ShouldBe("Dr. Anne Jansen");

        // The huisarts starts SOLK for a patient from the patient page.
        await Go(browser, "#/patient/p-walk");
        (await Text(browser, "[data-testid=kb-status]")).ShouldBe("niet in beeld");
        // The huisarts marks the patient (ingekaart) with a reason; the mark and its history show.
        await browser.EvaluateAsync("""
            document.querySelector('#mark-reason').value = 'Problemen op meerdere leefgebieden';
            document.body.dataset.ready = 'false'; document.querySelector('#mark-reason').form.requestSubmit(); true
            """);
        await browser.WaitForAsync("document.body.dataset.ready === 'true' && document.querySelector('[data-testid=mark-history]')");
        (await Text(browser, "[data-testid=mark-history]")).ShouldContain("geplaatst (A69.02) door demo-huisarts (huisarts) — Problemen op meerdere leefgebieden");
        (await Text(browser, "[data-testid=kb-status]")).ShouldBe("niet in beeld");   // ingekaart is not in beeld (seed 000)
        (await Text(browser, "[data-testid=kb-status-why]")).ShouldContain("Geen lopend Kb-traject");
        await Screenshots(browser, "patient");
        await browser.EvaluateAsync("document.querySelector('#start-pathway').value = 'solk'; document.body.dataset.ready = 'false'; document.querySelector('#start-pathway').form.requestSubmit(); true");
        await browser.WaitForAsync("location.hash.startsWith('#/traject/') && document.body.dataset.ready === 'true'");
        var id = (await browser.EvaluateAsync("location.hash.split('/')[2]")).GetString()!;

        // ... and finds it on the werklijst.
        await Go(browser, "#/");
        (await browser.EvaluateAsync("[...document.querySelectorAll('[data-testid=work-item]')].some(r => r.textContent.includes('p-walk'))")).GetBoolean().ShouldBeTrue();
        await Screenshots(browser, "werklijst");
        await browser.EvaluateAsync($"document.body.dataset.ready = 'false'; document.querySelector('a[href=\"#/traject/{id}\"]').click(); true");
        await browser.WaitForAsync("document.body.dataset.ready === 'true'");

        await Step(browser, "werkhypotheseVastgelegd", "pick('medischOnderzoekAfgerond', 'true'); set('scegsNotities', 'SCEGS: klachten sinds maanden');");
        await Screenshots(browser, "traject");
        // Invalid input: the error stands next to its field, and nothing is appended.
        var before = await Version(id);
        await Step(browser, "ernstVastgesteld", "set('klachtenclusters', '9'); pick('beperking', 'matig'); set('duurWeken', '8');", expectSuccess: false);
        (await Text(browser, "[data-field=klachtenclusters] .error")).ShouldContain("Moet tussen 1 en 5 liggen");
        (await browser.EvaluateAsync("document.querySelector('[data-field=klachtenclusters]').classList.contains('invalid')")).GetBoolean().ShouldBeTrue();
        await Screenshots(browser, "formulier-fout");
        (await Version(id)).ShouldBe(before);
        await browser.EvaluateAsync("""
            (() => { const f = document.querySelector('form[data-form="ernstVastgesteld"]'); f.querySelector('[name=klachtenclusters]').value = '3';
              document.body.dataset.ready = 'false'; f.querySelector('button[type=submit]').click(); return true; })()
            """);
        await browser.WaitForAsync("document.body.dataset.ready === 'true' && !document.querySelector('form[data-form=\"ernstVastgesteld\"]')");
        (await Text(browser, "[data-testid=state-main]")).ShouldBe("Matig");
        await Step(browser, "verwezenNaarPohGgz", "set('intakeDatum', '2026-12-10'); f.querySelector('[name=vastgesteldMet][value=pohGgz]').checked = true;");

        // The POH-GGZ takes over from the werklijst.
        await SignIn(browser, "poh-ggz");
        (await browser.EvaluateAsync("[...document.querySelectorAll('[data-testid=work-item]')].some(r => r.textContent.includes('p-walk'))")).GetBoolean().ShouldBeTrue();
        await Go(browser, $"#/traject/{id}");
        await Step(browser, "analyse4DAfgerond", """
            set('vierD.lichaam', 'hoofdpijn, moe'); set('vierD.geest', 'piekeren'); pick('vierD.prioriteit', 'lichaam'); set('cvg.cijfer', '5');
            """);
        await Step(browser, "planVastgesteld", "set('behandelplan', 'opbouw activiteiten'); pick('meerdereDisciplines', 'false');");
        (await Text(browser, "[data-testid=state-main]")).ShouldBe("Behandeling in de eerste lijn");

        // Sessions until the cap: the warning then asks for a reason, next to the reason's field.
        var sessions = 0;
        while (true)
        {
            await browser.EvaluateAsync("document.querySelector('button[data-trigger=\"sessieGehouden\"]').click(); true");
            await browser.WaitForAsync("document.querySelector('form[data-form=\"sessieGehouden\"]')");
            await browser.EvaluateAsync("document.body.dataset.ready = 'false'; document.querySelector('form[data-form=\"sessieGehouden\"] button[type=submit]').click(); true");
            await browser.WaitForAsync("document.body.dataset.ready === 'true' || !document.querySelector('form[data-form=\"sessieGehouden\"] .problem').hidden");
            if (await browser.EvaluateAsync("!!document.querySelector('form[data-form=\"sessieGehouden\"]')") is { ValueKind: JsonValueKind.True }) break;
            sessions++;
            sessions.ShouldBeLessThan(10);
        }
        (await Text(browser, "[data-field=redenExtraSessie] .error")).ShouldContain("Verplicht: Het afgesproken aantal POH-gesprekken is bereikt");
        await Screenshots(browser, "waarschuwing");
        await browser.EvaluateAsync("""
            (() => { const f = document.querySelector('form[data-form="sessieGehouden"]'); f.querySelector('[name=redenExtraSessie]').value = 'besluit huisarts: nog twee gesprekken';
              document.body.dataset.ready = 'false'; f.querySelector('button[type=submit]').click(); return true; })()
            """);
        await browser.WaitForAsync("document.body.dataset.ready === 'true' && !document.querySelector('form[data-form=\"sessieGehouden\"]')");

        await Step(browser, "doelenBereikt", "set('cvg.cijfer', '7'); set('evaluatie', 'doelen gehaald');");
        await Step(browser, "afsluiten", "pick('signaleringsplan', 'true'); pick('uitkomst', 'hersteld');");
        (await Text(browser, "[data-testid=state-main]")).ShouldBe("Afgesloten (hersteld / stabiel)");

        // The timeline shows every event of the history, in order, in Dutch.
        await Go(browser, $"#/traject/{id}/tijdlijn");
        await Screenshots(browser, "tijdlijn");
        var history = await (await host.Client(practice, "poh-ggz").GetAsync($"/api/trajectories/{id}/history")).Body();
        var shown = await browser.EvaluateAsync("[...document.querySelectorAll('[data-testid=timeline] > li')].map(li => li.dataset.type)");
        shown.EnumerateArray().Select(e => e.GetString()).ShouldBe(history.EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        var titles = (await browser.EvaluateAsync("[...document.querySelectorAll('[data-testid=timeline] > li > strong')].map(s => s.textContent)"))
            .EnumerateArray().Select(e => e.GetString()).ToList();
        titles.ShouldContain("4D-analyse afgerond");
        titles.Count(t => t == "Gesprek gehouden").ShouldBe(sessions + 1);
        (await Text(browser, "[data-testid=timeline]")).ShouldContain("Waarschuwing: Het afgesproken aantal POH-gesprekken is bereikt");

        // The patient page shows the CVG from first to latest.
        await Go(browser, "#/patient/p-walk");
        (await Text(browser, "[data-testid=observation-cvg]")).ShouldContain("5");
        (await Text(browser, "[data-testid=observation-cvg]")).ShouldContain("7");
    }

    private async Task<int> Version(string id) =>
        (await (await host.Client(practice, "huisarts").GetAsync($"/api/trajectories/{id}")).Body()).GetProperty("streamVersion").GetInt32();

    [Fact]
    public async Task Given_the_GFI_form_When_answered_Then_the_page_scores_as_the_API_and_at_the_threshold_the_patient_goes_to_the_frail_branch()
    {
        var id = await host.Client(practice, "poh-o").Start("proactieve-ouderenzorg", "p-gfi");
        await using var browser = await HeadlessChromium.StartAsync();
        await SignIn(browser, "poh-o");
        await Go(browser, $"#/traject/{id}");
        await browser.EvaluateAsync("document.querySelector('button[data-trigger=\"gescreend\"]').click(); true");
        await browser.WaitForAsync("document.querySelector('form[data-form=\"gescreend\"]')");
        (await browser.EvaluateAsync("document.querySelectorAll('[data-questionnaire=gfi] > .field').length")).GetInt32().ShouldBe(15);
        // 0 points for all, then: not independent outside (1), 4+ medicines (1), somber 'soms' (1), nerveus 'ja' (1), fitheid 5 (1) = 5.
        await browser.EvaluateAsync("""
            (() => {
              const f = document.querySelector('form[data-form="gescreend"]');
              const pick = (name, value) => { const c = f.querySelector(`[name="${name}"][value="${value}"]`); c.checked = true; c.dispatchEvent(new Event('change', { bubbles: true })); };
              for (const n of ['boodschappen', 'aankleden', 'toilet']) pick(`gfi.${n}`, 'true');
              for (const n of ['zien', 'horen', 'gewichtsverlies']) pick(`gfi.${n}`, 'false');
              for (const n of ['geheugen', 'leegte', 'mensenMissen', 'inDeSteekGelaten']) pick(`gfi.${n}`, 'nee');
              pick('gfi.buitenLopen', 'false'); pick('gfi.medicijnen', 'true'); pick('gfi.somber', 'soms'); pick('gfi.nerveus', 'ja');
              const fit = f.querySelector('[name="gfi.fitheid"]'); fit.value = '5'; fit.dispatchEvent(new Event('input', { bubbles: true }));
              return true;
            })()
            """);
        (await Text(browser, "[data-testid=score-gfi]")).ShouldBe("Score: 5 — Kwetsbaar");
        await Screenshots(browser, "gfi");
        await browser.EvaluateAsync("document.body.dataset.ready = 'false'; document.querySelector('form[data-form=\"gescreend\"] button[type=submit]').click(); true");
        await browser.WaitForAsync("document.body.dataset.ready === 'true' && !document.querySelector('form[data-form=\"gescreend\"]')");

        var patient = await (await host.Client(practice, "poh-o").GetAsync("/api/patients/p-gfi")).Body();
        patient.GetProperty("observations").EnumerateArray().Single(o => o.GetProperty("instrument").GetString() == "gfi")
            .GetProperty("latestTotal").GetDecimal().ShouldBe(5);
        await Step(browser, "beoordeeld");
        (await Text(browser, "[data-testid=state-main]")).ShouldBe("Probleeminventarisatie");
    }

    [Fact]
    public async Task Given_a_role_without_the_right_Then_no_button_and_a_forged_post_is_refused()
    {
        var id = await host.Client(practice, "huisarts").Start("solk", "p-fysio");
        var version = await Version(id);
        await using var browser = await HeadlessChromium.StartAsync();
        await SignIn(browser, "fysiotherapeut");
        await Go(browser, $"#/traject/{id}");
        (await browser.EvaluateAsync("document.querySelectorAll('button[data-trigger]').length")).GetInt32().ShouldBe(0);
        (await Text(browser, "#steps")).ShouldContain("U kunt nu geen stap zetten");

        var forged = await browser.EvaluateAsync($$"""
            fetch('/api/trajectories/{{id}}/fire', { method: 'POST', credentials: 'same-origin',
              headers: { 'Content-Type': 'application/json', 'X-KbPathways': '1' },
              body: JSON.stringify({ trigger: 'werkhypotheseVastgelegd', data: { medischOnderzoekAfgerond: true, scegsNotities: 'x' } }) }).then(r => r.status)
            """);
        forged.GetInt32().ShouldBe(403);
        // Without the header a session cannot change anything (another site's form could not send it).
        var crossSite = await browser.EvaluateAsync($$"""
            fetch('/api/patients/p-fysio/kb-mark', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ reason: 'x' }) }).then(r => r.status)
            """);
        crossSite.GetInt32().ShouldBe(403);
        (await Version(id)).ShouldBe(version);
    }

    [Fact]
    public async Task Given_two_users_on_one_trajectory_When_the_second_submits_Then_a_409_message_with_the_input_kept()
    {
        var huisarts = host.Client(practice, "huisarts");
        var id = await huisarts.Start("solk", "p-two");
        await using var browser = await HeadlessChromium.StartAsync();
        await SignIn(browser, "huisarts");
        await Go(browser, $"#/traject/{id}");
        await browser.EvaluateAsync("document.querySelector('button[data-trigger=\"werkhypotheseVastgelegd\"]').click(); true");
        await browser.WaitForAsync("document.querySelector('form[data-form=\"werkhypotheseVastgelegd\"]')");
        await browser.EvaluateAsync("document.querySelector('[name=scegsNotities]').value = 'mijn lange notitie'; document.querySelector('[name=medischOnderzoekAfgerond][value=true]').checked = true; true");

        // Meanwhile a colleague refers the patient on the side track: the trajectory's version moves on.
        (await huisarts.Fire(id, new { trigger = "verwezenNaarTweedeLijn", data = new { verwijsvraag = "x" } })).StatusCode.ShouldBe(HttpStatusCode.OK);
        var version = await Version(id);

        await browser.EvaluateAsync("document.body.dataset.ready = 'false'; document.querySelector('form[data-form=\"werkhypotheseVastgelegd\"] button[type=submit]').click(); true");
        await browser.WaitForAsync("document.body.dataset.ready === 'true' && document.querySelector('form[data-form=\"werkhypotheseVastgelegd\"]')");
        (await Text(browser, "#message")).ShouldContain("Iemand anders heeft dit traject intussen gewijzigd");
        (await browser.EvaluateAsync("document.querySelector('[name=scegsNotities]').value")).GetString().ShouldBe("mijn lange notitie");
        (await browser.EvaluateAsync("document.querySelector('[name=medischOnderzoekAfgerond][value=true]').checked")).GetBoolean().ShouldBeTrue();
        (await Version(id)).ShouldBe(version); // the stale submission appended nothing

        // Submitting again now acts once, however often it is clicked.
        await browser.EvaluateAsync("""
            (() => { const b = document.querySelector('form[data-form="werkhypotheseVastgelegd"] button[type=submit]');
              document.body.dataset.ready = 'false'; b.click(); b.click(); return true; })()
            """);
        await browser.WaitForAsync("document.body.dataset.ready === 'true' && !document.querySelector('form[data-form=\"werkhypotheseVastgelegd\"]')");
        var history = await (await huisarts.GetAsync($"/api/trajectories/{id}/history")).Body();
        history.EnumerateArray().Count(e => e.GetProperty("trigger").ValueKind == JsonValueKind.String && e.GetProperty("trigger").GetString() == "werkhypotheseVastgelegd").ShouldBe(1);
    }

    [Fact]
    public async Task Given_production_Then_there_is_no_development_sign_in_and_root_leads_to_the_workplace()
    {
        var root = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseAddress }.GetAsync("/");
        root.Headers.Location!.ToString().ShouldBe("/werkplek");
        using var development = new HttpClient { BaseAddress = host.BaseAddress };
        (await development.GetAsync("/aanmelden")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var (app, address) = await TestHost.StartAsync(host.ConnectionString,
            ["--environment", "Production", $"--Auth:SigningKey={key}", "--Auth:Issuer=https://idp.example",
             // the same seal key as the fixture's hosts: this host seals the same log
             $"--AccessLog:SealKey={Convert.ToBase64String(KbPathways.Host.Identity.DevelopmentKeys.Read(KbPathways.Host.AccessLog.AccessLogOptions.DevelopmentKeyFile))}"]);
        await using (app)
        {
            using var production = new HttpClient { BaseAddress = address };
            var answer = await production.GetAsync("/aanmelden");
            answer.StatusCode.ShouldBe(HttpStatusCode.NotFound); // for everyone: no sign-in first
            answer.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            (await production.PostAsync("/aanmelden", new FormUrlEncodedContent([new("user", "demo-huisarts"), new("praktijk", practice)])))
                .StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }
    }
}
