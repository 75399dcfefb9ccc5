using System.Text.Json;
using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Trajectories;
using KbPathways.Projections;
using KbPathways.Projections.Database;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using KbPathways.Testing;

namespace KbPathways.Library.Tests;

[Collection(EngineMeter.Collection)]
public class InProcessTests
{
    private const string Pathway = """
        id: intake
        version: 1
        title: Intake
        roles: { poh: POH }
        fields: { notitie: { type: text } }
        states:
          Nieuw:
            initial: true
            waits: false
            on: { gesprekGevoerd: { roles: [poh], to: Klaar, requires: [notitie] } }
          Klaar: { final: true, outcome: klaar }
        """;

    [Fact]
    public async Task Given_an_application_using_the_library_When_it_drives_a_trajectory_Then_the_events_are_in_the_store()
    {
        using var scratch = new ScratchDirectory("lib");
        await using var postgres = await EmbeddedPostgres.StartAsync(scratch.Path);
        var definitions = PathwayLoader.Load("intake.yaml", Pathway).Definitions;

        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddKbPathways(o =>
        {
            o.ConnectionString = postgres.ConnectionString;
            o.Definitions = definitions;
        }).ApplyAllDatabaseChangesOnStartup();
        using var app = builder.Build();
        await app.StartAsync();

        var measured = new List<(string Name, long Value, Dictionary<string, object?> Tags)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == EngineMetrics.MeterName) l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            lock (measured) measured.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
        });
        listener.Start();

        var trajectories = app.Services.GetRequiredService<TrajectoryService>();
        var poh = new Caller("poh-1", new HashSet<string> { "poh" });
        var started = await trajectories.StartAsync("praktijk", poh, "patient-9", "intake", new Dictionary<string, JsonElement>());
        var done = await trajectories.FireAsync("praktijk", started.Trajectory.Id,
            new FireTrigger("gesprekGevoerd", poh, new Dictionary<string, JsonElement> { ["notitie"] = JsonSerializer.SerializeToElement("ok") }));

        done.Trajectory.Completed.ShouldBeTrue();
        await Should.ThrowAsync<PathwayRuleException>(() => trajectories.FireAsync("praktijk", started.Trajectory.Id,
            new FireTrigger("gesprekGevoerd", poh, new Dictionary<string, JsonElement>())));
        lock (measured)
        {
            measured.Select(m => m.Name).ShouldBe(["kbpathways.trajectories.started", "kbpathways.steps", "kbpathways.rejections"]);
            measured[1].Tags["trigger"].ShouldBe("gesprekGevoerd");
            measured[2].Tags["kind"].ShouldBe("NotPermitted");
            measured.SelectMany(m => m.Tags.Values).ShouldNotContain(v => Equals(v, "patient-9") || Equals(v, "praktijk") || Equals(v, "poh-1"));
        }
        await using var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var stream = await session.Events.FetchStreamAsync(started.Trajectory.Id);
        stream.Select(e => e.Data.GetType().Name).ShouldBe(["TrajectoryStarted", "StepTaken", "TrajectoryCompleted"]);
        (await trajectories.LoadAsync(session, "andere-praktijk", started.Trajectory.Id)).ShouldBeNull();
        await app.StopAsync();
    }
}

/// <summary>The engine's meter is process-wide: tests that drive trajectories run one at a time, so one's listener hears only its own.</summary>
public static class EngineMeter
{
    public const string Collection = "engine meter";
}
