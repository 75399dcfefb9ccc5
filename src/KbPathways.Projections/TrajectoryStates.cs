using KbPathways.Domain.Trajectories;

namespace KbPathways.Projections;

/// <summary>
/// The states this host last wrote, so the next command on a trajectory (a POH takes several steps in a row) need not
/// read and open its whole stream. A remembered state can only be behind, never wrong: a stream only grows, and a
/// command decided on a state that is behind appends with that state's version, which the store refuses when anything
/// was appended since (another host's step, an erasure, a migration). <see cref="TrajectoryService"/> therefore trusts a
/// remembered state only for a command that commits; a refusal, a rejection or "nothing to do" is decided again on
/// the stream. Holds about <c>capacity</c> states in two generations (the older one is dropped when the newer fills).
/// </summary>
public sealed class TrajectoryStates(int capacity)
{
    private readonly GenerationalCache<Guid, Trajectory> states = new(capacity);
    private long epoch;

    /// <summary>Changes on every <see cref="Clear"/>; a state read before a clear is not remembered after it.</summary>
    public long Epoch => Interlocked.Read(ref epoch);

    public int Count => states.Count;

    public Trajectory? Find(Guid id) => states.TryGetValue(id, out var state) ? state : null;

    /// <summary>Remembers a committed state, unless the states were cleared since <paramref name="since"/> (an erasure).</summary>
    public void Remember(Trajectory state, long since)
    {
        states.Set(state.Id, state);
        if (Epoch != since) Forget(state.Id);
    }

    public void Forget(Guid id) => states.Remove(id, out _);

    /// <summary>Forgets every state (after an erasure: no patient's data stays in memory longer than needed).</summary>
    public void Clear()
    {
        Interlocked.Increment(ref epoch);
        states.Clear();
    }
}
