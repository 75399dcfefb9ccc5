using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Scenarios;

/// <summary>
/// Checks a scenario file against the pathway it names (issue 23 item 12), so <c>pathways validate</c> finds a mistake
/// before anything runs: the pathway and practice, and per step every trigger, role, state, track, deadline, counter,
/// warning and field it names. A step that expects that very rejection (<c>rejected: unknown-trigger</c>, …) is left alone.
/// </summary>
public static class ScenarioValidator
{
    public static void Validate(ScenarioFile file, IReadOnlyList<PathwayDefinition> definitions, DiagnosticBag diagnostics)
    {
        var definition = definitions.FirstOrDefault(d => d.Id == file.Pathway && d.Practice == file.Practice);
        if (definition is null)
        {
            diagnostics.Error(new SourceLocation(file.File, 1, 1), "unknown-pathway",
                $"the scenarios are for pathway '{file.Pathway}'{(file.Practice is null ? "" : $" of practice '{file.Practice}'")}, which is not loaded"
                + ScenarioRunner.Suggest(file.Pathway, definitions.Select(d => d.Id)));
            return;
        }
        var triggers = definition.Tracks.SelectMany(t => t.States.SelectMany(s => s.Transitions).Concat(t.AnyState)).Select(t => t.Trigger).ToHashSet();
        var states = definition.AllStates.Select(s => s.Name).ToHashSet();
        var roles = definition.Roles.Select(r => r.Name).ToHashSet();
        var deadlines = definition.AllStates.SelectMany(s => s.Deadlines).Select(d => d.Name).ToHashSet();
        var warnings = definition.Tracks.SelectMany(t => t.States.SelectMany(s => s.Transitions).Concat(t.AnyState)).SelectMany(t => t.Warnings).Select(w => w.Code).ToHashSet();
        bool Data(string name) => definition.FindField(name) is not null || definition.FindInstrument(name) is not null;

        foreach (var scenario in file.Scenarios)
        {
            Check(scenario.Location, "unknown-role", scenario.StartRole, roles, "role");
            foreach (var name in scenario.StartData.Keys.Where(n => !Data(n)))
                diagnostics.Error(scenario.Location, "unknown-field", $"the start data names '{name}', which is not a field of '{definition.Id}'");
            foreach (var step in scenario.Steps)
            {
                var expect = step.Expect;
                if (step.Fire is { } trigger && expect.Rejected != "unknown-trigger") Check(step.Location, "unknown-trigger", trigger, triggers, "step");
                if (step.Role is { } role && expect.Rejected != "unknown-role") Check(step.Location, "unknown-role", role, roles, "role");
                if (expect.Rejected != "invalid-data")
                    foreach (var name in step.Data.Keys.Where(n => !Data(n)))
                        diagnostics.Error(step.Location, "unknown-field", $"the step gives '{name}', which is not a field or instrument of '{definition.Id}'"
                            + ScenarioRunner.Suggest(name, definition.Fields.Select(f => f.Name).Concat(definition.Instruments.Select(i => i.Name))));
                if (expect.State is { } state) Check(step.Location, "unknown-state", state, states, "state");
                foreach (var (track, trackState) in expect.Tracks)
                {
                    if (definition.Tracks.All(t => t.Name != track))
                        diagnostics.Error(step.Location, "unknown-track", $"expected track '{track}' is not a track of '{definition.Id}'"
                            + ScenarioRunner.Suggest(track, definition.Tracks.Select(t => t.Name)));
                    Check(step.Location, "unknown-state", trackState, states, "state");
                }
                foreach (var name in expect.Deadlines ?? []) Check(step.Location, "unknown-deadline", name, deadlines, "deadline");
                foreach (var name in (expect.Fired ?? []).Concat(expect.Permitted ?? [])) Check(step.Location, "unknown-trigger", name, triggers, "step");
                foreach (var name in expect.Warnings ?? []) Check(step.Location, "unknown-warning", name, warnings, "warning");
                foreach (var name in expect.Counters.Keys) Check(step.Location, "unknown-counter", name, definition.Counters.Select(c => c.Name).ToHashSet(), "counter");
                if (expect.Field is { } field && expect.Rejected != "invalid-data" && !Data(field.Split('.', '[')[0]))
                    diagnostics.Error(step.Location, "unknown-field", $"expected field '{field}' is not a field or instrument of '{definition.Id}'");
            }
        }

        void Check(SourceLocation at, string rule, string name, IReadOnlySet<string> known, string what)
        {
            if (!known.Contains(name))
                diagnostics.Error(at, rule, $"'{name}' is not a {what} of pathway '{definition.Id}'{ScenarioRunner.Suggest(name, known)}");
        }
    }
}
