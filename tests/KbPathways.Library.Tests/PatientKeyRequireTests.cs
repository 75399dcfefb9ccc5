using KbPathways.Projections.Database;
using KbPathways.Projections.Privacy;
using KbPathways.Testing;
using Npgsql;

namespace KbPathways.Library.Tests;

/// <summary>A start holds its patient's key row until it commits, and fails in a way the start recognises when the key is gone.</summary>
public class PatientKeyRequireTests
{
    [Fact]
    public async Task Given_a_key_When_required_Then_nothing_is_answered_and_once_gone_the_failure_is_recognised_as_a_missing_key()
    {
        using var scratch = new ScratchDirectory("require");
        await using var postgres = await EmbeddedPostgres.StartAsync(scratch.Path);
        using var ring = new PatientKeyRing(postgres.ConnectionString, "kbpathways");
        var key = await ring.GetOrCreateAsync("praktijk", "patient-1");
        var (sql, parameters) = ring.RequireCommand(key);
        var statement = sql.Replace("?", "$1");

        await using var db = new NpgsqlConnection(postgres.ConnectionString);
        await db.OpenAsync();
        await using (var require = new NpgsqlCommand(statement, db) { Parameters = { new() { Value = parameters[0] } } })
        await using (var reader = await require.ExecuteReaderAsync())
            reader.FieldCount.ShouldBe(0); // no result set for the statements queued behind it in a Marten batch

        await new NpgsqlCommand($"DELETE FROM kbpathways.patient_keys WHERE pseudonym = '{key.Pseudonym}'", db).ExecuteNonQueryAsync();
        var gone = await Should.ThrowAsync<PostgresException>(async () =>
        {
            await using var require = new NpgsqlCommand(statement, db) { Parameters = { new() { Value = parameters[0] } } };
            await require.ExecuteNonQueryAsync();
        });
        PatientKeyRing.IsMissingKey(gone).ShouldBeTrue();
        PatientKeyRing.IsMissingKey(new PostgresException("other", "ERROR", "ERROR", PostgresErrorCodes.DivisionByZero)).ShouldBeFalse();
    }
}
