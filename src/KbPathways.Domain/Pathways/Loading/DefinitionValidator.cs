using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Pathways.Loading;

/// <summary>Cross-reference rules over a bound definition: states, triggers, roles, fields, deadlines and reachability.</summary>
internal static class DefinitionValidator
{

    public static void Validate(PathwayDefinition d, DiagnosticBag diagnostics)
    {
        var v = new Checker(d, diagnostics);
        foreach (var track in d.Tracks) v.CheckTrack(track);
        v.CheckUniqueness();
        v.CheckTracksTogether();
        v.CheckScopes();
    }

    private sealed class Checker(PathwayDefinition d, DiagnosticBag diagnostics)
    {
        public void CheckTrack(TrackDefinition track)
        {
            var initials = track.States.Where(s => s.Initial).ToList();
            if (initials.Count != 1)
                diagnostics.Error(initials.Count > 1 ? initials[1].Location : track.Location, "initial-state",
                    $"track '{track.Name}' must have exactly one initial state; it has {initials.Count}");
            if (track.Name == PathwayDefinition.MainTrack && track.States.Count > 0 && !track.States.Any(s => s.Final))
                diagnostics.Error(track.Location, "no-final-state", "the pathway has no final state, so no trajectory can end");

            foreach (var state in track.States) CheckState(track, state);
            foreach (var t in track.AnyState) CheckTransition(track, null, t);
            if (initials.Count == 1) CheckReachability(track, initials[0]);
        }

        private void CheckState(TrackDefinition track, StateDefinition state)
        {
            if (state.Owner is not null) Role(state.Owner, state.Location, $"owner of state '{state.Name}'");
            if (state.Final && state.Transitions.Count > 0)
                diagnostics.Error(state.Transitions[0].Location, "final-with-exit", $"final state '{state.Name}' cannot have transitions");
            if (state.Final && state.Deadlines.Count > 0)
                diagnostics.Error(state.Deadlines[0].Location, "final-with-deadline", $"final state '{state.Name}' cannot have deadlines");
            if (!state.Final && !track.TransitionsFrom(state).Any(t => t.Targets.Any(o => o.State != state.Name)))
                diagnostics.Error(state.Location, "dead-end", $"state '{state.Name}' is not final and has no transition to another state");
            if (!state.Final && state.Waits && state.Deadlines.Count == 0)
                diagnostics.Warning(state.Location, "no-deadline",
                    $"state '{state.Name}' has no deadline: a patient can wait here unnoticed (add one, or 'waits: false')");

            var triggers = track.TransitionsFrom(state).Select(t => t.Trigger).ToHashSet();
            foreach (var deadline in state.Deadlines.Where(x => !triggers.Contains(x.Fires)))
                diagnostics.Error(deadline.Location, "unknown-trigger",
                    $"deadline '{deadline.Name}' fires '{deadline.Fires}', which state '{state.Name}' has no transition for{Scenarios.ScenarioRunner.Suggest(deadline.Fires, triggers)}");
            foreach (var deadline in state.Deadlines)
                if (track.TransitionsFrom(state).FirstOrDefault(t => t.Trigger == deadline.Fires) is { Requires.Count: > 0 } needsData)
                    diagnostics.Error(deadline.Location, "deadline-needs-data",
                        $"deadline '{deadline.Name}' fires '{needsData.Trigger}', which requires data a timer cannot give");
            foreach (var deadline in state.Deadlines.Where(x => x.UsesCalendar && d.Calendar is null))
                diagnostics.Error(deadline.Location, "calendar-needed",
                    $"deadline '{deadline.Name}' falls due at a time of day, on working days or on weekdays: give the pathway a 'calendar' with its timeZone");
            foreach (var dup in state.Deadlines.GroupBy(x => x.Name).Where(g => g.Count() > 1))
                diagnostics.Error(dup.Last().Location, "duplicate-id", $"deadline '{dup.Key}' is declared twice in '{state.Name}'");
            foreach (var t in state.Transitions) CheckTransition(track, state, t);
        }

        private void CheckTransition(TrackDefinition track, StateDefinition? state, TransitionDefinition t)
        {
            var where = $"transition '{t.Trigger}'";
            foreach (var target in t.Targets.Where(o => track.States.All(s => s.Name != o.State)))
                diagnostics.Error(target.Location, "unknown-state", d.FindState(target.State) is null
                    ? $"{where} goes to '{target.State}', which is not a state{Scenarios.ScenarioRunner.Suggest(target.State, track.States.Select(s => s.Name))}"
                    : $"{where} goes to '{target.State}', which belongs to another track");
            for (var i = 0; i < t.Targets.Count - 1; i++)
                if (t.Targets[i].When is null && !t.Targets[i].WhenWritten)
                    diagnostics.Warning(t.Targets[i + 1].Location, "unreachable-target",
                        $"in {where}, this target can never be chosen: an earlier target has no 'when'");
            if (t.Roles is not { Count: 0 } && t.Label == t.Trigger)
                diagnostics.Warning(t.Location, "no-label", $"{where} is taken by a person but has no 'label:' (the Dutch words a POH sees on its button)");
            if (t.Roles is null)
                diagnostics.Warning(t.Location, "no-role", $"{where} names no roles, so every role of the pathway may fire it");
            foreach (var role in t.Roles ?? []) Role(role, t.Location, where);
            if (t.Roles is { Count: 0 } && !track.States.Any(s => s.Deadlines.Any(x => x.Fires == t.Trigger)))
                diagnostics.Warning(t.Location, "never-fired", $"{where} has 'roles: []' (deadline only) but no deadline fires it");

            foreach (var name in t.Requires.Concat(t.Optional).Concat(t.Warnings.SelectMany(w => w.Requires)))
                if (d.FindField(name) is null && d.FindInstrument(name) is null)
                    diagnostics.Error(t.Location, "unknown-field", $"{where} asks for '{name}', which is not a declared field or instrument"
                        + Scenarios.ScenarioRunner.Suggest(name, d.Fields.Select(f => f.Name).Concat(d.Instruments.Select(i => i.Name))));
            foreach (var both in t.Requires.Intersect(t.Optional))
                diagnostics.Error(t.Location, "duplicate-id", $"{where} lists '{both}' as both required and optional");
            if (t.KbMark == KbMarkAction.Place && !t.Requires.Contains(TransitionDefinition.KbCodeField))
                diagnostics.Error(t.Location, "kb-mark-code", $"{where} places the KB mark, so it must require '{TransitionDefinition.KbCodeField}' (the practice's code for the KB-ruiter)");
            if (t.Assign != AssignAction.None && t.Roles is { Count: 0 })
                diagnostics.Error(t.Location, "assign-deadline", $"{where} assigns the work to the person taking it, but only a deadline takes it (give it roles)");
            if (t.KbMark != KbMarkAction.None && t.Roles is { Count: 0 })
                diagnostics.Error(t.Location, "kb-mark-deadline", $"{where} changes the KB mark, which only a person may do (give it roles)");
            foreach (var counter in t.Increments.Where(c => d.Counters.All(x => x.Name != c)))
                diagnostics.Error(t.Location, "unknown-counter", $"{where} increments '{counter}', which is not declared under 'counters'");
            var deadlines = state?.Deadlines ?? track.States.SelectMany(s => s.Deadlines);
            foreach (var name in t.RestartsDeadlines.Where(n => deadlines.All(x => x.Name != n)))
                diagnostics.Error(t.Location, "unknown-deadline", $"{where} restarts deadline '{name}', which {(state is null ? "no state" : $"state '{state.Name}'")} declares");
        }

        private void CheckReachability(TrackDefinition track, StateDefinition initial)
        {
            var seen = new HashSet<string> { initial.Name };
            var queue = new Queue<StateDefinition>([initial]);
            while (queue.TryDequeue(out var state))
                foreach (var target in track.TransitionsFrom(state).SelectMany(t => t.Targets))
                    if (track.FindState(target.State) is { } next && seen.Add(next.Name))
                        queue.Enqueue(next);
            foreach (var state in track.States.Where(s => !seen.Contains(s.Name)))
                diagnostics.Error(state.Location, "unreachable-state", $"state '{state.Name}' cannot be reached from '{initial.Name}'");
        }

        /// <summary>What tracks say of each other: guards on a track's state, steps that enter another track, opensAfter.</summary>
        public void CheckTracksTogether()
        {
            foreach (var track in d.Tracks)
            {
                if (track.OpensAfter is { } after && d.Main.FindState(after) is null)
                    diagnostics.Error(track.Location, "unknown-state", $"track '{track.Name}' opens after '{after}', which is not a state of the main track"
                        + Scenarios.ScenarioRunner.Suggest(after, d.Main.States.Select(s => s.Name)));
                foreach (var t in track.States.SelectMany(s => s.Transitions).Concat(track.AnyState))
                {
                    if (t.Enters is { } e)
                    {
                        var other = d.Tracks.FirstOrDefault(x => x.Name == e.Track);
                        if (other is null || other == track)
                            diagnostics.Error(e.At, "unknown-track", other is null
                                ? $"transition '{t.Trigger}' enters track '{e.Track}', which is not a track{Scenarios.ScenarioRunner.Suggest(e.Track, d.Tracks.Select(x => x.Name))}"
                                : $"transition '{t.Trigger}' enters its own track: use 'to'");
                        else if (other.FindState(e.State) is null)
                            diagnostics.Error(e.At, "unknown-state", $"transition '{t.Trigger}' enters '{e.State}', which is not a state of track '{e.Track}'"
                                + Scenarios.ScenarioRunner.Suggest(e.State, other.States.Select(s => s.Name)));
                    }
                    foreach (var guard in Guards(t))
                        foreach (var compare in Compares(guard).Where(c => c.Subject.Kind == OperandKind.Track))
                        {
                            var target = d.Tracks.FirstOrDefault(x => x.Name == compare.Subject.Path);
                            if (target is null)
                                diagnostics.Error(compare.Location, "unknown-track", $"guard refers to track '{compare.Subject.Path}', which is not a track"
                                    + Scenarios.ScenarioRunner.Suggest(compare.Subject.Path, d.Tracks.Select(x => x.Name)));
                            else foreach (var state in compare.Values.OfType<string>().Where(v => target.FindState(v) is null))
                                diagnostics.Error(compare.Location, "unknown-state", $"guard compares track '{target.Name}' with '{state}', which is not one of its states"
                                    + Scenarios.ScenarioRunner.Suggest(state, target.States.Select(s => s.Name)));
                        }
                }
            }

        }

        /// <summary>
        /// A guard that reads a field its step neither requires nor accepts reads what an earlier step recorded: in
        /// language 1 that is silent today, so it is a warning; in language 2 it must be written <c>recorded:</c>.
        /// </summary>
        public void CheckScopes()
        {
            foreach (var track in d.Tracks)
            foreach (var t in track.States.SelectMany(s => s.Transitions).Concat(track.AnyState))
            foreach (var guard in Guards(t))
            foreach (var compare in Compares(guard).Where(c => c.Subject.Kind == OperandKind.Field && c.Subject.Scope != FieldScope.Recorded
                         && !t.Accepted.Contains(c.Subject.Root)))
            {
                if (d.Language >= 2)
                    diagnostics.Error(compare.Location, "guard-scope", $"transition '{t.Trigger}' compares '{compare.Subject.Path}', which the step does not take; "
                        + $"to read what was recorded before, write {{ recorded: {compare.Subject.Path} }}");
                else
                    diagnostics.Warning(compare.Location, "guard-reads-earlier", $"transition '{t.Trigger}' compares '{compare.Subject.Path}', which the step neither requires "
                        + $"nor accepts: it reads what an earlier step recorded; say so with 'language: 2' and {{ recorded: {compare.Subject.Path} }}");
            }
        }

        /// <summary>Every guard of a step: its condition, its targets' and its warnings'.</summary>
        private static IEnumerable<Guard> Guards(TransitionDefinition t) =>
            new[] { t.When }.Concat(t.Targets.Select(o => o.When)).Concat(t.Warnings.Select(w => (Guard?)w.When)).OfType<Guard>();

        private static IEnumerable<Guard.Compare> Compares(Guard g) => g switch
        {
            Guard.All a => a.Parts.SelectMany(Compares),
            Guard.Any a => a.Parts.SelectMany(Compares),
            Guard.Not n => Compares(n.Inner),
            Guard.Compare c => [c],
            _ => [],
        };

        public void CheckUniqueness()
        {
            foreach (var dup in d.AllStates.GroupBy(s => s.Name).Where(g => g.Count() > 1))
                diagnostics.Error(dup.Last().Location, "duplicate-id", $"state '{dup.Key}' is declared in more than one track");
            var triggerTracks = d.Tracks
                .SelectMany(t => t.States.SelectMany(s => s.Transitions).Concat(t.AnyState).Select(x => (Track: t.Name, x.Trigger, x.Location)))
                .GroupBy(x => x.Trigger);
            foreach (var g in triggerTracks.Where(g => g.Select(x => x.Track).Distinct().Count() > 1))
                diagnostics.Error(g.Last().Location, "duplicate-id",
                    $"trigger '{g.Key}' is used in tracks {string.Join(" and ", g.Select(x => x.Track).Distinct())}; a trigger belongs to one track");
        }

        private void Role(string role, SourceLocation at, string where)
        {
            if (d.FindRole(role) is null)
                diagnostics.Error(at, "unknown-role", $"{where} names role '{role}', which is not declared under 'roles'"
                    + Scenarios.ScenarioRunner.Suggest(role, d.Roles.Select(r => r.Name)));
        }
    }
}
