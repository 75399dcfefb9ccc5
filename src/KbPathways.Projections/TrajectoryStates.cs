using System.Collections.Concurrent;
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
    private readonly Lock turning = new();
    private ConcurrentDictionary<Guid, Trajectory> young = new(), old = new();
    private long epoch;

    /// <summary>Changes on every <see cref="Clear"/>; a state read before a clear is not remembered after it.</summary>
    public long Epoch => Interlocked.Read(ref epoch);

    public int Count => young.Count + old.Count;

    public Trajectory? Find(Guid id) => young.TryGetValue(id, out var state) || old.TryGetValue(id, out state) ? state : null;

    /// <summary>Remembers a committed state, unless the states were cleared since <paramref name="since"/> (an erasure).</summary>
    public void Remember(Trajectory state, long since)
    {
        if (capacity <= 0) return;
        young[state.Id] = state;
        old.TryRemove(state.Id, out _);
        if (young.Count >= Math.Max(1, capacity / 2))
            lock (turning)
                if (young.Count >= Math.Max(1, capacity / 2))
                    (old, young) = (young, new ConcurrentDictionary<Guid, Trajectory>());
        if (Epoch != since) Forget(state.Id);
    }

    public void Forget(Guid id)
    {
        young.TryRemove(id, out _);
        old.TryRemove(id, out _);
    }

    /// <summary>Forgets every state (after an erasure: no patient's data stays in memory longer than needed).</summary>
    public void Clear()
    {
        lock (turning)
        {
            Interlocked.Increment(ref epoch);
            young = new ConcurrentDictionary<Guid, Trajectory>();
            old = new ConcurrentDictionary<Guid, Trajectory>();
        }
    }
}
