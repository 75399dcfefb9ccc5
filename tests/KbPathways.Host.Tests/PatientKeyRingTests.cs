using System.Collections.Concurrent;
using KbPathways.Projections.Privacy;
using Npgsql;

namespace KbPathways.Host.Tests;

/// <summary>The key ring keeps a bounded number of keys in memory and reads the others from the database.</summary>
[Collection(HostCollection.Name)]
public class PatientKeyRingTests(HostFixture host)
{
    [Fact]
    public async Task Given_a_ring_with_room_for_a_few_keys_When_many_patients_are_read_Then_it_keeps_a_few_and_still_opens_every_one()
    {
        var practice = HostFixture.NewPractice();
        var patients = Enumerable.Range(0, 40).Select(i => $"begrensd-{i}").ToList();
        using var writer = new PatientKeyRing(host.ConnectionString, "kbpathways");
        await writer.GetOrCreateManyAsync([.. patients.Select(p => (practice, p))]);
        var pseudonyms = new List<Guid>();
        foreach (var patient in patients) pseudonyms.Add((await writer.FindAsync(practice, patient))!.Pseudonym);

        using var ring = new PatientKeyRing(host.ConnectionString, "kbpathways", capacity: 8);
        foreach (var (pseudonym, patient) in pseudonyms.Zip(patients))
            ring.ByPseudonym(pseudonym)!.PatientId.ShouldBe(patient);
        ring.CachedKeys.ShouldBeInRange(1, 8);

        // A page's keys loaded at once, more than fit. What stayed in memory must be right, and a key that fell out
        // must not have been taken for an erased patient's. Without its database the ring answers only from memory,
        // and lookups change nothing in it.
        ring.Load(pseudonyms);
        ring.CachedKeys.ShouldBeInRange(1, 8);
        ring.Dispose();
        var fromMemory = 0;
        foreach (var (pseudonym, patient) in pseudonyms.Zip(patients))
        {
            PatientKey? key;
            try
            {
                key = ring.ByPseudonym(pseudonym);
            }
            catch (ObjectDisposedException)
            {
                continue; // not in memory: it would be read again
            }
            key.ShouldNotBeNull($"{patient} is not erased").PatientId.ShouldBe(patient);
            fromMemory++;
        }
        fromMemory.ShouldBeInRange(1, 8);
    }

    [Fact]
    public async Task Given_a_key_read_just_before_its_erasure_commits_When_the_erasure_is_heard_before_the_read_is_cached_Then_the_key_is_not_kept()
    {
        var practice = HostFixture.NewPractice();
        using var writer = new PatientKeyRing(host.ConnectionString, "kbpathways");
        var key = await writer.GetOrCreateAsync(practice, "te-laat");
        using var ring = new PatientKeyRing(host.ConnectionString, "kbpathways");
        (await ring.FindAsync(practice, "niemand")).ShouldBeNull(); // the ring's table check is done

        // The key table is held, so the lookup below must wait for the database; everything it does after a wait runs
        // in this context, only when the test lets it.
        await using var db = new NpgsqlConnection(host.ConnectionString);
        await db.OpenAsync();
        var hold = await db.BeginTransactionAsync();
        await new NpgsqlCommand("LOCK TABLE kbpathways.patient_keys IN ACCESS EXCLUSIVE MODE", db, hold).ExecuteNonQueryAsync();
        var paused = new PausedContext();
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(paused);
        Task<PatientKey?> lookup;
        try
        {
            lookup = ring.FindAsync(practice, "te-laat");
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
        await using (var watch = new NpgsqlConnection(host.ConnectionString))
        {
            await watch.OpenAsync();
            var waiting = new NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE relation = 'kbpathways.patient_keys'::regclass AND NOT granted", watch);
            for (var i = 0; (long)(await waiting.ExecuteScalarAsync())! == 0; i++)
            {
                i.ShouldBeLessThan(2000, "the lookup never reached the database");
                paused.RunPending(); // e.g. opening a connection
                await Task.Delay(5);
            }
        }
        // Let it read the row; its answer arrives, and the caching waits here.
        await hold.RollbackAsync();
        for (var i = 0; !paused.HasPending; i++)
        {
            i.ShouldBeLessThan(2000, "the lookup's answer never came");
            await Task.Delay(5);
        }
        lookup.IsCompleted.ShouldBeFalse();

        // Meanwhile the patient is erased, and the erasure is heard here (as ErasureListener does).
        await new NpgsqlCommand($"DELETE FROM kbpathways.patient_keys WHERE pseudonym = '{key.Pseudonym}'", db).ExecuteNonQueryAsync();
        ring.Forget(key.Pseudonym);

        while (!lookup.IsCompleted)
        {
            paused.RunPending();
            await Task.Delay(1);
        }
        (await lookup).ShouldNotBeNull().Pseudonym.ShouldBe(key.Pseudonym); // it read the row before the erasure committed
        ring.ByPseudonym(key.Pseudonym).ShouldBeNull(); // but did not keep it: the next read finds the patient erased
        (await ring.FindAsync(practice, "te-laat")).ShouldBeNull();
    }

    /// <summary>Holds what is posted to it until told to run it.</summary>
    private sealed class PausedContext : SynchronizationContext
    {
        private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> posted = new();

        public bool HasPending => !posted.IsEmpty;

        public override void Post(SendOrPostCallback d, object? state) => posted.Enqueue((d, state));

        public void RunPending()
        {
            var previous = Current;
            SetSynchronizationContext(this);
            try
            {
                while (posted.TryDequeue(out var work)) work.Callback(work.State);
            }
            finally
            {
                SetSynchronizationContext(previous);
            }
        }
    }
}
