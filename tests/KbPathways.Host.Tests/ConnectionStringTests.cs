using KbPathways.Host.Hosting;
using Npgsql;

namespace KbPathways.Host.Tests;

public class ConnectionStringTests
{
    [Fact]
    public void Given_a_connection_string_without_auto_prepare_Then_the_host_turns_it_on()
    {
        var tuned = new NpgsqlConnectionStringBuilder(KbPathwaysApp.WithPreparedStatements("Host=127.0.0.1;Port=5432;Username=kb;Database=kb"));
        tuned.MaxAutoPrepare.ShouldBe(100);
        tuned.AutoPrepareMinUsages.ShouldBe(2);
        tuned.Host.ShouldBe("127.0.0.1");
        tuned.Database.ShouldBe("kb");
    }

    [Fact]
    public void Given_a_connection_string_that_sets_auto_prepare_Then_its_choice_stays()
    {
        var kept = new NpgsqlConnectionStringBuilder(KbPathwaysApp.WithPreparedStatements("Host=db;Max Auto Prepare=0"));
        kept.MaxAutoPrepare.ShouldBe(0);
    }
}
