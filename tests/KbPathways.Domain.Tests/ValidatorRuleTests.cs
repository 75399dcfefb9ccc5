using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Loading;

namespace KbPathways.Domain.Tests;

public class ValidatorRuleTests
{
    /// <summary>Each case breaks the fixture in one way; the rule must be reported on the line holding <c>at</c>.</summary>
    public static TheoryData<string, string, string, string> Breaks => new()
    {
        { "Kalr", "to: Klaar, requires: [akkoord]", "to: Kalr, requires: [akkoord]", "unknown-state" },
        { "fires: herinneren", "fires: herinneren", "fires: herinnerenX", "unknown-trigger" },
        { "Zwaar:", "- state: Zwaar", "- state: Licht", "unreachable-state" },
        { "Actief:", "terug: { label: Terug, roles: [poh], to: Rust }", "terug: { label: Terug, roles: [poh] }", "dead-end" },
        { "field: ernsst", "field: ernst, eq: zwaar", "field: ernsst, eq: zwaar", "unknown-field" },
        { "gte: veel", "gte: $plafond", "gte: veel", "guard-type" },
        { "eq: middel", "eq: zwaar }", "eq: middel }", "guard-type" },
        { "roles: [arts]", "roles: [huisarts], to: Klaar", "roles: [arts], to: Klaar", "unknown-role" },
        { "poh: Tweede", "  huisarts: { label: Huisarts }", "  huisarts: { label: Huisarts }\n  poh: Tweede", "duplicate-key" },
        { "P2X", "termijn: P2W", "termijn: P2X", "invalid-period" },
        { "indicators: [Mdo]", "herinneren: { roles: [] }", "herinneren: { roles: [], indicators: [Mdo] }", "invalid-indicator" },
        { "tragger", "herinneren: { roles: [] }", "herinneren: { roles: [], tragger: x }", "unknown-key" },
        { "type: number", "score: { type: integer", "score: { type: number", "unknown-type" },
        { "$onbekend", "atLeast: $drempel", "atLeast: $onbekend", "unknown-setting" },
        { "initial: true, waits", "Actief: { waits: false", "Actief: { initial: true, waits: false", "initial-state" },
        { "contact:", "increments: [contacten]", "increments: [bezoeken]", "unknown-counter" },
        { "dimension: sociaal", "hoog: { atLeast: $drempel }", "hoog: { dimension: sociaal, atLeast: $drempel }", "unknown-dimension" },
        { "terug:", "Actief: { waits: false, on: { terug:", "Actief: { waits: false, on: { stoppen: { roles: [poh], to: Rust }, terug:", "duplicate-id" },
        { "herinneren:", "herinneren: { roles: [] }", "herinneren: { roles: [], restartsDeadlines: [bestaatNiet] }", "unknown-deadline" },
        { "score: { type: integer, min: 5, max: 1", "score: { type: integer, min: 0, max: 10 }", "score: { type: integer, min: 5, max: 1 }", "out-of-range" },
        { "Ge stopt", "Gestopt: { final: true, outcome: gestopt }", "\"Ge stopt\": { final: true, outcome: gestopt }", "invalid-name" },
        { "field: ernst, eq: zwaar, gt", "field: ernst, eq: zwaar", "field: ernst, eq: zwaar, gt: 1", "guard-shape" },
        { "Klaar: { final: true, outcome: klaar, deadlines", "Klaar: { final: true, outcome: klaar }", "Klaar: { final: true, outcome: klaar, deadlines: { x: { after: P1W, fires: herinneren } } }", "final-with-deadline" },
        { "misschien", "points: { ja: 1, soms: 1 }", "points: { ja: 1, soms: 1, misschien: 1 }", "unknown-value" },
        { "Klaar: { final: true", "Klaar: { final: true, outcome: klaar }", "Klaar: { final: true, outcome: klaar, on: { x: { roles: [poh], to: Start } } }", "final-with-exit" },
    };

    [Theory]
    [MemberData(nameof(Breaks))]
    public void Given_a_broken_pathway_When_loaded_Then_the_rule_is_reported_at_its_line(string at, string find, string replace, string rule)
    {
        Fixtures.Pathway.ShouldContain(find);
        var text = Fixtures.Pathway.Replace(find, replace);

        var result = PathwayLoader.Load("broken.yaml", text);

        var hit = result.Errors.FirstOrDefault(d => d.Rule == rule);
        hit.ShouldNotBeNull($"expected rule {rule}; got: {string.Join(" | ", result.Diagnostics)}");
        hit.Location.File.ShouldBe("broken.yaml");
        text.Split('\n')[hit.Location.Line - 1].ShouldContain(at);
        result.Definitions.ShouldBeEmpty();
    }

    [Fact]
    public void Given_the_fixture_When_loaded_Then_it_has_no_errors_and_no_warnings()
    {
        var result = PathwayLoader.Load("demo.yaml", Fixtures.Pathway);
        result.Diagnostics.ShouldBeEmpty();
        result.Definitions.Single().Tracks.Select(t => t.Name).ShouldBe(["main", "zijspoor"]);
    }

    [Fact]
    public void Given_five_different_mistakes_When_loaded_Then_five_located_errors()
    {
        var text = Fixtures.Pathway
            .Replace("to: Klaar, requires: [akkoord]", "to: Kalr, requires: [akkoord]")
            .Replace("fires: herinneren", "fires: herinnerenX")
            .Replace("field: ernst, eq: zwaar", "field: ernsst, eq: zwaar")
            .Replace("owner: poh", "owner: dokter")
            .Replace("termijn: P2W", "termijn: P2X");

        var errors = PathwayLoader.Load("five.yaml", text).Errors.ToList();

        errors.Select(e => e.Rule).Order().ShouldBe(["invalid-period", "unknown-field", "unknown-role", "unknown-state", "unknown-trigger"]);
        errors.Select(e => e.Location.Line).Distinct().Count().ShouldBe(5);
        errors.ShouldAllBe(e => e.ToString().StartsWith($"five.yaml:{e.Location.Line}:{e.Location.Column}: error: "));
    }

    [Fact]
    public void Given_a_yaml_syntax_error_When_loaded_Then_its_line_and_column_are_reported()
    {
        var text = "id: x\nversion: 1\ntitle: [unclosed\nroles: {}\n";

        var errors = PathwayLoader.Load("syntax.yaml", text).Errors.ToList();

        errors.Count.ShouldBe(1, string.Join(" | ", errors));
        var error = errors[0];

        error.Rule.ShouldBe("yaml-syntax");
        error.Location.Line.ShouldBeInRange(3, 4);
        error.Location.Column.ShouldBeGreaterThan(0);
        error.Message.ShouldNotContain("   at ");
    }

    [Theory]
    [InlineData("a: &x 1\nb: *x\n", "yaml-anchor")]
    [InlineData("", "yaml-empty")]
    [InlineData("- 1\n- 2\n", "wrong-kind")]
    [InlineData("id: a\n---\nid: b\n", "yaml-multiple-documents")]
    public void Given_unusable_yaml_When_loaded_Then_a_located_error(string text, string rule) =>
        PathwayLoader.Load("odd.yaml", text).Errors.ShouldContain(e => e.Rule == rule && e.Location.Line >= 1);

    [Fact]
    public void Given_deep_nesting_When_loaded_Then_refused_without_crashing()
    {
        var text = "id: " + string.Concat(Enumerable.Repeat("[", 200)) + string.Concat(Enumerable.Repeat("]", 200));
        PathwayLoader.Load("deep.yaml", text).Errors.ShouldContain(e => e.Rule == "yaml-too-deep");
    }

    [Fact]
    public void Given_a_waiting_state_without_deadline_and_a_step_without_roles_When_loaded_Then_warnings_only()
    {
        var text = Fixtures.Pathway.Replace("Actief: { waits: false, on: { terug: { label: Terug, roles: [poh], to: Rust } } }", "Actief: { on: { terug: { label: Terug, to: Rust } } }");

        var result = PathwayLoader.Load("warn.yaml", text);

        result.HasErrors.ShouldBeFalse();
        result.Diagnostics.Select(d => (d.Severity, d.Rule)).Order().ShouldBe([(Severity.Warning, "no-deadline"), (Severity.Warning, "no-role")]);
        result.Definitions.Count.ShouldBe(1);
    }

    [Fact]
    public void Given_two_files_with_one_id_When_loaded_Then_duplicate_id()
    {
        var result = PathwayLoader.Load([new("a.yaml", Fixtures.Pathway), new("b.yaml", Fixtures.Pathway)]);
        result.Errors.ShouldContain(e => e.Rule == "duplicate-id" && e.Location.File == "b.yaml");
    }

    [Fact]
    public void Given_a_deadline_on_a_step_that_needs_data_When_loaded_Then_deadline_needs_data()
    {
        var text = Fixtures.Pathway.Replace("herinneren: { roles: [] }", "herinneren: { roles: [], requires: [notitie] }");
        PathwayLoader.Load("d.yaml", text).Errors.ShouldContain(e => e.Rule == "deadline-needs-data");
    }

    [Fact]
    public void Given_an_unquoted_comma_in_a_flow_label_When_loaded_Then_the_error_says_to_quote_it()
    {
        var text = Fixtures.Pathway.Replace("notitie: { type: text }", "notitie: { type: text, label: Notitie, vrij }");
        PathwayLoader.Load("comma.yaml", text).Errors.Single().Message.ShouldContain("put text with commas in quotes");
    }

    [Fact]
    public void Given_no_final_state_When_loaded_Then_no_final_state()
    {
        var text = Fixtures.Pathway.Replace("Klaar: { final: true, outcome: klaar }", "Klaar: { waits: false, on: { terug: { roles: [poh], to: Start } } }")
            .Replace("Gestopt: { final: true, outcome: gestopt }", "Gestopt: { waits: false, on: { hervat: { roles: [poh], to: Start } } }");
        PathwayLoader.Load("nofinal.yaml", text).Errors.ShouldContain(e => e.Rule == "no-final-state");
    }

    [Theory]
    [InlineData("herinneren: { roles: [] }", "herinneren: { roles: [] }\n              wachten: { roles: [] }", "never-fired")]
    [InlineData("                  - state: Licht", "                  - state: Licht\n                  - state: Klaar", "unreachable-target")]
    public void Given_a_questionable_construct_When_loaded_Then_a_warning(string find, string replace, string rule)
    {
        var text = Fixtures.Pathway.Replace(find.Replace("                  - ", "          - "), replace.Replace("                  - ", "          - ").Replace("\n              ", "\n      "));
        var result = PathwayLoader.Load("warn.yaml", text);
        result.HasErrors.ShouldBeFalse(string.Join(" | ", result.Diagnostics));
        result.Diagnostics.ShouldContain(d => d.Rule == rule && d.Severity == Severity.Warning);
    }

    [Fact]
    public void Given_labels_on_options_and_steps_When_loaded_Then_each_is_read_and_a_person_step_without_one_is_warned()
    {
        var definition = PathwayLoader.Load("demo.yaml", Fixtures.Pathway).Definitions.Single();
        var ernst = definition.FindField("ernst")!;
        ernst.Values.ShouldBe(["licht", "zwaar"]);
        ernst.LabelOf("zwaar").ShouldBe("Zwaar");
        definition.FindField("onderdelen")!.LabelOf("fysio").ShouldBe("fysio"); // a list of names: the name is the label
        definition.Main.FindState("Licht")!.Transitions.Single().Label.ShouldBe("Afgesloten");

        var unlabelled = PathwayLoader.Load("u.yaml", Fixtures.Pathway.Replace("afsluiten: { label: Afgesloten, roles: [poh, huisarts]", "afsluiten: { roles: [poh, huisarts]"));
        var warning = unlabelled.Diagnostics.Single();
        (warning.Severity, warning.Rule, warning.Location.Line).ShouldBe((Severity.Warning, "no-label", 60));

        var badLabel = PathwayLoader.Load("b.yaml", Fixtures.Pathway.Replace("values: { licht: Licht, zwaar: Zwaar }", "values: { licht: Licht, zwaar: [Zwaar] }"));
        badLabel.Errors.ShouldContain(e => e.Rule == "wrong-kind" && e.Message.Contains("value 'zwaar'"));
    }
}
