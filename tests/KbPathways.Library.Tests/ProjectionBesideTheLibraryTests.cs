using System.Text.Json;
using JasperFx.Events;
using JasperFx.Events.Projections;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Trajectories;
using KbPathways.Projections;
using KbPathways.Projections.Database;
using KbPathways.Testing;
using Marten;
using Marten.Events.Aggregation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace KbPathways.Library.Tests;

/// <summary>
/// An application using the library may add its own Marten projections over the trajectory streams. The statements the
/// library queues into a command's transaction (the patient's key held during a start, the erasure's notice) must then
/// answer with no result set, or the projection's upsert behind them in Marten's batch reads theirs (it failed so
/// before: "Reading as 'System.Int64' is not supported for fields having DataTypeName 'uuid'").
/// </summary>
[Collection(EngineMeter.Collection)]
public class ProjectionBesideTheLibraryTests
{
    public sealed class StepCount
    {
        public Guid Id { get; set; }
        public int Events { get; set; }
        public string State { get; set; } = "";
    }

    public sealed class StepCountProjection : SingleStreamProjection<StepCount, Guid>
    {
        public override StepCount Evolve(StepCount? snapshot, Guid id, IEvent e)
        {
            var count = snapshot ?? new StepCount { Id = id };
            count.Events++;
            count.State = e.Data switch
            {
                TrajectoryStarted started => started.Tracks["main"],
                StepTaken { Track: "main" } step => step.To,
                _ => count.State,
            };
            return count;
        }
    }

    [Fact]
    public async Task Given_an_inline_projection_of_the_application_When_a_trajectory_starts_steps_and_its_patient_is_erased_Then_every_commit_succeeds()
    {
        using var scratch = new ScratchDirectory("projection");
        await using var postgres = await EmbeddedPostgres.StartAsync(scratch.Path);
        var definitions = PathwayLoader.Load("intake.yaml", """
            id: intake
            version: 1
            title: Intake
            roles: { poh: POH, huisarts: Huisarts }
            states:
              Nieuw:
                initial: true
                waits: false
                on: { gesprekGevoerd: { roles: [poh], to: Gesproken } }
              Gesproken:
                on: { afgerond: { roles: [poh], to: Klaar } }
              Klaar: { final: true, outcome: klaar }
            """).Definitions;
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddKbPathways(o =>
        {
            o.ConnectionString = postgres.ConnectionString;
            o.Definitions = definitions;
        }).ApplyAllDatabaseChangesOnStartup();
        builder.Services.ConfigureMarten(o => o.Projections.Add(new StepCountProjection(), ProjectionLifecycle.Inline));
        using var app = builder.Build();
        await app.StartAsync();
        var trajectories = app.Services.GetRequiredService<TrajectoryService>();
        var poh = new Caller("poh-1", new HashSet<string> { "poh" });

        var started = await trajectories.StartAsync("praktijk", poh, "patient-1", "intake", new Dictionary<string, JsonElement>());
        await trajectories.FireAsync("praktijk", started.Trajectory.Id, new FireTrigger("gesprekGevoerd", poh, new Dictionary<string, JsonElement>()));

        var store = app.Services.GetRequiredService<IDocumentStore>();
        await using (var session = store.QuerySession())
        {
            var count = await session.LoadAsync<StepCount>(started.Trajectory.Id);
            count.ShouldNotBeNull();
            count.State.ShouldBe("Gesproken");
            count.Events.ShouldBe((int)(await session.Events.FetchStreamStateAsync(started.Trajectory.Id))!.Version);
        }

        await app.Services.GetRequiredService<PatientService>().EraseAsync("praktijk", "patient-1", new Caller("ha-1", new HashSet<string> { "huisarts" }));
        await using (var session = store.QuerySession())
            (await trajectories.LoadAsync(session, "praktijk", started.Trajectory.Id)).ShouldBeNull();
        await app.StopAsync();
    }
}
