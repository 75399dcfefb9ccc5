using KbPathways.Projections.Privacy;

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
}
