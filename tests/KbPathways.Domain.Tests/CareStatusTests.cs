using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Quality;
using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

/// <summary>
/// In beeld / in zorg as seed 000 defines them, declared in kb-begeleiding's <c>careStatus</c> and computed by the one
/// rule (<see cref="QualityReport.StatusOf"/>) the dashboard, the report and the patient view share.
/// </summary>
public class CareStatusTests
{
    private static readonly IReadOnlyList<PathwayDefinition> Shipped = ShippedPathwayTests.LoadShipped().Definitions;
    private static readonly PathwayDefinition Kb = Shipped.Single(d => d.Id == "kb-begeleiding" && d.Practice is null);
    private static readonly PathwayDefinition Solk = Shipped.Single(d => d.Id == "solk" && d.Practice is null);
    private static readonly PathwayDefinition KbOverlay = Shipped.Single(d => d.Id == "kb-begeleiding" && d.Practice == "voorbeeldpraktijk");

    private static PathwayDefinition? ByHash(string hash) => Shipped.FirstOrDefault(d => d.Hash == hash);

    private static Trajectory Begin(PathwayDefinition d, string patient, DateTimeOffset at, string json = "{}") => Trajectory.Replay(
        TrajectoryDecider.Start(new StartTrajectory(Guid.NewGuid(), patient, "praktijk", As("huisarts"), Data(json)), d, at));

    private const string Marking = """{"kbCode": "A69.02", "doelgroep": "stapeling", "eigenHuisarts": "dr. Jansen", "reden": "schulden, eenzaamheid, COPD"}""";
    private const string Informatie = """{"contactpersonen": "dochter, buurtteam", "afspraken": "huisbezoek eens per maand"}""";

    /// <summary>Marked (ingekaart), informatie recorded, taken into care and visited at home: in zorg at <paramref name="t0"/> + 10 days.</summary>
    private static Trajectory InZorg(PathwayDefinition d, string patient, DateTimeOffset t0) => Begin(d, patient, t0)
        .Fire(d, "kbMarkeringGeplaatst", "huisarts", Marking, t0.AddDays(1))
        .Fire(d, "informatieVastgelegd", "poh-kb", Informatie, t0.AddDays(2))
        .Fire(d, "inZorgGenomen", "poh-kb", """{"reden": "crisis huisvesting"}""", t0.AddDays(3))
        .Fire(d, "huisbezoekAfgelegd", "poh-kb", """{"huisbezoekDatum": "2026-03-12"}""", t0.AddDays(10));

    private static IsoPeriod Period(string text) => IsoPeriod.TryParse(text, out var p) ? p : throw new ArgumentException(text);

    private static PatientCareStatus Status(Trajectory t, bool marked, DateTimeOffset at) =>
        QualityReport.StatusOf([TrajectoryRow.Of(t)], marked, ByHash, at);

    [Fact]
    public void Given_a_patient_in_solk_only_When_asked_Then_they_are_neither_in_beeld_nor_in_zorg()
    {
        var solk = Begin(Solk, "p-solk", T0);

        var status = Status(solk, marked: true, T0.AddDays(1));

        status.InBeeld.ShouldBeFalse();
        status.InZorg.ShouldBeFalse();
        Solk.CareStatus.ShouldBeNull();
    }

    [Fact]
    public void Given_a_target_group_patient_When_contactpersonen_and_afspraken_are_recorded_Then_they_are_in_beeld_from_that_moment()
    {
        var t = Begin(Kb, "p1", T0).Fire(Kb, "kbMarkeringGeplaatst", "huisarts", Marking, T0.AddDays(1));

        Status(t, true, T0.AddDays(1)).InBeeld.ShouldBeFalse();
        Status(t, true, T0.AddDays(1)).Missing.ShouldBe(["Belangrijke contactpersonen", "Afspraken voor de zorgverlening"]);

        t = t.Fire(Kb, "informatieVastgelegd", "poh-kb", Informatie, T0.AddDays(2));

        Status(t, true, T0.AddDays(2)).InBeeld.ShouldBeTrue();
        Status(t, true, T0.AddDays(2).AddTicks(-1)).InBeeld.ShouldBeFalse();   // as it was a moment before
        Status(t, true, T0.AddDays(2)).InZorg.ShouldBeFalse();                 // in beeld, but not taken into care
    }

    [Fact]
    public void Given_a_marked_patient_with_recent_POH_Kb_contact_When_contact_lapses_beyond_the_period_Then_they_drop_out_of_in_zorg()
    {
        var t = InZorg(Kb, "p1", T0);
        var contact = T0.AddDays(10);

        Status(t, true, contact).InZorg.ShouldBeTrue();
        Status(t, true, contact.AddDays(42)).InZorg.ShouldBeTrue();            // contactInterval P6W: the last day still counts
        Status(t, true, contact.AddDays(42).AddTicks(1)).InZorg.ShouldBeFalse();
        Status(t, true, contact.AddDays(42).AddTicks(1)).ContactBefore.ShouldBe(contact.AddDays(42));
        Status(t, true, contact.AddDays(50)).InBeeld.ShouldBeTrue();           // still in beeld

        var again = t.Fire(Kb, "vierDGesprekGevoerd", "poh-kb", """{"vierD": {"prioriteit": "sociaal"}, "cvg": {"cijfer": 5}}""", contact.AddDays(45));
        Status(again, true, contact.AddDays(50)).InZorg.ShouldBeTrue();        // a new contact: in zorg again
    }

    [Fact]
    public void Given_contact_without_the_KB_mark_or_after_contact_was_stopped_When_asked_Then_the_patient_is_not_in_zorg()
    {
        var t = InZorg(Kb, "p1", T0);
        Status(t, marked: false, T0.AddDays(11)).InZorg.ShouldBeFalse();       // not ingekaart (the mark was removed elsewhere)

        var plan = t.Fire(Kb, "vierDGesprekGevoerd", "poh-kb", """{"vierD": {"prioriteit": "sociaal"}, "cvg": {"cijfer": 5}}""", T0.AddDays(11))
            .Fire(Kb, "planGemaakt", "poh-kb", """{"gewensteSituatie": "rust", "plan": "schuldhulp"}""", T0.AddDays(12))
            .Fire(Kb, "stabielContactGestopt", "poh-kb", """{"cvg": {"cijfer": 7}, "huisartsGeinformeerd": true}""", T0.AddDays(13));
        Status(plan, true, T0.AddDays(14)).InZorg.ShouldBeFalse();            // the POH-Kb stopped active contact: back in beeld
        Status(plan, true, T0.AddDays(14)).InBeeld.ShouldBeTrue();
    }

    [Fact]
    public void Given_a_practice_overlay_with_a_shorter_contact_period_When_asked_Then_its_patients_drop_out_sooner()
    {
        KbOverlay.CareStatus!.ContactWithin.ShouldBe(Period("P4W"));
        var t = InZorg(KbOverlay, "p1", T0);

        Status(t, true, T0.AddDays(10 + 28)).InZorg.ShouldBeTrue();
        Status(t, true, T0.AddDays(10 + 29)).InZorg.ShouldBeFalse();
        Status(InZorg(Kb, "p2", T0), true, T0.AddDays(10 + 29)).InZorg.ShouldBeTrue();
    }

    [Fact]
    public void Given_the_practice_When_counted_Then_care_status_groups_by_patient_and_reads_the_marks_at_the_moment()
    {
        var p1 = InZorg(Kb, "p1", T0);
        var p2 = Begin(Kb, "p2", T0).Fire(Kb, "kbMarkeringGeplaatst", "huisarts", Marking, T0.AddDays(1))
            .Fire(Kb, "informatieVastgelegd", "poh-kb", Informatie, T0.AddDays(2));
        var p3 = Begin(Solk, "p3", T0);
        List<KbMarkChange> marks = [new("p1", true, T0.AddDays(1)), new("p2", true, T0.AddDays(1)), new("p3", true, T0), new("p1", false, T0.AddDays(20))];

        var (inBeeld, inZorg) = QualityReport.CareStatus([TrajectoryRow.Of(p1), TrajectoryRow.Of(p2), TrajectoryRow.Of(p3)], marks, ByHash, T0.AddDays(15));
        inBeeld.Order().ShouldBe(["p1", "p2"]);
        inZorg.ShouldBe(["p1"]);

        QualityReport.CareStatus([TrajectoryRow.Of(p1)], marks, ByHash, T0.AddDays(21)).InZorg.ShouldBeEmpty();   // mark removed on day 20
    }

    [Fact]
    public void Given_a_step_with_kbMark_When_it_is_taken_Then_the_patient_decider_records_the_mark_once()
    {
        var record = PatientRecord.Empty(Guid.NewGuid(), "praktijk", "p1");
        var actor = new Actor("u1", "huisarts");

        var placed = PatientDecider.FromStep(record, KbMarkAction.Place, "A69.02", "stap", actor, T0);
        placed.ShouldHaveSingleItem().ShouldBeOfType<KbMarkPlaced>().Code.ShouldBe("A69.02");
        var marked = placed.Aggregate(record, PatientRecord.Evolve);
        PatientDecider.FromStep(marked, KbMarkAction.Place, "A69.02", "stap", actor, T0).ShouldBeEmpty();
        PatientDecider.FromStep(record, KbMarkAction.Remove, null, "stap", actor, T0).ShouldBeEmpty();
        PatientDecider.FromStep(marked, KbMarkAction.Remove, null, "stap", actor, T0).ShouldHaveSingleItem().ShouldBeOfType<KbMarkRemoved>();
        Kb.Main.FindState("Aangemeld")!.Transitions.Single(x => x.Trigger == "kbMarkeringGeplaatst").KbMark.ShouldBe(KbMarkAction.Place);
        Kb.Main.FindState("InBeeld")!.Transitions.Single(x => x.Trigger == "kbMarkeringVerwijderd").KbMark.ShouldBe(KbMarkAction.Remove);
    }

    [Fact]
    public void Given_Kb_patients_of_two_huisartsen_Then_the_yearly_review_lists_them_per_huisarts_and_counts_who_was_discussed()
    {
        Kb.YearlyReview.ShouldNotBeNull().Per.ShouldBe("eigenHuisarts");
        Trajectory Marked(string patient, string gp) => Begin(Kb, patient, T0)
            .Fire(Kb, "kbMarkeringGeplaatst", "huisarts", Marking.Replace("dr. Jansen", gp), T0.AddDays(1));
        var a = Marked("p1", "dr. Jansen").Fire(Kb, "jaarbesprekingBesproken", "poh-kb", "{}", T0.AddDays(30));
        var b = Marked("p2", "dr. Jansen");
        var c = Marked("p3", "dr. Bakker");

        var review = QualityReport.YearlyReview([TrajectoryRow.Of(a), TrajectoryRow.Of(b), TrajectoryRow.Of(c)], ByHash, T0.AddDays(40));

        review.Select(e => (e.Group, e.PatientId, e.Reviewed)).OrderBy(x => x.PatientId)
            .ShouldBe([("dr. Jansen", "p1", true), ("dr. Jansen", "p2", false), ("dr. Bakker", "p3", false)]);
        review.Single(e => e.PatientId == "p2").DueBy.ShouldBe(T0.AddYears(1));               // reviewInterval P1Y from the start
        QualityReport.YearlyReview([TrajectoryRow.Of(a)], ByHash, T0.AddDays(30).AddYears(1).AddTicks(1)).Single().Reviewed.ShouldBeFalse();
    }

    [Fact]
    public void Given_POH_Kb_contacts_When_reported_Then_they_count_as_kb_contacten_not_as_POH_GGZ_sessions()
    {
        var t = InZorg(Kb, "p1", T0)
            .Fire(Kb, "vierDGesprekGevoerd", "poh-kb", """{"vierD": {"prioriteit": "sociaal"}, "cvg": {"cijfer": 5}}""", T0.AddDays(11))
            .Fire(Kb, "planGemaakt", "poh-kb", """{"gewensteSituatie": "rust", "plan": "schuldhulp"}""", T0.AddDays(12))
            .Fire(Kb, "contactGehad", "poh-kb", """{"notitie": "gebeld"}""", T0.AddDays(20))
            .Fire(Kb, "overleden", "huisarts", "{}", T0.AddDays(21));
        var settings = QualitySettings.Default(TimeZoneInfo.Utc);

        var report = QualityReport.Compute([TrajectoryRow.Of(t)], [], ByHash, settings, DateOnly.FromDateTime(T0.UtcDateTime), DateOnly.FromDateTime(T0.AddDays(30).UtcDateTime));

        report.Single(v => v.Indicator == "kb-contacten" && v.Pathway is null && v.Month is null).Value.ShouldBe(4);   // huisbezoek, 4D, plan, contact
        // Before, contactGehad was tagged 'sessie': this closed trajectory counted 1 POH-GGZ session per trajectory.
        report.Single(v => v.Indicator == "sessies-per-traject" && v.Pathway is null).Value.ShouldBeNull();
    }

    private const string Rule = """
        careStatus:
          inBeeld:
            recorded: [notitie]
          inZorg:
            states: [Start, Zwaar]
            contact: [contact-kb]
            within: $termijn
        """;

    private static string WithRule(string rule = Rule) => Pathway.Replace("roles:\n", rule + "\nroles:\n", StringComparison.Ordinal)
        .Replace("increments: [contacten]", "increments: [contacten]\n        indicators: [contact-kb]");

    [Fact]
    public void Given_a_careStatus_When_loaded_Then_its_parts_are_bound_with_settings_resolved()
    {
        var d = Load(WithRule());

        d.CareStatus.ShouldNotBeNull();
        d.CareStatus.InBeeldRecorded.ShouldBe(["notitie"]);
        d.CareStatus.InZorgMarked.ShouldBeTrue();
        d.CareStatus.InZorgStates.ShouldBe(["Start", "Zwaar"]);
        d.CareStatus.ContactWithin.ShouldBe(Period("P2W"));
    }

    /// <summary>Each case breaks the rule in one way; the loader names the rule and the line.</summary>
    public static TheoryData<string, string, string, string> Breaks => new()
    {
        { "recorded: [notitie]", "recorded: [notities]", "notities", "unknown-field" },
        { "states: [Start, Zwaar]", "states: [Start, Zwar]", "Zwar", "unknown-state" },
        { "contact: [contact-kb]", "contact: [sessie]", "sessie", "unknown-indicator" },
        { "within: $termijn", "within: P2X", "within: P2X", "invalid-period" },
        { "    contact: [contact-kb]\n", "", "states:", "missing-key" },
        { "  inBeeld:\n    recorded: [notitie]\n", "", "inZorg:", "missing-key" },
        { "    within: $termijn", "    within: $termijn\n    marked: misschien", "marked: misschien", "wrong-type" },
    };

    [Theory]
    [MemberData(nameof(Breaks))]
    public void Given_a_broken_careStatus_When_loaded_Then_the_rule_is_reported_at_its_line(string find, string replace, string at, string rule)
    {
        var text = WithRule(Rule.Replace(find, replace));
        Rule.ShouldContain(find);

        var result = PathwayLoader.Load("status.yaml", text);

        var hit = result.Errors.FirstOrDefault(d => d.Rule == rule);
        hit.ShouldNotBeNull($"expected rule {rule}; got: {string.Join(" | ", result.Diagnostics)}");
        text.Split('\n')[hit.Location.Line - 1].ShouldContain(at);
    }

    [Theory]
    [InlineData("kbMark: plaats", "invalid-value")]
    [InlineData("kbMark: place", "kb-mark-code")]
    public void Given_a_step_with_a_wrong_kbMark_When_loaded_Then_it_is_refused_at_its_line(string kbMark, string rule)
    {
        var text = Pathway.Replace("stoppen: { label: Gestopt, roles: [poh], to: Gestopt }", $"stoppen: {{ label: Gestopt, roles: [poh], to: Gestopt, {kbMark} }}");

        var result = PathwayLoader.Load("mark.yaml", text);

        var hit = result.Errors.FirstOrDefault(d => d.Rule == rule);
        hit.ShouldNotBeNull($"expected rule {rule}; got: {string.Join(" | ", result.Diagnostics)}");
        text.Split('\n')[hit.Location.Line - 1].ShouldContain("stoppen");
    }

    [Fact]
    public void Given_a_state_with_the_old_inZorg_key_When_loaded_Then_it_loads_with_a_warning_that_it_counts_for_nothing()
    {
        var result = PathwayLoader.Load("oud.yaml", Pathway.Replace("Licht:\n    waits: false", "Licht:\n    inZorg: true\n    waits: false"));

        result.Errors.ShouldBeEmpty();
        result.Diagnostics.ShouldHaveSingleItem().Rule.ShouldBe("obsolete-key");
    }
}
