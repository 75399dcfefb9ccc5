using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using KbPathways.Host.AccessLog;
using Microsoft.Extensions.DependencyInjection;
using KbPathways.Projections.Database;
using Npgsql;
using KbPathways.Testing;

namespace KbPathways.Host.Tests;

[Collection(HostCollection.Name)]
public class AccessLogTests(HostFixture host)
{
    private readonly string practice = HostFixture.NewPractice();

    private async Task<JsonElement[]> Log(string? query = null)
    {
        var manager = host.Client(practice, "praktijkmanager");
        var response = await manager.GetAsync("/api/access-log" + query);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return [.. (await response.Body()).EnumerateArray()];
    }

    [Fact]
    public async Task Given_each_patient_data_route_When_called_Then_exactly_one_record_with_the_right_fields()
    {
        var huisarts = host.Client(practice, "huisarts");
        var id = await huisarts.Start("solk", "p-log");
        // A read of the log is recorded once its answer is complete, so it shows up in the next read.
        var before = (await Log()).Length;

        var calls = new (Func<Task<HttpResponseMessage>> Call, string Action, string Type, string? Patient, bool Authorised)[]
        {
            (() => huisarts.GetAsync($"/api/trajectories/{id}"), "R", "trajectory.read", "p-log", true),
            (() => huisarts.GetAsync($"/api/trajectories/{id}/history"), "R", "trajectory.history", "p-log", true),
            (() => huisarts.GetAsync("/api/trajectories?patientId=p-log"), "R", "trajectory.search", "p-log", true),
            (() => huisarts.Fire(id, new { trigger = "verwezenNaarTweedeLijn", data = new { verwijsvraag = "x" } }), "U", "trajectory.fire", "p-log", true),
            (() => huisarts.PostAsJsonAsync("/api/patients/p-log/kb-mark", new { reason = "x" }), "U", "patient.kb-mark", "p-log", true),
            (() => huisarts.GetAsync("/api/patients/p-log"), "R", "patient.read", "p-log", true),
            (() => host.Client(practice, "poh-ggz").Fire(id, new { trigger = "terugkoppelingOntvangen", data = new { terugkoppeling = "x" } }), "U", "trajectory.fire", "p-log", false),
            (() => huisarts.GetAsync($"/api/trajectories/{Guid.NewGuid()}"), "R", "trajectory.read", null, false),
            (() => host.Client(practice, "huisarts").GetAsync("/api/access-log"), "R", "access-log.read", null, false),
        };
        var expectedCount = before;
        foreach (var (call, action, type, patient, authorised) in calls)
        {
            await call();
            var log = await Log();
            log.Length.ShouldBe(expectedCount + 2, type); // the previous read of the log, and this call
            var entry = log[^1];
            entry.GetProperty("action").GetString().ShouldBe(action, type);
            entry.GetProperty("eventType").GetString().ShouldBe(type);
            entry.GetProperty("authorised").GetBoolean().ShouldBe(authorised, type);
            entry.Strings("patients").ShouldBe(patient is null ? [] : [patient], type);
            entry.GetProperty("practice").GetString().ShouldBe(practice);
            entry.GetProperty("user").GetString().ShouldStartWith("user-");
            entry.GetProperty("accessPoint").GetString()!.ShouldContain("/api/");
            entry.GetProperty("at").GetDateTimeOffset().Millisecond.ShouldBe(0);
            log[^2].GetProperty("eventType").GetString().ShouldBe("access-log.read");
            expectedCount += 2;
        }
        (await Log("?patientId=p-log")).ShouldAllBe(e => e.Strings("patients").SequenceEqual(new[] { "p-log" }));
    }

    [Fact]
    public async Task Given_starts_and_steps_When_they_commit_Then_each_record_commits_in_the_same_transaction_as_its_events()
    {
        var huisarts = host.Client(practice, "huisarts");
        var id = await huisarts.Start("solk", "p-tx");
        object Step(string note) => new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = note } };
        (await huisarts.Fire(id, Step("a"), key: "k-tx")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await huisarts.Fire(id, Step("a"), key: "k-tx")).StatusCode.ShouldBe(HttpStatusCode.OK); // a retry: the stored answer
        (await huisarts.Fire(id, new { trigger = "verwezenNaarTweedeLijn", data = new { verwijsvraag = "x" } })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await huisarts.Fire(id, Step("b"))).StatusCode.ShouldBe(HttpStatusCode.Conflict); // not possible any more: nothing committed

        await using var connection = new NpgsqlConnection(host.ConnectionString);
        await connection.OpenAsync();
        // A transaction's id is the xmin of every row it wrote.
        var eventTransactions = new List<string>();
        await using (var events = new NpgsqlCommand("SELECT xmin::text FROM kbpathways.mt_events WHERE stream_id = @id ORDER BY version", connection))
        {
            events.Parameters.AddWithValue("id", Guid.Parse(id));
            await using var reader = await events.ExecuteReaderAsync();
            while (await reader.ReadAsync()) eventTransactions.Add(reader.GetString(0));
        }
        var commands = eventTransactions.Distinct().ToList();
        commands.Count.ShouldBe(3, "the start, the keyed step and the referral each committed once");
        var records = new List<(string Type, int Status, string Transaction)>();
        await using (var log = new NpgsqlCommand($"SELECT event_type, status, xmin::text FROM {AuditSchema.Log} WHERE practice = @practice ORDER BY seq", connection))
        {
            log.Parameters.AddWithValue("practice", practice);
            await using var reader = await log.ExecuteReaderAsync();
            while (await reader.ReadAsync()) records.Add((reader.GetString(0), reader.GetInt32(1), reader.GetString(2)));
        }

        records.Select(r => (r.Type, r.Status)).ShouldBe([("trajectory.start", 201), ("trajectory.fire", 200), ("trajectory.fire", 200),
            ("trajectory.fire", 200), ("trajectory.fire", 409)], "one record per request");
        records[0].Transaction.ShouldBe(commands[0]);
        records[1].Transaction.ShouldBe(commands[1]);
        records[3].Transaction.ShouldBe(commands[2]);
        commands.ShouldNotContain(records[2].Transaction, "the retry committed nothing but its record");
        commands.ShouldNotContain(records[4].Transaction, "the refused step committed nothing but its record");
    }

    [Fact]
    public async Task Given_a_worklist_page_naming_many_patients_Then_one_record_names_exactly_them_and_each_patient_view_finds_it()
    {
        var huisarts = host.Client(practice, "huisarts");
        var patients = Enumerable.Range(0, 300).Select(i => $"patient-met-een-lang-nummer-{i:0000}").ToList();
        // 200 ids: ~7 KB, beyond a btree index row. Two users start them: one alone would run into its request budget.
        var colleague = host.Client(practice, "poh-ggz");
        for (var i = 0; i < patients.Count; i++) await (i % 2 == 0 ? huisarts : colleague).Start("solk", patients[i]);

        var worklist = await huisarts.GetAsync("/api/worklist?pageSize=200");

        worklist.StatusCode.ShouldBe(HttpStatusCode.OK);
        var page = await worklist.Body();
        page.GetProperty("total").GetInt32().ShouldBe(300);
        var shown = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("patientId").GetString()!).ToList();
        shown.Count.ShouldBe(200);
        var record = (await Log($"?patientId={shown[0]}")).Single(e => e.GetProperty("eventType").GetString() == "worklist.read");
        record.Strings("patients").Order().ShouldBe(shown.Order());
        (await Log($"?patientId={shown[^1]}")).ShouldContain(e => e.GetProperty("eventType").GetString() == "worklist.read");
        (await Log($"?patientId={patients.Except(shown).First()}")).ShouldNotContain(e => e.GetProperty("eventType").GetString() == "worklist.read");
        (await Log("?patientId=patient-met-een-lang-nummer-9999")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Given_a_request_without_token_When_denied_Then_it_is_logged_without_a_user()
    {
        var store = host.Services.GetRequiredService<AccessLogStore>();
        await using var connection = new NpgsqlConnection(host.ConnectionString);
        await connection.OpenAsync();
        async Task<long> Count() => (long)(await new NpgsqlCommand($"SELECT count(*) FROM {AuditSchema.Log} WHERE user_id IS NULL", connection).ExecuteScalarAsync())!;
        var before = await Count();

        (await host.Client(practice).GetAsync("/api/trajectories")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        (await Count()).ShouldBe(before + 1);
        // The host's sealer chains it within a second or so.
        AccessLogBreak? found = null;
        for (var i = 0; i < 40 && (found = await store.VerifyAsync(TimeSpan.Zero)) is not null; i++) await Task.Delay(250);
        found.ShouldBeNull();
    }

    [Fact]
    public async Task Given_the_applications_database_role_When_it_tries_to_alter_the_log_Then_postgres_refuses()
    {
        (await host.Client(practice, "huisarts").GetAsync("/api/worklist")).StatusCode.ShouldBe(HttpStatusCode.OK);
        host.Services.GetRequiredService<AccessLogStore>().RoleCanAlter.ShouldBe(false);
        await using var connection = new NpgsqlConnection(host.ConnectionString); // the role the host runs as
        await connection.OpenAsync();
        foreach (var sql in new[]
        {
            $"UPDATE {AuditSchema.Log} SET patient = 'x'", $"DELETE FROM {AuditSchema.Log}", $"TRUNCATE {AuditSchema.Log}",
            $"DELETE FROM {AuditSchema.Seal}", $"UPDATE {AuditSchema.Seal} SET hash = ''", $"DROP TABLE {AuditSchema.Log}",
            $"ALTER TABLE {AuditSchema.Log} DISABLE TRIGGER ALL",
        })
        {
            var refused = await Should.ThrowAsync<PostgresException>(() => new NpgsqlCommand(sql, connection).ExecuteNonQueryAsync());
            refused.SqlState.ShouldBe(PostgresErrorCodes.InsufficientPrivilege, sql);
        }
        var health = await (await host.Client(practice).GetAsync("/health")).Body();
        health.GetProperty("checks").GetProperty("access-log").GetProperty("data").GetProperty("appendOnly").GetBoolean().ShouldBeTrue();
    }

    /// <summary>
    /// A fresh log in another database of the cluster (so the host's own log stays intact), and a superuser connection
    /// to it. The tests that use it are in one collection, so they never run at once.
    /// </summary>
    private async Task<(AccessLogStore Log, NpgsqlConnection Admin)> ScratchLog()
    {
        var scratchDb = host.AdminConnectionString.Replace("Database=kbpathways", "Database=postgres");
        var admin = new NpgsqlConnection(scratchDb);
        await admin.OpenAsync();
        await new NpgsqlCommand($"DROP SCHEMA IF EXISTS {AuditSchema.Schema} CASCADE; {AuditSchema.CreateTables}", admin).ExecuteNonQueryAsync();
        var log = new AccessLogStore(scratchDb, new AccessLogSigning(new byte[32], ScratchDirectory.NewAccessLogHeadFile()));
        await log.EnsureAsync();
        return (log, admin);
    }

    [Fact]
    public async Task Given_sealed_records_When_an_administrator_alters_or_removes_one_Then_verification_names_it()
    {
        var (scratch, admin) = await ScratchLog();
        await using var _ = admin;
        for (var i = 0; i < 5; i++)
            await scratch.AppendAsync(new AccessLogEntry(0, DateTimeOffset.UtcNow, "R", "trajectory.read", $"p{i}", null, "u", "u", practice, "test", true, null, null, false, 200));
        (await scratch.VerifyAsync(TimeSpan.Zero)).ShouldBe(new AccessLogBreak(1, "record not sealed"));
        (await scratch.SealAsync()).ShouldBe(5);
        (await scratch.VerifyAsync(TimeSpan.Zero)).ShouldBeNull();

        await new NpgsqlCommand($"UPDATE {AuditSchema.Log} SET patient = 'someone-else' WHERE seq = 3", admin).ExecuteNonQueryAsync();
        (await scratch.VerifyAsync(TimeSpan.Zero)).ShouldBe(new AccessLogBreak(3, "record changed"));
        await new NpgsqlCommand($"UPDATE {AuditSchema.Log} SET patient = 'p2' WHERE seq = 3; DELETE FROM {AuditSchema.Log} WHERE seq = 4", admin).ExecuteNonQueryAsync();
        (await scratch.VerifyAsync(TimeSpan.Zero)).ShouldBe(new AccessLogBreak(4, "record removed"));
        await new NpgsqlCommand($"DELETE FROM {AuditSchema.Seal} WHERE seq = 4", admin).ExecuteNonQueryAsync();
        (await scratch.VerifyAsync(TimeSpan.Zero)).ShouldBe(new AccessLogBreak(5, "seal 4 is missing"));

        await scratch.AppendAsync(new AccessLogEntry(0, DateTimeOffset.UtcNow, "R", "trajectory.read", "p9", null, "u", "u", practice, "test", true, null, null, false, 200));
        (await scratch.SealAsync()).ShouldBe(1); // sealing goes on after the break; the break stays visible
        (await scratch.VerifyAsync(TimeSpan.Zero)).ShouldBe(new AccessLogBreak(5, "seal 4 is missing"));
        await new NpgsqlCommand($"DROP SCHEMA {AuditSchema.Schema} CASCADE", admin).ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Given_records_naming_odd_ids_and_one_the_database_refuses_When_appended_together_Then_the_others_are_stored_and_each_id_is_found_whole()
    {
        var (scratch, admin) = await ScratchLog();
        await using var _ = admin;
        AccessLogEntry Entry(string[] patients, string user = "u", string action = "R") =>
            new(0, DateTimeOffset.UtcNow, action, "trajectory.read", PatientList.Encode(patients), "obj\u0000", user, user, practice, "test\u0000", true, null, null, false, 200);

        // Queued together, so they share a group commit; one has an action the column refuses.
        var appends = new List<Task<long>>();
        for (var i = 0; i < 100; i++) appends.Add(scratch.AppendAsync(Entry([$"p{i}"])));
        var refused = scratch.AppendAsync(Entry(["p-x"], action: "XX"));
        appends.Add(scratch.AppendAsync(Entry(["a,b"])));
        appends.Add(scratch.AppendAsync(Entry(["nul\u0000", new string('z', 3000), "\ud800lone"], user: new string('u', 3000))));
        appends.Add(scratch.AppendAsync(Entry(["a", "b"])));

        var stored = await Task.WhenAll(appends);
        stored.Distinct().Count().ShouldBe(appends.Count);
        await Should.ThrowAsync<PostgresException>(() => refused);

        (await scratch.QueryAsync(practice, "a,b", null, 10)).Single().Patients.ShouldBe(["a,b"]);
        (await scratch.QueryAsync(practice, "a", null, 10)).Single().Patients.ShouldBe(["a", "b"]);
        var odd = (await scratch.QueryAsync(practice, "nul\u0000", null, 10)).Single();
        (await scratch.QueryAsync(practice, new string('z', 3000), null, 10)).Single().Sequence.ShouldBe(odd.Sequence);
        (await scratch.QueryAsync(practice, "\ufffdlone", null, 10)).Single().Sequence.ShouldBe(odd.Sequence);
        odd.Patients.ShouldContain("nul\u0000");
        odd.User!.Length.ShouldBe(AccessLogStore.MaxText);
        odd.AccessPoint.ShouldBe("test\ufffd");
        (await scratch.SealAsync()).ShouldBe(appends.Count);
        (await scratch.VerifyAsync(TimeSpan.Zero)).ShouldBeNull();
        await new NpgsqlCommand($"DROP SCHEMA {AuditSchema.Schema} CASCADE", admin).ExecuteNonQueryAsync();
    }
}
