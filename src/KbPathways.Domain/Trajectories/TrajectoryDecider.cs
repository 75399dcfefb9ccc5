using System.Runtime.CompilerServices;
using System.Collections.Immutable;
using System.Text.Json;
using KbPathways.Domain.Pathways.Engine;
using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Trajectories;

/// <summary>
/// Decide: command + current state + definition + now → events, or a <see cref="PathwayRuleException"/> and nothing.
/// Pure: ids and time arrive as arguments.
/// </summary>
public static class TrajectoryDecider
{
    public static IReadOnlyList<object> Start(StartTrajectory cmd, PathwayDefinition definition, DateTimeOffset now)
    {
        if (!cmd.Caller.Roles.Any(r => definition.FindRole(r) is not null))
            throw new PathwayRuleException(RejectionKind.Forbidden,
                $"none of your roles may start '{definition.Id}'; its roles are: {string.Join(", ", definition.Roles.Select(r => r.Name))}");
        var errors = new List<FieldError>();
        var scores = StepData.Check(definition, cmd.Data, allowed: null, required: definition.StartRequires, errors);
        if (errors.Count > 0 || scores.Count > 0)
            throw new PathwayRuleException(RejectionKind.InvalidData, "the start data is not valid",
                scores.Count > 0 ? [.. errors, new FieldError(scores.Keys.First(), "instruments are recorded in a step, not at the start")] : errors);

        var actor = new Actor(cmd.Caller.UserId, definition.Roles.First(r => cmd.Caller.Roles.Contains(r.Name)).Name);
        var tracks = definition.Tracks.ToDictionary(t => t.Name, t => t.Initial.Name);
        var events = new List<object>
        {
            new TrajectoryStarted(cmd.TrajectoryId, cmd.PatientId, cmd.Practice, definition.Id, definition.Version,
                definition.Hash, tracks, cmd.Data, actor, now),
        };
        foreach (var track in definition.Tracks) events.AddRange(Arm(cmd.TrajectoryId, track.Initial, track.Initial.Deadlines, now, definition.Calendar));
        return events;
    }

    /// <param name="explained">
    /// Whether the step's event carries the traces that explain it (<see cref="StepTaken.Decision"/>): always for a
    /// step that is stored; a simulation that keeps only states and warnings (<see cref="Replay.WhatIf"/>) skips them.
    /// </param>
    public static IReadOnlyList<object> Fire(FireTrigger cmd, Trajectory state, PathwayDefinition definition, DateTimeOffset now,
        bool explained = true)
    {
        if (cmd.ExpectedVersion is { } expected && expected != state.Version)
            throw new PathwayRuleException(RejectionKind.VersionConflict,
                $"the trajectory is at version {state.Version}, not {expected}: reload it and try again",
                permittedTriggers: PermittedTriggers(state, definition, cmd.Caller.Roles));
        var (track, transition) = Locate(state, definition, cmd.Trigger);
        if (transition is null)
            throw new PathwayRuleException(RejectionKind.NotPermitted,
                state.Completed ? "the trajectory is completed" : $"'{cmd.Trigger}' is not possible in state '{state.Tracks[track?.Name ?? PathwayDefinition.MainTrack]}'",
                permittedTriggers: PermittedTriggers(state, definition, cmd.Caller.Roles));
        if (Closed(state, track!))
            throw new PathwayRuleException(RejectionKind.NotPermitted,
                $"'{cmd.Trigger}' opens once the trajectory has been in '{track!.OpensAfter}'", permittedTriggers: PermittedTriggers(state, definition, cmd.Caller.Roles));
        var role = RoleFor(transition, definition, cmd.Caller.Roles) ?? throw new PathwayRuleException(RejectionKind.Forbidden,
            transition.Roles is { Count: 0 } ? $"'{cmd.Trigger}' is fired by its deadline only"
                : $"your role may not fire '{cmd.Trigger}'; allowed: {string.Join(", ", transition.Roles ?? definition.Roles.Select(r => r.Name))}");

        var errors = new List<FieldError>();
        var scores = StepData.Check(definition, cmd.Data, transition.Accepted, transition.Requires, errors);
        if (errors.Count > 0) throw new PathwayRuleException(RejectionKind.InvalidData, $"the data for '{cmd.Trigger}' is not valid", errors);
        return Take(state, definition, track!, transition, new Actor(cmd.Caller.UserId, role), cmd.Data, scores, null, now, explained);
    }

    /// <inheritdoc cref="Fire" path="/param[@name='explained']"/>
    public static IReadOnlyList<object> FireDeadline(DeadlineDue due, Trajectory state, PathwayDefinition definition, DateTimeOffset now,
        bool explained = true)
    {
        var armed = state.Deadlines.FirstOrDefault(d => d.Name == due.Name && d.Track == due.Track && d.DueAt == due.DueAt);
        if (state.Completed || armed is null || now < armed.DueAt) return [];
        var (track, transition) = Locate(state, definition, armed.Trigger);
        if (track is null || transition is null) return [];
        try
        {
            return Take(state, definition, track, transition, Actor.System, ImmutableDictionary<string, JsonElement>.Empty, ImmutableDictionary<string, InstrumentScore>.Empty, armed, now,
                explained);
        }
        catch (PathwayRuleException)
        {
            return []; // the step's guard does not hold: the deadline stays visible as overdue
        }
    }

    /// <summary>The triggers the given roles may fire now, across all tracks, in the order the pathway declares them.</summary>
    public static IReadOnlyList<string> PermittedTriggers(Trajectory state, PathwayDefinition definition, IReadOnlySet<string> roles)
    {
        if (state.Completed) return [];
        return definition.Tracks.SelectMany(track =>
        {
            if (Closed(state, track)) return [];
            var open = new GuardContext(state.Data, state.Scores, state.Counters, GuardContext.NothingPending, state.Tracks);
            using var machine = new PathwayMachine(track, state.Tracks[track.Name], t => RoleFor(t, definition, roles) is not null,
                t => new GuardEvaluator(open with { Pending = t.Accepted }, traced: false));
            return machine.PermittedTriggers;
        }).Distinct().ToList();
    }

    private static readonly ConditionalWeakTable<PathwayDefinition, StrongBox<bool>> HasDecisions = new();

    /// <summary>A track with <c>opensAfter</c> stays in its initial state until the main track has been in that state.</summary>
    private static bool Closed(Trajectory state, TrackDefinition track) =>
        track.OpensAfter is { } after && state.Tracks[track.Name] == track.Initial.Name && state.Facts.States.All(v => v.State != after);

    /// <summary>The step's own resets and, when it enters (or re-enters) a state, that state's; null when none.</summary>
    private static IReadOnlyList<string>? Resets(TransitionDefinition transition, StateDefinition? entered) =>
        transition.Resets.Count == 0 && entered is not { Resets.Count: > 0 } ? null : [.. transition.Resets.Concat(entered?.Resets ?? []).Distinct()];

    /// <summary>The decisions in the step's (checked) data, or null when it records none.</summary>
    private static IReadOnlyList<DecisionDue>? DecisionsIn(PathwayDefinition definition, IReadOnlyDictionary<string, JsonElement> data)
    {
        if (!HasDecisions.GetValue(definition, d => new StrongBox<bool>(d.Fields.Any(f => f.Type == FieldType.Decisions))).Value) return null;
        List<DecisionDue>? decisions = null;
        foreach (var (name, value) in data)
            if (value.ValueKind == JsonValueKind.Array && definition.FindField(name) is { Type: FieldType.Decisions })
                (decisions ??= []).AddRange(DataValues.Decisions(value).Select(d => new DecisionDue(name, d.Number, d.Owner, d.Due)));
        return decisions;
    }

    private static IReadOnlyList<object> Take(Trajectory state, PathwayDefinition definition, TrackDefinition track,
        TransitionDefinition transition, Actor actor, IReadOnlyDictionary<string, JsonElement> data,
        IReadOnlyDictionary<string, InstrumentScore> scores, ScheduledDeadline? deadline, DateTimeOffset now, bool explained)
    {
        var context = new GuardContext(Layered<JsonElement>.Over(data, state.Data), Layered<InstrumentScore>.Over(scores, state.Scores),
            state.Counters, GuardContext.NothingPending, state.Tracks, data);
        var from = state.Tracks[track.Name];
        var decide = new GuardEvaluator(context, traced: false);
        string? to;
        using (var machine = new PathwayMachine(track, from, _ => true, _ => decide))
            to = machine.TryFire(transition.Trigger);
        if (to is null)
            throw new PathwayRuleException(RejectionKind.GuardFailed,
                transition.WhenMessage ?? $"'{transition.Trigger}' needs: {Explain(transition)}",
                [new FieldError(transition.Trigger, transition.WhenMessage ?? Explain(transition))]);

        // The explanation: the comparisons that decided the step, then those of its warnings, in the order the pathway reads.
        var explain = explained ? new GuardEvaluator(context) : decide;
        if (explained) Explain(transition, explain);
        List<WarningRule>? raised = null;
        foreach (var warning in transition.Warnings)
            if (explain.Holds(warning.When)) (raised ??= []).Add(warning);
        if (raised?.SelectMany(w => w.Requires.Where(f => !data.ContainsKey(f)).Select(f => new FieldError(f, $"is required: {w.Message}"))).ToList()
            is { Count: > 0 } missing)
            throw new PathwayRuleException(RejectionKind.InvalidData, raised[0].Message, missing);

        var kind = transition.IsInternal ? StepKind.Internal : to == from ? StepKind.Reentry : StepKind.Transition;
        var events = new List<object>
        {
            new StepTaken(state.Id, transition.Trigger, track.Name, from, to, kind, actor, data, scores, explain.Traces,
                raised is null ? [] : [.. raised.Select(w => new RaisedWarning(w.Code, w.Message))], transition.Increments, deadline?.Name,
                definition.Version, definition.Hash, now, transition.Indicators, DecisionsIn(definition, data),
                definition.YearlyReview is { } review && data.TryGetValue(review.Per, out var group) && group.ValueKind == JsonValueKind.String ? group.GetString() : null,
                definition.CareStatus is { } care && care.InBeeldRecorded.Any(data.ContainsKey) ? [.. care.InBeeldRecorded.Where(data.ContainsKey)] : null,
                Resets(transition, kind == StepKind.Internal ? null : track.FindState(to)),
                transition.Assign switch { AssignAction.Self => actor.UserId, AssignAction.Release => "", _ => null }),
        };
        var target = track.FindState(to)!;
        if (kind != StepKind.Internal) events.AddRange(Arm(state.Id, target, target.Deadlines, now, definition.Calendar));
        // A step that also moves another track (enters: { track, state }): that track's step and its deadlines.
        if (transition.Enters is { } enters && definition.Tracks.FirstOrDefault(t => t.Name == enters.Track) is { } other && other.FindState(enters.State) is { } entered)
        {
            var was = state.Tracks[other.Name];
            events.Add(new StepTaken(state.Id, transition.Trigger, other.Name, was, entered.Name, was == entered.Name ? StepKind.Reentry : StepKind.Transition, actor,
                ImmutableDictionary<string, JsonElement>.Empty, ImmutableDictionary<string, InstrumentScore>.Empty, [], [], [], null,
                definition.Version, definition.Hash, now));
            events.AddRange(Arm(state.Id, entered, entered.Deadlines, now, definition.Calendar));
        }
        else
        {
            var restart = target.Deadlines.Where(d => transition.RestartsDeadlines.Contains(d.Name)).ToList();
            events.AddRange(Arm(state.Id, target, restart, now, definition.Calendar));
            if (deadline is not null && target.Deadlines.FirstOrDefault(d => d.Name == deadline.Name) is { Repeat: true } again && !restart.Contains(again))
                // The next one counts from the moment the last was due, not from now: a missed moment does not shift the rest.
                events.Add(new DeadlineScheduled(state.Id, again.Name, track.Name, to, again.Fires, DeadlineCalendar.Due(again, definition.Calendar, deadline.DueAt), now));
        }
        if (target.Final && track.Name == PathwayDefinition.MainTrack)
            events.Add(new TrajectoryCompleted(state.Id, to, target.Outcome, now));
        return events;
    }

    /// <summary>Evaluates the comparisons that decided the step once, in the order the pathway reads, for their traces.</summary>
    private static void Explain(TransitionDefinition t, GuardEvaluator explain)
    {
        if (t.When is not null) explain.Evaluate(t.When);
        foreach (var option in t.Targets)
            if (option.When is null || explain.Evaluate(option.When) == true) break;
    }

    private static IEnumerable<object> Arm(Guid id, StateDefinition state, IEnumerable<DeadlineDefinition> deadlines, DateTimeOffset now, CalendarRule? calendar) =>
        deadlines.Select(d => new DeadlineScheduled(id, d.Name, state.Track, state.Name, d.Fires, DeadlineCalendar.Due(d, calendar, now), now));

    private static (TrackDefinition? Track, TransitionDefinition? Transition) Locate(Trajectory state, PathwayDefinition definition, string trigger)
    {
        var track = definition.TrackOf(trigger);
        if (track is null || state.Completed) return (track, null);
        var current = track.FindState(state.Tracks[track.Name]);
        return (track, current is null ? null : track.TransitionFrom(current, trigger));
    }

    /// <summary>The first role, in the pathway's order, that the transition admits and the caller holds.</summary>
    private static string? RoleFor(TransitionDefinition t, PathwayDefinition definition, IReadOnlySet<string> roles)
    {
        if (t.Roles is { } admitted)
        {
            foreach (var role in admitted)
                if (roles.Contains(role)) return role;
            return null;
        }
        foreach (var role in definition.Roles)
            if (roles.Contains(role.Name)) return role.Name;
        return null;
    }

    private static string Explain(TransitionDefinition t) =>
        t.When is not null ? GuardText.Render(t.When)
            : string.Join(" or ", t.Targets.Select(o => o.When is null ? o.State : $"{GuardText.Render(o.When)} (→ {o.State})"));
}
