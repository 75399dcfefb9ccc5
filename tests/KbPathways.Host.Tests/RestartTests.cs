using System.Net.Http.Json;
using System.Text.Json;
using KbPathways.Projections.Database;
using KbPathways.Host.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;
using KbPathways.Testing;

namespace KbPathways.Host.Tests;

/// <summary>A clock the test moves; the host reads business time only from <see cref="TimeProvider"/>.</summary>
public sealed class MovableClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset now = start;
    public override DateTimeOffset GetUtcNow() => now;
    public void Advance(TimeSpan span) => now += span;
}

public class RestartTests : IAsyncLifetime
{
    private readonly ScratchDirectory scratch = new("restart");
    private readonly MovableClock clock = new(DateTimeOffset.UtcNow);
    private EmbeddedPostgres postgres = null!;

    public async Task InitializeAsync()
    {
        postgres = await EmbeddedPostgres.StartAsync(scratch.Path);
    }

    public async Task DisposeAsync()
    {
        await postgres.StopAsync();
        scratch.Dispose();
    }

    private async Task<(WebApplication App, HttpClient Client)> StartHost()
    {
        var (app, address) = await TestHost.StartAsync(postgres.ConnectionString,
            services: s => s.AddSingleton(new KbPathways.Projections.BusinessClock(clock)));
        return (app, app.Client(address, "praktijk-t", "huisarts"));
    }

    private static async Task<List<JsonElement>> Fired(HttpClient client, string id, string trigger) =>
        [.. (await (await client.GetAsync($"/api/trajectories/{id}/history")).Body()).EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "StepTaken" && e.GetProperty("trigger").GetString() == trigger)];

    [Fact]
    public async Task Given_an_armed_deadline_When_the_host_restarts_after_the_clock_passed_it_Then_it_fires_once()
    {
        var (first, client) = await StartHost();
        var created = await (await client.PostAsJsonAsync("/api/trajectories", new { patientId = "p1", pathway = "solk" })).Body();
        var id = created.GetProperty("id").GetString()!;
        var due = created.GetProperty("deadlines")[0].GetProperty("dueAt").GetDateTimeOffset();
        await first.StopAsync();
        await first.DisposeAsync();

        clock.Advance(TimeSpan.FromDays(29));
        var (second, again) = await StartHost();
        try
        {
            List<JsonElement> fired = [];
            for (var i = 0; i < 100 && fired.Count == 0; i++)
            {
                await Task.Delay(200);
                fired = await Fired(again, id, "werkhypotheseVerlopen");
            }
            fired.Count.ShouldBe(1);
            fired[0].GetProperty("actor").GetProperty("role").GetString().ShouldBe("systeem");

            // The same alarm delivered twice more, and an early one for a deadline that is not due: no further effect.
            await using var scope = second.Services.CreateAsyncScope();
            var bus = scope.ServiceProvider.GetRequiredService<IMessageBus>();
            await bus.InvokeAsync(new DeadlineAlarm(Guid.Parse(id), "praktijk-t", "werkhypotheseTermijn", "main", due));
            await bus.InvokeAsync(new DeadlineAlarm(Guid.Parse(id), "praktijk-t", "werkhypotheseTermijn", "main", due));
            (await Fired(again, id, "werkhypotheseVerlopen")).Count.ShouldBe(1);
            var version = (await (await again.GetAsync($"/api/trajectories/{id}")).Body()).GetProperty("streamVersion").GetInt32();
            await bus.InvokeAsync(new DeadlineAlarm(Guid.Parse(id), "praktijk-t", "werkhypotheseTermijn", "main", due.AddDays(60)));
            (await (await again.GetAsync($"/api/trajectories/{id}")).Body()).GetProperty("streamVersion").GetInt32().ShouldBe(version);
        }
        finally
        {
            await second.StopAsync();
            await second.DisposeAsync();
        }
    }

    [Fact]
    public async Task Given_a_trajectory_on_a_version_only_the_store_knows_When_the_host_restarts_Then_it_still_runs()
    {
        var (first, client) = await StartHost();
        var id = (await (await client.PostAsJsonAsync("/api/trajectories", new { patientId = "p2", pathway = "solk" })).Body()).GetProperty("id").GetString()!;
        var v2 = (await File.ReadAllTextAsync(Path.Combine(HostFixture.RepoRoot, "pathways", "solk.yaml"))).Replace("version: 1", "version: 2");
        var manager = first.Client(client.BaseAddress!, "praktijk-t", "praktijkmanager");
        (await manager.PostAsJsonAsync("/api/migrations", new { candidate = v2, dryRun = false })).EnsureSuccessStatusCode();
        await first.StopAsync();
        await first.DisposeAsync();

        var (second, again) = await StartHost();
        try
        {
            var step = await again.Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" } });
            step.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, await step.Content.ReadAsStringAsync());
            (await step.Body()).GetProperty("definitionVersion").GetInt32().ShouldBe(2);
        }
        finally
        {
            await second.StopAsync();
            await second.DisposeAsync();
        }
    }
}
