using System.Net;
using System.Net.Http.Json;
using KbPathways.Host.AccessLog;
using KbPathways.Host.Cli;
using KbPathways.Projections.Database;
using KbPathways.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace KbPathways.Host.Tests;

/// <summary>
/// A database superuser tampers with the access log of a host of its own (so no other test's log is touched): an
/// UPDATE, a DELETE, the newest records cut off, and the whole chain recomputed. The manager endpoint, the
/// <c>access-log verify</c> command and the host's health each name what was done.
/// </summary>
public sealed class AccessLogIntegrityTests : IAsyncLifetime
{
    private readonly ScratchDirectory scratch = new("integrity");
    private EmbeddedPostgres postgres = null!;
    private WebApplication app = null!;
    private Uri address = null!;
    private readonly string practice = HostFixture.NewPractice();

    public async Task InitializeAsync()
    {
        postgres = await EmbeddedPostgres.StartAsync(scratch.Path);
        (app, address) = await TestHost.StartAsync(postgres.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        await postgres.StopAsync();
        scratch.Dispose();
    }

    private AccessLogStore Store => app.Services.GetRequiredService<AccessLogStore>();

    private async Task Admin(string sql)
    {
        await using var admin = new NpgsqlConnection(postgres.AdminConnectionString);
        await admin.OpenAsync();
        await new NpgsqlCommand(sql, admin).ExecuteNonQueryAsync();
    }

    private async Task<long> Scalar(string sql)
    {
        await using var admin = new NpgsqlConnection(postgres.AdminConnectionString);
        await admin.OpenAsync();
        return Convert.ToInt64(await new NpgsqlCommand(sql, admin).ExecuteScalarAsync());
    }

    /// <summary>Until every record is sealed (the host seals every second).</summary>
    private async Task AllSealed()
    {
        for (var i = 0; i < 80 && await Store.VerifyAsync(TimeSpan.Zero) is not null; i++) await Task.Delay(100);
        (await Store.VerifyAsync(TimeSpan.Zero)).ShouldBeNull();
    }

    private async Task<(int Exit, string Output)> Command()
    {
        var output = new StringWriter();
        var exit = await KbCommandLine.RunAsync(["access-log", "verify", $"--ConnectionStrings:Postgres={postgres.ConnectionString}",
            $"--Pathways:Path={Path.Combine(HostFixture.RepoRoot, "pathways")}", $"--AccessLog:HeadFile={Store.Signing.HeadFile}",
            "--Logging:LogLevel:Default=Warning"], output, output);
        return (exit, output.ToString());
    }

    private async Task<System.Text.Json.JsonElement> Endpoint()
    {
        var answer = await app.Client(address, practice, "praktijkmanager").GetAsync("/api/access-log/verify");
        answer.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await answer.Body();
    }

    private async Task<string> Health() =>
        (await (await new HttpClient { BaseAddress = address }.GetAsync("/health")).Body()).GetProperty("status").GetString()!;

    [Fact]
    public async Task Given_an_intact_log_When_a_superuser_updates_deletes_cuts_and_rewrites_Then_each_is_named()
    {
        var huisarts = app.Client(address, practice, "huisarts");
        for (var i = 0; i < 6; i++) await huisarts.GetAsync($"/api/trajectories/{await huisarts.Start("solk", $"p-{i}")}");
        await AllSealed();

        // Untouched: each says so.
        (await Endpoint()).GetProperty("intact").GetBoolean().ShouldBeTrue();
        var (exit, output) = await Command();
        exit.ShouldBe(0, output);
        output.ShouldContain("access log intact");
        await AllSealed();
        (await Health()).ShouldBe("ready");

        // An UPDATE of a sealed record.
        var changed = await Scalar($"SELECT seq FROM {AuditSchema.Log} WHERE event_type = 'trajectory.read' ORDER BY seq LIMIT 1");
        await Admin($"UPDATE {AuditSchema.Log} SET user_id = 'iemand-anders' WHERE seq = {changed}");
        var found = await Endpoint();
        found.GetProperty("intact").GetBoolean().ShouldBeFalse();
        found.GetProperty("brokenAt").GetInt64().ShouldBe(changed);
        found.GetProperty("problem").GetString().ShouldBe("record changed");
        (await Health()).ShouldBe("degraded");
        (exit, output) = await Command();
        exit.ShouldBe(1);
        output.ShouldContain($"access log BROKEN at record {changed}: record changed");
        await Admin($"UPDATE {AuditSchema.Log} SET user_id = 'user-huisarts' WHERE seq = {changed}");
        await AllSealed();
        (await Endpoint()).GetProperty("intact").GetBoolean().ShouldBeTrue();
        (await Health()).ShouldBe("ready");

        // A DELETE of a sealed record.
        var removed = changed + 2;
        await Admin($"CREATE TABLE kept AS SELECT * FROM {AuditSchema.Log} WHERE seq = {removed}; DELETE FROM {AuditSchema.Log} WHERE seq = {removed}");
        (exit, output) = await Command();
        exit.ShouldBe(1);
        output.ShouldContain($"access log BROKEN at record {removed}: record removed");
        await Admin($"INSERT INTO {AuditSchema.Log} OVERRIDING SYSTEM VALUE SELECT * FROM kept; DROP TABLE kept");
        await AllSealed();

        // The newest three records cut off with their seals: the chain is whole, but shorter than its signed head.
        var last = await Scalar($"SELECT max(position) FROM {AuditSchema.Seal}");
        await Admin($"""
            BEGIN; LOCK TABLE {AuditSchema.Seal} IN EXCLUSIVE MODE;
            CREATE TABLE cut_log AS SELECT l.* FROM {AuditSchema.Log} l JOIN {AuditSchema.Seal} s ON s.seq = l.seq WHERE s.position > {last - 3};
            CREATE TABLE cut_seal AS SELECT * FROM {AuditSchema.Seal} WHERE position > {last - 3};
            DELETE FROM {AuditSchema.Log} WHERE seq IN (SELECT seq FROM cut_seal); DELETE FROM {AuditSchema.Seal} WHERE position > {last - 3};
            COMMIT;
            """);
        (exit, output) = await Command();
        exit.ShouldBe(1);
        output.ShouldContain($"records removed: the signed head names seal {last}");
        await Admin($"""
            INSERT INTO {AuditSchema.Log} OVERRIDING SYSTEM VALUE SELECT * FROM cut_log; INSERT INTO {AuditSchema.Seal} SELECT * FROM cut_seal;
            DROP TABLE cut_log; DROP TABLE cut_seal;
            """);
        await AllSealed();

        // A record changed and the SHA-256 chain recomputed from there on, as a superuser can: the signatures do not follow.
        var rewritten = await Scalar($"SELECT seq FROM {AuditSchema.Log} WHERE event_type = 'trajectory.start' ORDER BY seq OFFSET 2 LIMIT 1");
        await Rewrite(rewritten);
        (exit, output) = await Command();
        exit.ShouldBe(1);
        output.ShouldContain($"access log BROKEN at record {rewritten}: record changed (the chain was recomputed");

        // And the signatures removed too: the first seal is named, for the head says every seal is signed.
        await Admin($"UPDATE {AuditSchema.Seal} SET mac = NULL");
        var first = await Scalar($"SELECT seq FROM {AuditSchema.Seal} WHERE position = 1");
        (exit, output) = await Command();
        exit.ShouldBe(1);
        output.ShouldContain($"access log BROKEN at record {first}: seal not signed");
    }

    [Fact]
    public async Task Given_the_log_refusing_records_When_a_read_and_a_write_arrive_Then_503_saying_nothing_was_changed_and_nothing_is()
    {
        var huisarts = app.Client(address, practice, "huisarts");
        await huisarts.Start("solk", "p-503");
        await Admin($"REVOKE INSERT ON {AuditSchema.Log} FROM {EmbeddedPostgres.AppRole}");
        try
        {
            foreach (var answer in new[]
                     {
                         await huisarts.GetAsync("/api/worklist"),
                         await huisarts.PostAsJsonAsync("/api/patients/p-503/kb-mark", new { reason = "x" }),
                     })
            {
                answer.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
                var problem = await answer.Body();
                problem.GetProperty("detail").GetString()!.ShouldContain("nothing was changed and no patient data was returned");
                problem.TryGetProperty("items", out _).ShouldBeFalse();
            }
        }
        finally
        {
            await Admin($"GRANT INSERT ON {AuditSchema.Log} TO {EmbeddedPostgres.AppRole}");
        }
        var patient = await (await huisarts.GetAsync("/api/patients/p-503")).Body();
        patient.GetProperty("kbMarked").GetBoolean().ShouldBeFalse("the mark's transaction held its record, and rolled back with it");
    }

    /// <summary>Sets another user on record <paramref name="seq"/> and recomputes every later seal's chain hash.</summary>
    private async Task Rewrite(long seq)
    {
        await using var admin = new NpgsqlConnection(postgres.AdminConnectionString);
        await admin.OpenAsync();
        await using var tx = await admin.BeginTransactionAsync();
        await new NpgsqlCommand($"LOCK TABLE {AuditSchema.Seal} IN EXCLUSIVE MODE; UPDATE {AuditSchema.Log} SET user_id = 'iemand-anders' WHERE seq = {seq}", admin, tx)
            .ExecuteNonQueryAsync();
        var records = (await Store.QueryAsync(practice, null, null, 100_000)).ToDictionary(r => r.Sequence);
        var seals = new List<(long Position, long Seq)>();
        await using (var reader = await new NpgsqlCommand($"SELECT position, seq FROM {AuditSchema.Seal} ORDER BY position", admin, tx).ExecuteReaderAsync())
            while (await reader.ReadAsync()) seals.Add((reader.GetInt64(0), reader.GetInt64(1)));
        var previous = "";
        foreach (var (position, sealed_) in seals)
        {
            var record = records[sealed_];
            if (sealed_ == seq) record = record with { User = "iemand-anders" };
            var hash = AccessLogStore.ChainHash(record, position, previous);
            await using var update = new NpgsqlCommand($"UPDATE {AuditSchema.Seal} SET prev_hash = @prev, hash = @hash WHERE position = @position", admin, tx);
            update.Parameters.AddWithValue("prev", previous);
            update.Parameters.AddWithValue("hash", hash);
            update.Parameters.AddWithValue("position", position);
            await update.ExecuteNonQueryAsync();
            previous = hash;
        }
        await tx.CommitAsync();
    }
}
