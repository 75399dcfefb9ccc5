using System.Text;
using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Scenarios;

namespace KbPathways.Domain.Tests;

/// <summary>
/// Issue 23: random pathways built from the language's constructs (counters and resets, guards on counters, tracks and
/// recorded data, templates, assign, enters, opensAfter, calendar deadlines, start data, editions), some right and some
/// wrong, either load or fail with errors located in their text, never crash; random scenarios over the ones that load
/// pass or fail naming the step and its line, never crash.
/// </summary>
public class ConstructFuzzTests
{
    private static string Pick(Random r, params string[] options) => options[r.Next(options.Length)];

    /// <summary>Mostly the first (right) option, now and then one of the others (a mistake).</summary>
    private static string Mostly(Random r, params string[] options) => r.Next(8) == 0 ? options[r.Next(options.Length)] : options[0];

    private static string Pathway(Random r)
    {
        var states = Enumerable.Range(0, r.Next(2, 5)).Select(i => $"S{i}").ToList();
        var anyState = r.Next(10) == 0 ? "S9" : "Klaar";
        string Guard() => r.Next(8) == 0 ? Pick(r, "{ track: t, in: [Zz] }", "{ field: f1, gt: veel }", "{ counter: cX, gt: 1 }")
            : Pick(r, "{ counter: c1, gte: 2 }", "{ counter: c1, lt: { counter: c2 } }", "{ track: t, in: [A] }", "{ recorded: f1, gte: 1 }",
                "{ setting: s1, eq: ja }", "{ recorded: f3, eq: true }");
        string Step(int i, string from)
        {
            var keys = new List<string> { $"label: Stap {i}" };
            keys.Add($"roles: {Mostly(r, "[poh]", "[poh, arts]")}");
            if (r.Next(3) > 0) keys.Add($"to: {(r.Next(10) == 0 ? "Klar" : Pick(r, [.. states, "Klaar"]))}");
            if (r.Next(3) == 0) keys.Add($"requires: [{Mostly(r, Pick(r, "f1", "f2", "f3"), "fX")}]");
            if (r.Next(3) == 0) keys.Add($"optional: [{Pick(r, "f1", "f3")}]");
            if (r.Next(3) == 0) keys.Add($"increments: [{Pick(r, "c1", "c2")}]");
            if (r.Next(4) == 0) keys.Add($"resets: [{Mostly(r, Pick(r, "c1", "c2"), "cY")}]");
            if (r.Next(4) == 0) keys.Add($"assign: {Mostly(r, Pick(r, "self", "release"), "ik")}");
            if (r.Next(5) == 0) keys.Add($"enters: {{ track: {Mostly(r, "t", "u")}, state: {Mostly(r, "B", "C")} }}");
            if (r.Next(3) == 0) keys.Add($"when: {Guard()}");
            if (r.Next(5) == 0) keys.Add($"uses: {Mostly(r, "tpl", "tpk")}");
            return $"      t{from}x{i}: {{ {string.Join(", ", keys)} }}";
        }
        var text = new StringBuilder();
        text.AppendLine("id: fuzz").AppendLine("version: 1").AppendLine("title: Fuzz");
        if (r.Next(2) == 0) text.AppendLine("language: 2");
        if (r.Next(6) > 0) text.AppendLine("calendar:\n  timeZone: " + Mostly(r, "Europe/Amsterdam", "Mars/Olympus") + "\n  holidays: [2026-12-25]");
        if (r.Next(4) == 0) text.AppendLine($"start:\n  requires: [{Mostly(r, "f2", "fZ")}]");
        text.AppendLine("roles:\n  poh: POH\nsettings:\n  s1: " + Pick(r, "ja", "nee"));
        text.AppendLine("counters:\n  c1: Een\n  c2: Twee");
        text.AppendLine("fields:\n  f1: { type: integer, min: 0, max: 9, label: Een }\n  f2: { type: text, label: Twee }\n  f3: { type: boolean, label: Drie }");
        text.AppendLine("steps:\n  tpl: { label: Sjabloon, roles: [poh], increments: [c1] }");
        text.AppendLine("states:");
        foreach (var (state, index) in states.Select((s, i) => (s, i)))
        {
            text.AppendLine($"  {state}:");
            if (index == 0) text.AppendLine("    initial: true");
            text.AppendLine("    waits: false");
            if (r.Next(3) == 0) text.AppendLine($"    resets: [{Pick(r, "c1", "c2")}]");
            if (r.Next(3) == 0)
                text.AppendLine($"    deadlines:\n      d{index}: {{ after: {Mostly(r, Pick(r, "P1D", "P2W", "P0D"), "PX")}, fires: tick{index}"
                    + Mostly(r, Pick(r, "", ", at: \"09:00\"", ", workingDays: true", ", on: [ma, vr]"), ", on: [maandag]") + Pick(r, "", ", repeat: true") + $" }}");
            text.AppendLine("    on:");
            if (text.ToString().Contains($"fires: tick{index}")) text.AppendLine($"      tick{index}: {{ label: Tik, roles: [] }}");
            // Every state reaches the next (so most pathways can load), then random steps.
            text.AppendLine($"      verder{index}: {{ label: Verder, roles: [poh], to: {(index + 1 < states.Count ? states[index + 1] : "Klaar")} }}");
            for (var i = 0; i < r.Next(0, 3); i++) text.AppendLine(Step(i, state));
        }
        text.AppendLine("  Klaar: { final: true }");
        text.AppendLine($"anyState:\n  on:\n    stoppen: {{ label: Gestopt, roles: [poh], to: {anyState} }}");
        text.AppendLine("tracks:\n  t:\n    label: Spoor" + (r.Next(3) == 0 ? $"\n    opensAfter: {Mostly(r, "S1", "S7")}" : ""));
        text.AppendLine("    states:\n      A: { initial: true, waits: false, on: { naarB: { label: Naar B, roles: [poh], to: B } } }");
        text.AppendLine("      B: { waits: false, on: { naarA: { label: Naar A, roles: [poh], to: A } } }");
        return text.ToString();
    }

    private static string Scenario(Random r, Pathways.Model.PathwayDefinition d)
    {
        var triggers = d.Tracks.SelectMany(t => t.States.SelectMany(s => s.Transitions).Concat(t.AnyState)).Select(t => t.Trigger).Distinct().ToArray();
        var text = new StringBuilder("pathway: fuzz\nscenarios:\n  - name: Willekeurig\n    start: { role: poh, data: { f2: \"x\" } }\n    steps:\n");
        for (var i = 0; i < r.Next(1, 8); i++)
        {
            if (r.Next(6) == 0) { text.AppendLine($"      - {{ wait: {Pick(r, "P1D", "P1W", "P1M")} }}"); continue; }
            var data = Pick(r, "{}", "{ f1: 3 }", "{ f1: 12 }", "{ f3: true }", "{ f2: \"x\", f1: 1 }", "{ fX: 1 }");
            var expect = Pick(r, "", ", expect: { state: S0 }", ", expect: { rejected: guard-failed }", ", expect: { counters: { c1: 1 } }", ", expect: { tracks: { t: B } }");
            text.AppendLine($"      - {{ fire: {(r.Next(8) == 0 ? "bestaatNiet" : triggers[r.Next(triggers.Length)])}, role: {Pick(r, "poh", "poh", "arts")}, data: {data}{expect} }}");
        }
        return text.ToString();
    }

    [Fact]
    public void Given_random_pathways_from_the_constructs_Then_they_load_or_fail_located_and_their_scenarios_run_or_fail_with_the_step()
    {
        var (loaded, refused, scenarios) = (0, 0, 0);
        for (var seed = 0; seed < 400; seed++)
        {
            var random = new Random(seed);
            var text = Pathway(random);
            var lines = text.Split('\n').Length;
            var result = Should.NotThrow(() => PathwayLoader.Load("fuzz.yaml", text), $"seed {seed}\n{text}");
            foreach (var d in result.Diagnostics)
            {
                d.Location.File.ShouldBe("fuzz.yaml", $"seed {seed}: {d}");
                d.Location.Line.ShouldBeInRange(1, lines, $"seed {seed}: {d}");
            }
            if (result.Definitions.SingleOrDefault() is not { } definition) { refused++; continue; }
            loaded++;
            var scenarioText = Scenario(random, definition);
            var diagnostics = new DiagnosticBag();
            var file = ScenarioReader.Read("fuzz.scenarios.yaml", scenarioText, diagnostics);
            if (file is null) continue;
            Should.NotThrow(() => ScenarioValidator.Validate(file, result.Definitions, diagnostics), $"seed {seed}");
            var results = Should.NotThrow(() => ScenarioRunner.Run(file, result.Definitions).ToList(), $"seed {seed}\n{text}\n{scenarioText}");
            foreach (var failure in results.Where(x => !x.Passed).Select(x => x.Failure!))
                failure.ShouldMatch(@"^(step \d+ \(line \d+|not run: )", $"seed {seed}");
            scenarios++;
        }
        loaded.ShouldBeGreaterThan(20, string.Join(" | ", PathwayLoader.Load("fuzz.yaml", Pathway(new Random(1))).Errors.Take(8)));      // both sides were exercised
        refused.ShouldBeGreaterThan(20);
        scenarios.ShouldBeGreaterThan(20);
    }
}
