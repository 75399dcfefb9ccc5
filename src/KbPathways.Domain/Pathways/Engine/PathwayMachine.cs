using System.Runtime.CompilerServices;
using KbPathways.Domain.Pathways.Model;
using Stateless;

namespace KbPathways.Domain.Pathways.Engine;

/// <summary>
/// One track of a definition as a Stateless machine, for a single decision: the state lives outside (the trajectory),
/// guards are pure functions of the given context, and no state has entry or exit actions — everything that happens
/// is returned as events by the decider, so replay never re-runs side effects.
/// A decision fires from the current state only, so a machine is configured with that state's transitions, once per
/// (track, state), and reused: configuring Stateless reflects over every guard delegate, which cost more than the
/// decision itself. Its guards read the decision they serve from <see cref="Compiled.Decision"/>; dispose the machine
/// to hand it back.
/// </summary>
public sealed class PathwayMachine : IDisposable
{
    // Per thread, so renting takes no lock; a machine in use (a decision inside a decision) is simply not shared.
    [ThreadStatic] private static ConditionalWeakTable<TrackDefinition, Dictionary<string, Compiled>>? pools;
    private readonly TrackDefinition track;
    private readonly Compiled? compiled;
    private readonly string initial;

    /// <param name="admits">Whether the caller may fire a transition (role check); pure.</param>
    /// <param name="evaluatorFor">A guard evaluator over the decision's context, per transition.</param>
    public PathwayMachine(TrackDefinition track, string current, Func<TransitionDefinition, bool> admits,
        Func<TransitionDefinition, GuardEvaluator> evaluatorFor)
    {
        this.track = track;
        initial = current;
        if (track.FindState(current) is not { } state) return;
        var pool = (pools ??= new()).GetOrCreateValue(track);
        if (pool.Remove(current, out var reused)) compiled = reused;
        else compiled = new Compiled(track, state);
        compiled.Decision = new Decision(admits, evaluatorFor);
        compiled.State = current;
    }

    /// <summary>Triggers the caller may fire now; a guard that waits on the step's own data counts as open.</summary>
    public IEnumerable<string> PermittedTriggers =>
        compiled is null ? [] : [.. track.TransitionsFrom(compiled.Definition).Select(t => t.Trigger).Where(compiled.Machine.CanFire)];

    public bool CanFire(string trigger) => compiled?.Machine.CanFire(trigger) == true;

    /// <summary>
    /// Fires <paramref name="trigger"/> and returns the state the track is in afterwards, or null when its guard does
    /// not hold (or it is not a trigger of this state). One pass over the guards: Stateless checks them as it fires.
    /// </summary>
    public string? TryFire(string trigger)
    {
        if (compiled is null) throw new InvalidOperationException($"'{initial}' is not a state of track '{track.Name}'");
        compiled.Refused = false;
        compiled.Machine.Fire(trigger);
        return compiled.Refused ? null : compiled.State;
    }

    public void Dispose()
    {
        if (compiled is null) return;
        compiled.Decision = null;
        (pools ??= new()).GetOrCreateValue(track).TryAdd(compiled.Definition.Name, compiled);
    }

    private sealed record Decision(Func<TransitionDefinition, bool> Admits, Func<TransitionDefinition, GuardEvaluator> EvaluatorFor);

    /// <summary>A Stateless machine for one state of one track, with guards over whichever decision it serves now.</summary>
    private sealed class Compiled
    {
        public readonly StateMachine<string, string> Machine;
        public readonly StateDefinition Definition;
        public Decision? Decision;
        public string State;
        public bool Refused;

        public Compiled(TrackDefinition track, StateDefinition state)
        {
            Definition = state;
            State = state.Name;
            Machine = new StateMachine<string, string>(() => State, s => State = s, FiringMode.Immediate); // no actions fire triggers: nothing to queue
            Machine.OnUnhandledTrigger((_, _, _) => Refused = true);
            var config = Machine.Configure(state.Name);
            foreach (var t in track.TransitionsFrom(state))
            {
                bool Guard() => Decision!.Admits(t) && Opens(t);
                if (t.IsInternal) config.InternalTransitionIf(t.Trigger, _ => Guard(), () => { }, t.Label);
                else config.PermitDynamicIf(t.Trigger, () => ChooseTarget(t)!.State, Guard, t.Label);
            }
        }

        /// <summary>The transition's own guard holds and at least one target is open.</summary>
        private bool Opens(TransitionDefinition t)
        {
            var evaluator = Decision!.EvaluatorFor(t);
            if (t.When is not null && evaluator.Evaluate(t.When) == false) return false;
            return t.IsInternal || t.Targets.Any(o => o.When is null || evaluator.Evaluate(o.When) != false);
        }

        /// <summary>The first target whose guard holds, in the order written.</summary>
        public TargetOption? ChooseTarget(TransitionDefinition t)
        {
            var evaluator = Decision!.EvaluatorFor(t);
            return t.Targets.FirstOrDefault(o => evaluator.Holds(o.When));
        }
    }
}
