using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Quality;
using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

public class QualityTests
{
    /// <summary>The fixture with indicator tags: contacts are sessions, the assessment is the intake and a referral.</summary>
    private static readonly PathwayDefinition Tagged = Load(Pathway
        .Replace("increments: [contacten]", "increments: [contacten]\n        indicators: [sessie]")
        .Replace("optional: [notitie]", "optional: [notitie]\n        indicators: [intake, verwijzing/fysio]")
        .Replace("evalueren: { roles: [], to: Zwaar }", "evalueren: { roles: [], to: Zwaar, indicators: [mdo] }")
        .Replace("  Zwaar:\n    deadlines:", "  Zwaar:\n    owner: huisarts\n    indicators: [kwetsbaar]\n    deadlines:")
        .Replace("requires: [ernst], when:", "requires: [ernst], optional: [lijst], when:"));

    private const string Vier = """{"lijst": {"a": false, "b": "ja", "c": 5}}""";   // 4 points: Zwaar
    private const string Nul = """{"a": true, "b": "nee", "c": 8}""";              // 0 points
    private static readonly DateTimeOffset Mar2 = T0;                                 // 2026-03-02 09:00 UTC

    private static Trajectory Begin(string patient, DateTimeOffset at) => Trajectory.Replay(
        TrajectoryDecider.Start(new StartTrajectory(Guid.NewGuid(), patient, "praktijk", As("poh"), NoData), Tagged, at));

    private static Trajectory Step(Trajectory t, string trigger, string role, string json, DateTimeOffset at) => t.Fire(Tagged, trigger, role, json, at);

    private static Trajectory Due(Trajectory t, DateTimeOffset now)
    {
        var due = t.Deadlines.Single(d => d.DueAt <= now);
        return TrajectoryDecider.FireDeadline(new DeadlineDue(due.Name, due.Track, due.DueAt), t, Tagged, now).Aggregate(t, Trajectory.Evolve);
    }

    /// <summary>
    /// A: March, three sessions (the third over the cap), intake after 5 days into Zwaar, closed on 12 March with a
    /// lower score. B: March, intake after 1 day into Licht, still open. C: February, Zwaar (frail) since 3 February,
    /// its monthly evaluation (an MDO) on 3 March.
    /// </summary>
    private static (List<TrajectoryRow> Rows, List<KbMarkChange> Marks) Practice()
    {
        var a = Begin("p1", Mar2);
        a = Step(a, "contact", "poh", "{}", Mar2.AddDays(1));
        a = Step(a, "contact", "poh", "{}", Mar2.AddDays(2));
        a = Step(a, "contact", "poh", """{"reden": "nodig"}""", Mar2.AddDays(3));
        a = Step(a, "beoordelen", "huisarts", Vier, Mar2.AddDays(5));
        a = Step(a, "afsluiten", "huisarts", $$"""{"ernst": "licht", "lijst": {{Nul}}}""", Mar2.AddDays(10));

        var b = Begin("p2", Mar2.AddDays(3));
        b = Step(b, "beoordelen", "huisarts", """{"lijst": {"a": true, "b": "nee", "c": 8}}""", Mar2.AddDays(4));

        var c = Begin("p3", Mar2.AddDays(-28));
        c = Step(c, "beoordelen", "huisarts", Vier, Mar2.AddDays(-27));
        c = Due(c, Mar2.AddDays(1));

        List<KbMarkChange> marks =
        [
            new("p1", true, Mar2.AddDays(-1)), new("p2", true, Mar2.AddDays(-1)), new("p3", true, Mar2.AddDays(-30)),
            new("p4", true, Mar2.AddDays(-30)), new("p4", false, Mar2.AddDays(18)),
        ];
        return ([TrajectoryRow.Of(a), TrajectoryRow.Of(b), TrajectoryRow.Of(c)], marks);
    }

    private static IReadOnlyList<IndicatorValue> March()
    {
        var (rows, marks) = Practice();
        var settings = QualitySettings.Default(TimeZoneInfo.Utc) with { CvgInstrument = "lijst" };
        return QualityReport.Compute(rows, marks, hash => hash == Tagged.Hash ? Tagged : null, settings, new DateOnly(2026, 3, 1), new DateOnly(2026, 3, 31));
    }

    private static IndicatorValue One(IReadOnlyList<IndicatorValue> report, string indicator, string? pathway = null, string? group = null, string? month = null) =>
        report.Single(v => v.Indicator == indicator && v.Pathway == pathway && v.Group == group && v.Month == month);

    [Fact]
    public void Given_a_month_of_care_When_reported_Then_in_beeld_in_zorg_and_flows_count_patients_and_trajectories()
    {
        var report = March();

        // The fixture declares no careStatus (seed 000's rule lives in kb-begeleiding), so nobody is in beeld or in zorg:
        // the old rule counted C (an active trajectory in a state with an owner) in zorg, and p1, p2 (marked) in beeld.
        One(report, "in-zorg").Value.ShouldBe(0);
        One(report, "in-beeld").Value.ShouldBe(0);
        One(report, "instroom").Value.ShouldBe(2);         // A and B; C started in February
        One(report, "instroom", month: "2026-03").Value.ShouldBe(2);
        One(report, "uitstroom").Value.ShouldBe(1);
        One(report, "instroom", "demo").Value.ShouldBe(2);
    }

    [Fact]
    public void Given_a_month_of_care_When_reported_Then_cvg_intake_and_sessions_are_computed_from_the_steps()
    {
        var report = March();

        One(report, "cvg-start").ShouldBe(new IndicatorValue("cvg-start", null, null, null, 4m, null, 1));
        One(report, "cvg-eind").Value.ShouldBe(0m);
        One(report, "cvg-verschil").Value.ShouldBe(-4m);
        One(report, "cvg-verschil").Denominator.ShouldBe(1);
        One(report, "dagen-signaal-intake").Value.ShouldBe(3m);  // (5 + 1) / 2; C's intake was in February
        One(report, "dagen-signaal-intake").Denominator.ShouldBe(2);
        One(report, "sessies-per-traject").Value.ShouldBe(3m);
        One(report, "boven-sessieplafond").Value.ShouldBe(100m);
    }

    [Fact]
    public void Given_a_month_of_care_When_reported_Then_frail_mdo_referrals_and_escalations_are_counted()
    {
        var report = March();

        One(report, "mdo").Value.ShouldBe(1);
        One(report, "kwetsbaar-mdo").ShouldBe(new IndicatorValue("kwetsbaar-mdo", null, null, null, 100m, 1, 1));
        One(report, "kwetsbaar-medicatiereview").ShouldBe(new IndicatorValue("kwetsbaar-medicatiereview", null, null, null, 0m, 0, 1));
        One(report, "verwijzingen", group: "fysio").Value.ShouldBe(2);   // A and B were both assessed (and referred) in March
        One(report, "terugkoppeling", group: "fysio").ShouldBe(new IndicatorValue("terugkoppeling", null, "fysio", null, 0m, 0, 2));
        report.ShouldNotContain(v => v.Indicator == "escalaties");
        One(report, "doorbraak").Value.ShouldBeNull();     // nothing escalated: no percentage, not 0 %
    }

    [Fact]
    public void Given_a_later_period_When_reported_Then_only_its_own_steps_count_and_the_frail_window_has_passed()
    {
        var (rows, marks) = Practice();
        var report = QualityReport.Compute(rows, marks, hash => hash == Tagged.Hash ? Tagged : null,
            QualitySettings.Default(TimeZoneInfo.Utc) with { MdoWindow = new IsoPeriod(0, 1, 0, 0, 0, 0) }, new DateOnly(2026, 5, 1), new DateOnly(2026, 5, 31));

        One(report, "instroom").Value.ShouldBe(0);
        One(report, "mdo").Value.ShouldBe(0);
        One(report, "kwetsbaar-mdo").Numerator.ShouldBe(0);   // the last MDO (3 March) is older than the one-month window
    }

    [Fact]
    public void Given_a_report_When_written_as_csv_Then_labels_with_commas_are_quoted_and_numbers_are_invariant()
    {
        var csv = QualityReport.ToCsv(March()).Split("\r\n");

        csv[0].ShouldBe("indicator,label,pathway,group,month,value,numerator,denominator");
        csv.ShouldContain("in-beeld,\"In beeld (doelgroep bekend, contactpersonen en afspraken vastgelegd) aan het eind van de periode\",,,,0,,");
        csv.ShouldContain(l => l.StartsWith("cvg-verschil,") && l.EndsWith(",-4,,1"));
    }
}
