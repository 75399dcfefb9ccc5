using System.Net;
using KbPathways.Host.Hosting;
using KbPathways.Projections;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace KbPathways.Host.Tests;

/// <summary>
/// Stored answers to requests with an Idempotency-Key expire after Idempotency:Retention (P2D): a durable, recurring
/// sweep removes them, one chain of runs however often hosts start.
/// </summary>
[Collection(HostCollection.Name)]
public class IdempotencyExpiryTests(HostFixture host) : IAsyncLifetime
{
    private readonly string practice = HostFixture.NewPractice();
    private readonly MovableClock clock = new(DateTimeOffset.UtcNow);
    private WebApplication app = null!;
    private Uri address = null!;

    public async Task InitializeAsync() => (app, address) = await TestHost.StartAsync(host.ConnectionString,
        services: s => s.AddSingleton(new BusinessClock(clock)));

    public async Task DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task<int> Records(string key)
    {
        await using var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession();
        return await session.Query<IdempotencyRecord>().CountAsync(r => r.Id.EndsWith(":" + key));
    }

    private async Task Sweep()
    {
        await using var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var job = await session.LoadAsync<RecurringJob>(IdempotencyExpiryHandler.JobId);
        job.ShouldNotBeNull("the host started the sweep's chain");
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(new IdempotencyExpiry(job.NextRun));
    }

    [Fact]
    public async Task Given_a_stored_answer_When_the_sweep_runs_before_and_after_the_retention_Then_it_is_kept_then_removed()
    {
        var client = app.Client(address, practice, "huisarts");
        var id = await client.Start("solk", "ie-1");
        var key = Guid.NewGuid().ToString("N");
        (await client.Fire(id, new { trigger = "uitvallen", data = new { reden = "verhuisd" } }, key)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Records(key)).ShouldBe(1);

        clock.Advance(TimeSpan.FromDays(1));
        await Sweep();
        (await Records(key)).ShouldBe(1);                     // within P2D: a retry still gets the same answer
        (await client.Fire(id, new { trigger = "uitvallen", data = new { reden = "verhuisd" } }, key)).StatusCode.ShouldBe(HttpStatusCode.OK);

        clock.Advance(TimeSpan.FromDays(1.5));
        await Sweep();
        (await Records(key)).ShouldBe(0);                     // past P2D: gone

        await using var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await session.LoadAsync<RecurringJob>(IdempotencyExpiryHandler.JobId))!.NextRun.ShouldBeGreaterThan(DateTimeOffset.UtcNow.AddMinutes(50));
    }

    [Fact]
    public async Task Given_a_stale_duplicate_run_When_handled_Then_it_does_nothing_and_the_chain_stays_one()
    {
        await using var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var before = (await session.LoadAsync<RecurringJob>(IdempotencyExpiryHandler.JobId))!.NextRun;
        await using var scope = app.Services.CreateAsyncScope();

        await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(new IdempotencyExpiry(before.AddHours(-3)));

        await using var again = app.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await again.LoadAsync<RecurringJob>(IdempotencyExpiryHandler.JobId))!.NextRun.ShouldBe(before);
    }
}
