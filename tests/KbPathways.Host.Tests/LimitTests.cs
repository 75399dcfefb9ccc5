using System.Net;
using System.Text;
using KbPathways.Projections.Database;
using KbPathways.Testing;

namespace KbPathways.Host.Tests;

public class LimitTests
{
    [Fact]
    public async Task Given_tight_limits_When_one_user_floods_Then_429_for_them_only_and_oversized_bodies_get_413()
    {
        using var scratch = new ScratchDirectory("limits");
        await using var postgres = await EmbeddedPostgres.StartAsync(scratch.Path);
        var (app, address) = await TestHost.StartAsync(postgres.ConnectionString,
            ["--Limits:Burst=5", "--Limits:RequestsPerSecond=1", "--Limits:MaxBodyBytes=10000"]);
        try
        {
            var flooder = app.Client(address, "praktijk-a", "huisarts");
            var other = app.Client(address, "praktijk-b", "huisarts");

            var flood = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => flooder.GetAsync("/api/pathways")));
            var limited = flood.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            limited.Count.ShouldBeGreaterThanOrEqualTo(20);
            limited[0].Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            (await other.GetAsync("/api/pathways")).StatusCode.ShouldBe(HttpStatusCode.OK);

            var big = "{\"patientId\":\"p\",\"pathway\":\"solk\",\"data\":{\"x\":\"" + new string('a', 20000) + "\"}}";
            var tooLarge = await other.PostAsync("/api/trajectories", new StringContent(big, Encoding.UTF8, "application/json"));
            tooLarge.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
            tooLarge.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
