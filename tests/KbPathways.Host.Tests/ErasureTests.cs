using System.Net;
using System.Net.Http.Json;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Trajectories;
using KbPathways.Projections;
using KbPathways.Projections.Privacy;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace KbPathways.Host.Tests;

/// <summary>
/// The right to erasure on an immutable event store: a patient's personal data is sealed with their own key from the
/// first event on, and erasing destroys the key. Checked on the database itself, not only through the API.
/// </summary>
[Collection(HostCollection.Name)]
public class ErasureTests(HostFixture host)
{
    private static readonly string[] AllRoles = ["huisarts", "poh-ggz", "poh-kb", "praktijkmanager"];

    [Fact]
    public async Task Given_two_patients_When_one_is_erased_Then_their_data_is_unreadable_everywhere_and_the_other_is_byte_identical()
    {
        var practice = HostFixture.NewPractice();
        var client = host.Client(practice, AllRoles);
        var tag = Guid.NewGuid().ToString("N")[..8];
        var (a, b) = ($"wis-a-{tag}", $"blijf-b-{tag}");
        var (noteA, noteB) = ($"notitie-a-{tag}", $"notitie-b-{tag}");
        var trajectoryA = await Walk(client, a, noteA, idempotencyKey: $"k-{tag}");
        var trajectoryB = await Walk(client, b, noteB, idempotencyKey: null);

        // Sealed from the start: neither the patient id nor the step data is in clear anywhere in the event store.
        (await Count($"SELECT count(*) FROM kbpathways.mt_events WHERE data::text LIKE '%{a}%' OR data::text LIKE '%{noteA}%'")).ShouldBe(0);
        (await Count($"SELECT count(*) FROM kbpathways.mt_events WHERE stream_id = '{trajectoryA}'")).ShouldBeGreaterThan(3);

        var pseudonymB = await Pseudonym(practice, b);
        string[] streamsB = [trajectoryB, pseudonymB.ToString()];
        var eventsBefore = await Rows($"SELECT e::text FROM kbpathways.mt_events e WHERE stream_id = ANY(@streams) ORDER BY seq_id", streamsB);
        var projectionsBefore = await Rows(
            "SELECT d::text FROM kbpathways.mt_doc_trajectorysummary d WHERE id = ANY(@streams) UNION ALL " +
            "SELECT d::text FROM kbpathways.mt_doc_patientmarks d WHERE id = ANY(@streams)", streamsB);
        projectionsBefore.Count.ShouldBe(2);
        var pseudonymA = await Pseudonym(practice, a);
        var eventsOfABefore = await Rows("SELECT e::text FROM kbpathways.mt_events e WHERE stream_id = ANY(@streams) ORDER BY seq_id",
            [trajectoryA, pseudonymA.ToString()]);

        (await TablesContaining(a)).ShouldContain("kbpathways.patient_keys"); // the search below can find what is there

        // A role without the right is refused, and nothing changes.
        (await host.Client(practice, "poh-kb").DeleteAsync($"/api/patients/{a}")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await host.Client(HostFixture.NewPractice(), AllRoles).DeleteAsync($"/api/patients/{a}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await Pseudonym(practice, a)).ShouldBe(pseudonymA);

        var erased = await client.DeleteAsync($"/api/patients/{a}");
        erased.StatusCode.ShouldBe(HttpStatusCode.OK, await erased.Content.ReadAsStringAsync());
        var receipt = await erased.Body();
        receipt.GetProperty("pseudonym").GetGuid().ShouldBe(pseudonymA);
        receipt.GetProperty("trajectories").GetInt32().ShouldBe(1);

        // Through the API the patient is gone: unknown, at any moment of their history.
        (await client.GetAsync($"/api/patients/{a}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetAsync($"/api/trajectories/{trajectoryA}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetAsync($"/api/trajectories/{trajectoryA}/history")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetAsync($"/api/trajectories/{trajectoryA}?version=2")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.Fire(trajectoryA, new { trigger = "uitvallen", data = new { reden = "x" } })).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await (await client.GetAsync($"/api/trajectories?patientId={a}")).Body()).GetProperty("items").GetArrayLength().ShouldBe(0);
        (await client.DeleteAsync($"/api/patients/{a}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var alarm = await host.Services.GetRequiredService<TrajectoryService>()
            .FireDeadlineAsync(practice, Guid.Parse(trajectoryA), new DeadlineDue("evaluatie", "main", DateTimeOffset.UtcNow));
        alarm.ShouldBeNull();

        // What-if output and the worklist do not know the patient; the other patient is still there.
        var whatIf = await (await client.PostAsJsonAsync("/api/whatif", new { candidate = "extends: solk\nsettings:\n  maxSessies: 3\n" })).Content.ReadAsStringAsync();
        whatIf.ShouldNotContain(trajectoryA);
        whatIf.ShouldNotContain(a);
        whatIf.ShouldContain(trajectoryB);
        (await (await client.GetAsync("/api/worklist")).Content.ReadAsStringAsync()).ShouldNotContain(a);

        // In the database: nothing of the patient left in any table outside the NEN 7513 access log, which keeps its
        // records by law; the events of both patients are unchanged, byte for byte, plus the erasure records.
        foreach (var needle in new[] { a, noteA })
            (await TablesContaining(needle)).ShouldBeEmpty($"'{needle}' is still readable");
        (await Rows("SELECT e::text FROM kbpathways.mt_events e WHERE stream_id = ANY(@streams) ORDER BY seq_id", streamsB)).ShouldBe(eventsBefore);
        (await Rows("SELECT d::text FROM kbpathways.mt_doc_trajectorysummary d WHERE id = ANY(@streams) UNION ALL " +
            "SELECT d::text FROM kbpathways.mt_doc_patientmarks d WHERE id = ANY(@streams)", streamsB)).ShouldBe(projectionsBefore);
        var eventsOfAAfter = await Rows("SELECT e::text FROM kbpathways.mt_events e WHERE stream_id = ANY(@streams) ORDER BY seq_id",
            [trajectoryA, pseudonymA.ToString()]);
        eventsOfAAfter.Take(eventsOfABefore.Count).ShouldBe(eventsOfABefore);
        eventsOfAAfter.Skip(eventsOfABefore.Count).Count().ShouldBe(2);
        (await Count($"SELECT count(*) FROM kbpathways.mt_events WHERE stream_id = '{pseudonymA}' AND type = 'patient_erased'")).ShouldBe(1);
        (await Count($"SELECT count(*) FROM kbpathways.mt_events WHERE stream_id = '{trajectoryA}' AND type = 'trajectory_erased'")).ShouldBe(1);
        var log = await (await client.GetAsync($"/api/access-log?patientId={a}")).Content.ReadAsStringAsync();
        log.ShouldContain("patient.erase");

        // Read back, the sealed fields come out empty; the clinical path without them stays (anonymous) history.
        var store = host.Services.GetRequiredService<IDocumentStore>();
        await using (var session = store.QuerySession())
        {
            var events = await session.Events.FetchStreamAsync(Guid.Parse(trajectoryA));
            var started = events[0].Data.ShouldBeOfType<TrajectoryStarted>();
            started.PatientId.ShouldBe("");
            started.Practice.ShouldBe(practice);
            var steps = events.Select(e => e.Data).OfType<StepTaken>().ToList();
            steps.ShouldNotBeEmpty();
            steps.ShouldAllBe(s => s.Data.Count == 0 && s.Scores.Count == 0 && s.Decision.Count == 0);
            steps[0].Trigger.ShouldBe("werkhypotheseVastgelegd");
            var patientEvents = await session.Events.FetchStreamAsync(pseudonymA);
            patientEvents.Select(e => e.Data).OfType<KbMarkPlaced>().Single().Reason.ShouldBe("");
            patientEvents.Select(e => e.Data).OfType<ObservationRecorded>().ShouldAllBe(o => o.PatientId == "" && o.Score == null);
        }

        // A rebuild from the events does not bring the patient back, and leaves the other patient's summary as it was.
        await host.Services.GetRequiredService<ReplayService>().RebuildAsync();
        (await TablesContaining(a)).ShouldBeEmpty();
        (await Rows("SELECT data::text FROM kbpathways.mt_doc_trajectorysummary WHERE id = ANY(@streams)", [trajectoryA, trajectoryB]))
            .ShouldBe(await Rows("SELECT data::text FROM kbpathways.mt_doc_trajectorysummary WHERE id = ANY(@streams)", [trajectoryB]));
        (await (await client.GetAsync($"/api/patients/{b}")).Body()).GetProperty("observations").GetArrayLength().ShouldBe(1);

        // The same patient id later is a new patient, with nothing of the erased one.
        var again = await client.Start("solk", a);
        var patient = await (await client.GetAsync($"/api/patients/{a}")).Body();
        patient.GetProperty("trajectories").EnumerateArray().Select(t => t.GetProperty("id").GetString()).ShouldBe([again]);
        patient.GetProperty("kbMarked").GetBoolean().ShouldBeFalse();
        (await Pseudonym(practice, a)).ShouldNotBe(pseudonymA);
    }

    [Fact]
    public async Task Given_a_key_cached_on_another_host_When_the_patient_is_erased_here_Then_that_host_forgets_it_and_the_practices_and_states_it_held()
    {
        var practice = HostFixture.NewPractice();
        var client = host.Client(practice, AllRoles);
        var patient = "elders-" + Guid.NewGuid().ToString("N")[..8];
        var trajectory = Guid.Parse(await client.Start("solk", patient));
        using var otherHost = new PatientKeyRing(host.ConnectionString, "kbpathways");
        var otherSnapshots = new PracticeSnapshots(otherHost.DataSource, host.Services.GetRequiredService<IDocumentStore>(), 4);
        var otherStates = new TrajectoryStates(8);
        using var listener = new ErasureListener(otherHost, otherSnapshots, otherStates, Microsoft.Extensions.Logging.Abstractions.NullLogger<ErasureListener>.Instance);
        await listener.StartAsync(CancellationToken.None);
        await listener.Listening.WaitAsync(TimeSpan.FromSeconds(10));
        var cached = await otherHost.FindAsync(practice, patient);
        cached.ShouldNotBeNull();
        (await otherSnapshots.ReadAsync(practice)).Summaries.ShouldContain(s => s.PatientId == patient);
        await using (var session = host.Services.GetRequiredService<IDocumentStore>().QuerySession())
            otherStates.Remember((await host.Services.GetRequiredService<TrajectoryService>().LoadAsync(session, practice, trajectory))!, otherStates.Epoch);
        otherStates.Find(trajectory)!.PatientId.ShouldBe(patient);

        (await client.DeleteAsync($"/api/patients/{patient}")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await otherHost.FindAsync(practice, patient) is not null || otherSnapshots.Count > 0 || otherStates.Count > 0) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        (await otherHost.FindAsync(practice, patient)).ShouldBeNull();
        otherHost.ByPseudonym(cached.Pseudonym).ShouldBeNull();
        otherSnapshots.Count.ShouldBe(0, "the practices that host held in memory are emptied too");
        otherStates.Find(trajectory).ShouldBeNull("and so are the trajectory states it kept for the next command");
        await listener.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Given_a_fresh_key_ring_When_it_loads_the_keys_a_page_of_events_names_Then_it_opens_them_from_memory_and_knows_the_erased()
    {
        var practice = HostFixture.NewPractice();
        var client = host.Client(practice, AllRoles);
        var tag = Guid.NewGuid().ToString("N")[..8];
        var (kept, erased) = ($"laden-{tag}", $"gewist-{tag}");
        await client.Start("solk", kept);
        await client.Start("solk", erased);
        var (keptPseudonym, erasedPseudonym) = (await Pseudonym(practice, kept), await Pseudonym(practice, erased));
        (await client.DeleteAsync($"/api/patients/{erased}")).EnsureSuccessStatusCode();

        // A replay in a fresh process (`store rebuild`): nothing in memory yet. One load for the whole page, then the
        // ring answers without the database, which is gone here: a lookup that reached it would throw.
        var ring = new PatientKeyRing(host.ConnectionString, "kbpathways");
        ring.Load([keptPseudonym, erasedPseudonym, keptPseudonym]);
        ring.Dispose();
        var key = ring.ByPseudonym(keptPseudonym).ShouldNotBeNull();
        (key.Practice, key.PatientId).ShouldBe((practice, kept));
        ring.ByPseudonym(erasedPseudonym).ShouldBeNull();
        ring.Load([keptPseudonym, erasedPseudonym]); // all known: no round trip
    }

    [Fact]
    public async Task Given_steps_racing_the_erasure_When_it_commits_Then_no_step_after_it_leaves_the_patient_readable()
    {
        var practice = HostFixture.NewPractice();
        var client = host.Client(practice, AllRoles);
        var patient = "race-" + Guid.NewGuid().ToString("N")[..8];
        var trajectories = new List<string>();
        for (var i = 0; i < 3; i++) trajectories.Add(await client.Start("solk", patient));
        using var stop = new CancellationTokenSource();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        // The racers act as another user than the eraser: each user has a request budget (429 beyond it), and the
        // racers spend theirs as fast as the host answers.
        var racer = host.Client(practice, "poh-ggz", "huisarts");
        var racers = trajectories.Select(id => Task.Run(async () =>
        {
            string[] triggers = ["werkhypotheseVastgelegd", "ernstVastgesteld", "adviesGegeven", "sessieGehouden"];
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var response = await racer.Fire(id, new { trigger = triggers[n % triggers.Length],
                    data = new { medischOnderzoekAfgerond = true, scegsNotities = "x", klachtenclusters = 1, beperking = "licht", duurWeken = 4, cvg = new { cijfer = 5 } } });
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.NotFound) return;
            }
        })).ToList();
        try
        {
            await Task.Delay(300);
            (await client.DeleteAsync($"/api/patients/{patient}")).StatusCode.ShouldBe(HttpStatusCode.OK);
            await Task.WhenAll(racers).WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await stop.CancelAsync();
        }

        statuses.ShouldNotContain(HttpStatusCode.InternalServerError);
        statuses.Count(s => s == HttpStatusCode.NotFound).ShouldBe(3); // each racer ran into the erasure
        (await TablesContaining(patient)).ShouldBeEmpty();
        foreach (var id in trajectories)
            (await Count($"SELECT count(*) FROM kbpathways.mt_events WHERE stream_id = '{id}' AND type = 'trajectory_erased'")).ShouldBe(1);
    }

    [Fact]
    public async Task Given_a_completed_trajectory_of_an_erased_patient_When_rebuilt_Then_its_summary_stays_gone_and_the_others_are_as_they_were()
    {
        var practice = HostFixture.NewPractice();
        var client = host.Client(practice, AllRoles);
        var tag = Guid.NewGuid().ToString("N")[..8];
        var (erased, kept) = ($"klaar-wis-{tag}", $"klaar-blijf-{tag}");
        var stopped = new { trigger = "uitvallen", data = new { reden = "verhuisd" } };
        var completedErased = await client.Start("solk", erased);
        (await client.Fire(completedErased, stopped)).EnsureSuccessStatusCode();
        var completedKept = await client.Start("solk", kept);
        (await client.Fire(completedKept, stopped)).EnsureSuccessStatusCode();
        var runningKept = await client.Start("solk", kept);
        (await (await client.GetAsync($"/api/trajectories/{completedErased}")).Body()).GetProperty("completed").GetBoolean().ShouldBeTrue();
        const string Projection = "SELECT id::text || ' ' || practice || ' ' || patient_id || ' ' || mt_dotnet_type || ' ' || data::text " +
                                  "FROM kbpathways.mt_doc_trajectorysummary WHERE id = ANY(@streams) ORDER BY id";
        var before = await Rows(Projection, [completedKept, runningKept]);
        before.Count.ShouldBe(2);

        (await client.DeleteAsync($"/api/patients/{erased}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        // The erasure closed the completed trajectory with one more event, after its completion.
        (await Count($"SELECT count(*) FROM kbpathways.mt_events WHERE stream_id = '{completedErased}' AND type = 'trajectory_erased'")).ShouldBe(1);

        var result = await host.Services.GetRequiredService<ReplayService>().RebuildAsync();

        (await Rows(Projection, [completedErased])).ShouldBeEmpty();
        (await Rows(Projection, [completedKept, runningKept])).ShouldBe(before);
        result.Removed.ShouldBe(0);
        (await TablesContaining(erased)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Given_a_host_with_no_key_in_memory_When_a_POH_takes_steps_and_reads_the_trajectory_Then_no_key_is_looked_up_synchronously()
    {
        var practice = HostFixture.NewPractice();
        var client = host.Client(practice, AllRoles);
        var tag = Guid.NewGuid().ToString("N")[..8];
        var remembered = await client.Start("solk", $"koud-a-{tag}");
        var fromStream = await client.Start("solk", $"koud-b-{tag}");
        var keys = host.Services.GetRequiredService<PatientKeyRing>();
        // As after a restart: no key in memory. One trajectory's state is still remembered by this host, the other's not.
        keys.ForgetAll();
        host.Services.GetRequiredService<TrajectoryStates>().Forget(Guid.Parse(fromStream));
        var before = keys.SynchronousLookups;

        foreach (var id in new[] { remembered, fromStream })
        {
            (await client.Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = tag } }))
                .EnsureSuccessStatusCode();
            (await client.GetAsync($"/api/trajectories/{id}")).EnsureSuccessStatusCode();
            (await (await client.GetAsync($"/api/trajectories/{id}/history")).Content.ReadAsStringAsync()).ShouldContain(tag);
        }

        keys.SynchronousLookups.ShouldBe(before);
        keys.CachedKeys.ShouldBeGreaterThanOrEqualTo(2);
    }

    private static async Task<string> Walk(HttpClient client, string patient, string note, string? idempotencyKey)
    {
        (await client.PostAsJsonAsync($"/api/patients/{patient}/kb-mark", new { reason = $"stapeling {note}" })).EnsureSuccessStatusCode();
        var id = await client.Start("solk", patient);
        (await client.Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = note } }, idempotencyKey))
            .EnsureSuccessStatusCode();
        (await client.Fire(id, new { trigger = "ernstVastgesteld", data = new { klachtenclusters = 1, beperking = "licht", duurWeken = 4 } })).EnsureSuccessStatusCode();
        (await client.Fire(id, new { trigger = "adviesGegeven", data = new { cvg = new { cijfer = 5 } } })).EnsureSuccessStatusCode();
        return id;
    }

    private async Task<Guid> Pseudonym(string practice, string patient) =>
        (Guid)(await Scalar("SELECT pseudonym FROM kbpathways.patient_keys WHERE practice = @p AND patient_id = @id", ("p", practice), ("id", patient)))!;

    private async Task<long> Count(string sql) => (long)(await Scalar(sql))!;

    private async Task<object?> Scalar(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(host.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return await command.ExecuteScalarAsync();
    }

    private async Task<List<string>> Rows(string sql, string[] streams)
    {
        await using var connection = new NpgsqlConnection(host.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("streams", streams.Select(Guid.Parse).ToArray());
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    /// <summary>Every table of the database (as the superuser sees it) with a row whose text contains <paramref name="needle"/>, the access log aside.</summary>
    private async Task<List<string>> TablesContaining(string needle)
    {
        await using var connection = new NpgsqlConnection(host.AdminConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables WHERE table_type = 'BASE TABLE' " +
            "AND table_schema NOT IN ('pg_catalog', 'information_schema', 'kbpathways_audit')", connection))
        await using (var reader = await list.ExecuteReaderAsync())
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        tables.Count.ShouldBeGreaterThan(10);
        var found = new List<string>();
        foreach (var table in tables)
        {
            await using var search = new NpgsqlCommand($"SELECT count(*) FROM {table} t WHERE t::text LIKE '%' || @needle || '%'", connection);
            search.Parameters.AddWithValue("needle", needle);
            if ((long)(await search.ExecuteScalarAsync())! > 0) found.Add(table);
        }
        return found;
    }
}
