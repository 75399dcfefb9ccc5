using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Quality;
using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

/// <summary>
/// The indicators corrected against the seeds, each computed from a trajectory's events where the old pathways or the
/// old rule gave a different number (the old number is named in each test).
/// </summary>
public class IndicatorTests
{
    private static readonly IReadOnlyList<PathwayDefinition> Shipped = ShippedPathwayTests.LoadShipped().Definitions;
    private static PathwayDefinition Base(string id) => Shipped.Single(d => d.Id == id && d.Practice is null);

    private static Trajectory Begin(PathwayDefinition d, string role, DateTimeOffset at) => Trajectory.Replay(
        TrajectoryDecider.Start(new StartTrajectory(Guid.NewGuid(), "p1", "praktijk", As(role), NoData), d, at));

    private static IReadOnlyList<IndicatorValue> Report(IEnumerable<Trajectory> trajectories, DateTimeOffset from, DateTimeOffset to, params PathwayDefinition[] definitions) =>
        QualityReport.Compute([.. trajectories.Select(TrajectoryRow.Of)], [], h => definitions.Concat(Shipped).FirstOrDefault(d => d.Hash == h),
            QualitySettings.Default(TimeZoneInfo.Utc), DateOnly.FromDateTime(from.UtcDateTime), DateOnly.FromDateTime(to.UtcDateTime));

    private static IndicatorValue? One(IReadOnlyList<IndicatorValue> report, string indicator, string? group = null) =>
        report.SingleOrDefault(v => v.Indicator == indicator && v.Pathway is null && v.Month is null && v.Group == group);

    [Fact]
    public void Given_a_buurtteam_referral_answered_and_closed_with_a_stopbericht_Then_it_counts_as_answered_and_not_as_an_escalation()
    {
        var d = Base("doen-wat-nodig-is");
        var t = Begin(d, "poh", T0)
            .Fire(d, "startberichtVerstuurd", "poh", """{"toestemmingInwoner": true, "domeinen": ["schulden"], "signaal": "x", "contactBuurtteam": "x"}""", T0.AddDays(1))
            .Fire(d, "terugkoppelingGegeven", "buurtteammedewerker", """{"terugkoppeling": "intake gedaan"}""", T0.AddDays(5))
            .Fire(d, "doorbraak", "buurtteammedewerker", """{"uitzondering": "regeling", "stopbericht": "opgelost"}""", T0.AddDays(20));

        var report = Report([t], T0, T0.AddDays(30));

        One(report, "verwijzingen", "buurtteam")!.Value.ShouldBe(1);
        One(report, "terugkoppeling", "buurtteam")!.Value.ShouldBe(100m);     // was always 0 %: nothing was tagged terugkoppeling/buurtteam
        report.ShouldNotContain(v => v.Indicator == "escalaties");            // was escalatie/1 = 1: the startbericht counted as an escalation
        One(report, "doorbraak")!.Denominator.ShouldBe(0);                     // was 1 of 1 (100 %): it never escalated
    }

    [Fact]
    public void Given_a_real_escalation_When_it_ends_in_a_doorbraak_Then_it_counts_per_level_and_for_doorbraak()
    {
        var d = Base("doen-wat-nodig-is");
        var t = Begin(d, "poh", T0)
            .Fire(d, "startberichtVerstuurd", "poh", """{"toestemmingInwoner": true, "domeinen": ["schulden"], "signaal": "x", "contactBuurtteam": "x"}""", T0.AddDays(1))
            .Fire(d, "escaleren", "buurtteammedewerker", """{"blokkerendeRegel": "a", "pogingen": "a", "toestemmingInwoner": true, "urgentie": "geen"}""", T0.AddDays(3))
            .Fire(d, "doorbraak", "contactpersoon", """{"uitzondering": "regeling", "stopbericht": "opgelost"}""", T0.AddDays(9));

        var report = Report([t], T0, T0.AddDays(30));

        One(report, "escalaties", "2")!.Value.ShouldBe(1);
        One(report, "escalaties", "1").ShouldBeNull();
        One(report, "doorbraak").ShouldBe(new IndicatorValue("doorbraak", null, null, null, 100m, 1, 1));
    }

    [Fact]
    public void Given_a_setting_guard_When_the_practice_overlay_allows_it_Then_vastgelopen_below_the_top_level_is_accepted_there_only()
    {
        var d = Base("doen-wat-nodig-is");
        var overlay = Shipped.Single(x => x.Id == "doen-wat-nodig-is" && x.Practice == "voorbeeldpraktijk");
        const string close = """{"reden": "inwoner stopt", "stopbericht": "x"}""";
        Trajectory AtLevel1(PathwayDefinition def) => Begin(def, "poh", T0)
            .Fire(def, "startberichtVerstuurd", "poh", """{"toestemmingInwoner": true, "domeinen": ["werk"], "signaal": "x", "contactBuurtteam": "x"}""", T0);

        var refused = Should.Throw<PathwayRuleException>(() => AtLevel1(d).Fire(d, "vastgelopen", "buurtteammedewerker", close));
        refused.Kind.ShouldBe(RejectionKind.GuardFailed);
        refused.Message.ShouldContain("altijd een oplossing");
        AtLevel1(overlay).Fire(overlay, "vastgelopen", "buurtteammedewerker", close).Outcome.ShouldBe("vastgelopen");
    }

    [Theory]
    [InlineData("when: { setting: vastlopenOnderTopnivo, eq: ja }", "unknown-setting")]
    [InlineData("when: { setting: vastlopenOnderTopniveau, gt: 1 }", "guard-shape")]
    public void Given_a_broken_setting_guard_When_loaded_Then_it_is_refused_at_its_line(string guard, string rule)
    {
        var text = File.ReadAllText(Path.Combine(ShippedPathwayTests.Root, "doen-wat-nodig-is.yaml"));
        var broken = text.Replace("when: { setting: vastlopenOnderTopniveau, eq: ja }", guard);
        broken.ShouldNotBe(text);

        var result = PathwayLoader.Load("doen-wat-nodig-is.yaml", broken);

        var hit = result.Errors.FirstOrDefault(e => e.Rule == rule);
        hit.ShouldNotBeNull(string.Join(" | ", result.Diagnostics));
        broken.Split('\n')[hit.Location.Line - 1].ShouldContain("setting:");
    }

    [Fact]
    public void Given_an_overlay_that_changes_the_MDO_interval_Then_both_the_deadline_and_the_frail_elderly_indicator_move()
    {
        var text = File.ReadAllText(Path.Combine(ShippedPathwayTests.Root, "proactieve-ouderenzorg.yaml"));
        var loaded = PathwayLoader.Load([new PathwaySource("proactieve-ouderenzorg.yaml", text),
            new PathwaySource("practices/snel/proactieve-ouderenzorg.yaml", "extends: proactieve-ouderenzorg\npractice: snel\nsettings:\n  mdoInterval: P3M\n")]);
        loaded.Errors.ShouldBeEmpty();
        var (standard, snel) = (loaded.Definitions.Single(x => x.Practice is null), loaded.Definitions.Single(x => x.Practice == "snel"));
        Trajectory Frail(PathwayDefinition d) => Begin(d, "poh-o", T0)
            .Fire(d, "gescreend", "poh-o", """{"gfi": {"boodschappen": true, "buitenLopen": true, "aankleden": true, "toilet": true, "fitheid": 8, "zien": true, "horen": true, "gewichtsverlies": false, "medicijnen": true, "geheugen": "ja", "leegte": "nee", "mensenMissen": "nee", "inDeSteekGelaten": "nee", "somber": "nee", "nerveus": "nee"}}""", T0)
            .Fire(d, "beoordeeld", "poh-o", "{}", T0)
            .Fire(d, "huisbezoekAfgerond", "poh-o", """{"huisbezoekDatum": "2026-03-02", "vierD": {"prioriteit": "lichaam"}, "mantelzorger": "dochter"}""", T0)
            .Fire(d, "zorgplanVastgesteld", "huisarts", """{"mdoDatum": "2026-03-02", "zorgplanDoelen": "valpreventie", "patientBetrokken": true}""", T0)
            .Fire(d, "casemanagerBenoemd", "huisarts", """{"casemanager": "POH-O"}""", T0);
        var (a, b) = (Frail(standard), Frail(snel));

        a.Deadlines.Single(x => x.Name == "mdo").DueAt.ShouldBe(T0.AddMonths(6));
        b.Deadlines.Single(x => x.Name == "mdo").DueAt.ShouldBe(T0.AddMonths(3));
        var fourMonths = T0.AddMonths(4);
        One(Report([a], fourMonths, fourMonths, standard), "kwetsbaar-mdo")!.Value.ShouldBe(100m);   // MDO 4 months ago, within 6
        One(Report([b], fourMonths, fourMonths, snel), "kwetsbaar-mdo")!.Value.ShouldBe(0m);         // was 100 %: the installation's P6M, not the practice's P3M
    }

    [Fact]
    public void Given_BMI_SDS_recorded_at_intake_and_at_the_end_Then_its_change_is_reported_for_closed_trajectories()
    {
        var d = Base("fitgaaf");
        var t = Begin(d, "jeugdverpleegkundige", T0)
            .Fire(d, "intakeGestart", "jeugdverpleegkundige", """{"leeftijdJaren": 8, "ouderlijkeToestemming": true}""", T0)
            .Fire(d, "intakeAfgerond", "jeugdverpleegkundige", """{"vierD": {"prioriteit": "lichaam"}, "gezinscontext": "x", "lengteCm": 132, "gewichtKg": 38.5, "bmiSds": 2.3}""", T0.AddDays(7))
            .Fire(d, "planVastgesteld", "jeugdverpleegkundige", """{"componenten": ["dietist", "gedrag"]}""", T0.AddDays(8))
            .Fire(d, "componentenGestart", "dietist", """{"startdatum": "2026-03-16"}""", T0.AddDays(14))
            .Fire(d, "evaluatieVervroegd", "jeugdverpleegkundige", "{}", T0.AddDays(60))
            .Fire(d, "geevalueerd", "jeugdverpleegkundige", """{"bmiSds": 1.2, "evaluatieUitkomst": "afsluiten"}""", T0.AddDays(61));

        var report = Report([t], T0, T0.AddDays(90));

        One(report, "score-verschil", "bmiSds").ShouldBe(new IndicatorValue("score-verschil", null, "bmiSds", null, -1.1m, null, 1));   // was not computable
    }

    [Fact]
    public void Given_two_patients_who_said_ja_When_one_started_Then_half_of_them_started()
    {
        var d = Base("meer-bewegen");
        Trajectory Yes(DateTimeOffset at) => Begin(d, "huisarts", at)
            .Fire(d, "geinventariseerd", "huisarts", """{"beweeggedrag": "x", "fitheid": "x", "ervaringen": "x", "beperkingen": "x", "multimorbiditeit": false, "omgeving": "x"}""", at)
            .Fire(d, "motivatieVerkend", "huisarts", """{"belang": 8}""", at)
            .Fire(d, "getrieerd", "huisarts", """{"complicaties": false}""", at)
            .Fire(d, "aanbodGekozen", "beweegmakelaar", """{"gekozenAanbod": "BigMove", "redenen": "samen"}""", at.AddDays(1))
            .Fire(d, "commitmentGevraagd", "beweegmakelaar", """{"gaatUDitEchtDoen": "ja"}""", at.AddDays(1));
        var started = Yes(T0).Fire(d, "gestart", "beweegmakelaar", """{"startdatum": "2026-03-10", "aanbieder": "BigMove"}""", T0.AddDays(8));

        var report = Report([started, Yes(T0.AddDays(2))], T0, T0.AddDays(30));

        One(report, "echt-doen-gestart").ShouldBe(new IndicatorValue("echt-doen-gestart", null, null, null, 50m, 1, 2));   // was not computable
    }

    [Fact]
    public void Given_two_elders_on_the_75plus_list_When_one_was_screened_in_the_period_Then_half_the_list_was_screened()
    {
        var d = Base("proactieve-ouderenzorg");
        var screened = Begin(d, "poh-o", T0).Fire(d, "gescreend", "assistent",
            """{"gfi": {"boodschappen": true, "buitenLopen": true, "aankleden": true, "toilet": true, "fitheid": 8, "zien": false, "horen": false, "gewichtsverlies": false, "medicijnen": false, "geheugen": "nee", "leegte": "nee", "mensenMissen": "nee", "inDeSteekGelaten": "nee", "somber": "nee", "nerveus": "nee"}}""", T0.AddDays(10));

        var report = Report([screened, Begin(d, "poh-o", T0)], T0, T0.AddDays(30));

        One(report, "gescreend-75plus").ShouldBe(new IndicatorValue("gescreend-75plus", null, null, null, 50m, 1, 2));   // was not computable
    }
}
