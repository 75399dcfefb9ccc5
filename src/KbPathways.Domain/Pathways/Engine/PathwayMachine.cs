using KbPathways.Domain.Pathways.Model;
using Stateless;

namespace KbPathways.Domain.Pathways.Engine;

/// <summary>
/// Compiles one track of a definition into a Stateless machine for a single decision: the state lives outside
/// (the trajectory), guards are pure functions of the given context, and no state has entry or exit actions —
/// everything that happens is returned as events by the decider, so replay never re-runs side effects.
/// </summary>
public sealed class PathwayMachine
{
    private readonly StateMachine<string, string> machine;
    private readonly TrackDefinition track;
    private readonly Func<TransitionDefinition, GuardEvaluator> evaluatorFor;
    private string current;

    /// <param name="admits">Whether the caller may fire a transition (role check); pure.</param>
    /// <param name="evaluatorFor">A guard evaluator over the decision's context, per transition.</param>
    public PathwayMachine(TrackDefinition track, string current, Func<TransitionDefinition, bool> admits,
        Func<TransitionDefinition, GuardEvaluator> evaluatorFor)
    {
        this.track = track;
        this.current = current;
        this.evaluatorFor = evaluatorFor;
        machine = new StateMachine<string, string>(() => this.current, s => this.current = s);
        foreach (var state in track.States)
        {
            var config = machine.Configure(state.Name);
            foreach (var t in track.TransitionsFrom(state))
            {
                var guard = () => admits(t) && Opens(t);
                var description = t.When is null ? t.Label : GuardText.Render(t.When);
                if (t.IsInternal) config.InternalTransitionIf(t.Trigger, _ => guard(), () => { }, description);
                else config.PermitDynamicIf(t.Trigger, () => ChooseTarget(t)!.State, guard, description);
            }
        }
    }

    public string State => current;

    /// <summary>Triggers the caller may fire now; a guard that waits on the step's own data counts as open.</summary>
    public IEnumerable<string> PermittedTriggers =>
        track.States.FirstOrDefault(s => s.Name == current) is { } state
            ? track.TransitionsFrom(state).Select(t => t.Trigger).Where(machine.CanFire)
            : [];

    public bool CanFire(string trigger, out ICollection<string> unmetGuards) => machine.CanFire(trigger, out unmetGuards);

    /// <summary>Fires <paramref name="trigger"/> and returns the state the track is in afterwards.</summary>
    public string Fire(string trigger)
    {
        machine.Fire(trigger);
        return current;
    }

    /// <summary>The transition's own guard holds and at least one target is open.</summary>
    private bool Opens(TransitionDefinition t)
    {
        var evaluator = evaluatorFor(t);
        if (t.When is not null && evaluator.Evaluate(t.When) == false) return false;
        return t.IsInternal || t.Targets.Any(o => o.When is null || evaluator.Evaluate(o.When) != false);
    }

    /// <summary>The first target whose guard holds, in the order written.</summary>
    public TargetOption? ChooseTarget(TransitionDefinition t)
    {
        var evaluator = evaluatorFor(t);
        return t.Targets.FirstOrDefault(o => evaluator.Holds(o.When));
    }

    public TrackDefinition Track => track;
}
