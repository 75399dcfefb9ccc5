using KbPathways.Projections.Database;
using Npgsql;
using KbPathways.Testing;

namespace KbPathways.Host.Tests;

public class EmbeddedPostgresTests
{
    [Fact]
    public async Task Given_no_server_When_started_Then_a_private_cluster_answers_and_is_reused_until_stopped()
    {
        using var scratch = new ScratchDirectory("test");
        var dir = scratch.Path;
        var first = await EmbeddedPostgres.StartAsync(dir);
        try
        {
            await using (var connection = new NpgsqlConnection(first.ConnectionString))
            {
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("select current_database()", connection);
                (await command.ExecuteScalarAsync()).ShouldBe(EmbeddedPostgres.Database);
            }
            var second = await EmbeddedPostgres.StartAsync(dir);
            second.Port.ShouldBe(first.Port);
        }
        catch
        {
            await first.StopAsync();
            throw;
        }
        await first.StopAsync();
        File.Exists(Path.Combine(dir, "postmaster.pid")).ShouldBeFalse();
    }
}
