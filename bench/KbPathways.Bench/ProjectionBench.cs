using JasperFx.Events;
using JasperFx.Events.Projections;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Trajectories;
using KbPathways.Host.Hosting;
using KbPathways.Host.Identity;
using Marten;
using Marten.Events.Aggregation;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace KbPathways.Bench;

/// <summary>
/// Issue 22, item 6: what Marten's inline single-stream projection costs the step path. The host is built twice per
/// round — as it ships, and with an inline projection of a small per-trajectory document (state, number of events,
/// time; no clinical values) evolved from the same events — and the API runs at concurrency 8 against each, the order
/// alternating per round. The projection is an addition beside the summary, not a replacement (docs/performance.md
/// says why the summary is not one), so the difference is what the mechanism costs a step: Marten loads the projected
/// document of each stream a commit touches, evolves it and upserts it.
/// <c>dotnet run -c Release --project bench/KbPathways.Bench -- --projection [--seconds 10] [--rounds 4]</c>
/// </summary>
public static class ProjectionBench
{
    public sealed class StepMirror
    {
        public Guid Id { get; set; }
        public string State { get; set; } = "";
        public int Events { get; set; }
        public DateTimeOffset LastChangedAt { get; set; }
    }

    public sealed class StepMirrorProjection : SingleStreamProjection<StepMirror, Guid>
    {
        public override StepMirror Evolve(StepMirror? snapshot, Guid id, IEvent e)
        {
            var mirror = snapshot ?? new StepMirror { Id = id };
            mirror.Events++;
            mirror.LastChangedAt = e.Timestamp;
            mirror.State = e.Data switch
            {
                TrajectoryStarted started => started.Tracks[PathwayDefinition.MainTrack],
                StepTaken { Track: PathwayDefinition.MainTrack } step => step.To,
                _ => mirror.State,
            };
            return mirror;
        }
    }

    public static async Task RunAsync(string connection, string pathways, int seconds, int rounds, Report report)
    {
        var results = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        // Round 0 warms the machine (JIT, PostgreSQL's caches: the first run was 40 % slower) and is not counted.
        for (var round = 0; round <= rounds; round++)
            foreach (var inline in round % 2 == 0 ? new[] { false, true } : [true, false])
            {
                var app = await KbPathwaysApp.BuildAsync(["--environment", "Development"], builder =>
                {
                    builder.WebHost.UseUrls("http://127.0.0.1:0");
                    builder.Configuration["ConnectionStrings:Postgres"] = connection;
                    builder.Configuration["Pathways:Path"] = pathways;
                    builder.Configuration["Logging:LogLevel:Default"] = "Warning";
                    builder.Configuration["Limits:RequestsPerSecond"] = "1000000";
                    builder.Configuration["Limits:Burst"] = "1000000";
                    if (inline) builder.Services.ConfigureMarten(o => o.Projections.Add(new StepMirrorProjection(), ProjectionLifecycle.Inline));
                });
                await app.StartAsync();
                var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
                var auth = app.Services.GetRequiredService<AuthOptions>();
                await Api.RunAsync(address, auth, $"bench-warm-{round}-{inline}", 8, TimeSpan.FromSeconds(3));
                var measured = await Api.RunAsync(address, auth, $"bench-projection-{round}-{inline}", 8, TimeSpan.FromSeconds(seconds));
                if (inline)
                {
                    // The projection ran: the documents are there.
                    await using var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession();
                    if (await session.Query<StepMirror>().CountAsync() == 0) throw new InvalidOperationException("the inline projection wrote nothing");
                }
                if (round > 0) results[inline].Add(measured.PerSecond);
                Console.Error.WriteLine($"round {round}{(round == 0 ? " (warm-up)" : "")}, {(inline ? "with an inline projection" : "as shipped")}: {measured.PerSecond:0} steps/s ({measured.Latency})");
                await app.StopAsync();
                await app.DisposeAsync();
            }
        string Each(bool inline) => string.Join(" / ", results[inline].Select(r => r.ToString("0", System.Globalization.CultureInfo.InvariantCulture)));
        report.Add("projection", "steps over HTTP, concurrency 8, as shipped (mean of the rounds)", results[false].Average(), "steps/s", Each(false));
        report.Add("projection", "the same with a Marten inline single-stream projection beside the summary", results[true].Average(), "steps/s", Each(true));
        report.Add("projection", "with the projection / as shipped", results[true].Average() / results[false].Average(), "×", "");
    }
}
