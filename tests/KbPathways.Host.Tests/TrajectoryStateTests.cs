using System.Net;
using KbPathways.Domain.Trajectories;
using KbPathways.Projections;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace KbPathways.Host.Tests;

/// <summary>
/// A host decides the next command on the state it last wrote (<see cref="TrajectoryStates"/>) instead of reading the
/// stream. That state can be behind — another host stepped, an erasure or migration appended — and these tests put an
/// old state in memory on purpose: a command must still be decided as the stream says.
/// </summary>
[Collection(HostCollection.Name)]
public class TrajectoryStateTests(HostFixture host)
{
    private static readonly object Werkhypothese = new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" } };
    private static readonly object Ernst = new { trigger = "ernstVastgesteld", data = new { klachtenclusters = 3, beperking = "matig", duurWeken = 10 } };

    [Fact]
    public async Task Given_this_host_remembers_an_old_state_When_steps_are_fired_Then_each_is_decided_as_the_stream_says()
    {
        var practice = HostFixture.NewPractice();
        var client = host.Client(practice, "huisarts");
        var id = await client.Start("solk", "mem-1");
        var states = host.Services.GetRequiredService<TrajectoryStates>();
        var started = states.Find(Guid.Parse(id)).ShouldNotBeNull("a start is remembered for the next step");
        started.State.ShouldBe("Gesignaleerd");

        var first = await (await client.Fire(id, Werkhypothese)).Body();
        states.Find(Guid.Parse(id))!.Version.ShouldBe(first.GetProperty("streamVersion").GetInt32(), "each committed step is remembered");

        // Valid only on the newer state: the old one in memory refuses it, so the stream decides, and it is taken.
        states.Remember(started, states.Epoch);
        var second = await client.Fire(id, Ernst);
        second.StatusCode.ShouldBe(HttpStatusCode.OK, await second.Content.ReadAsStringAsync());
        (await second.Body()).GetProperty("state").GetString().ShouldBe("Matig");

        // Valid only on the old state: decided on it, the append names an old version, the store refuses, and the
        // stream refuses the step too. Nothing is appended.
        var before = await StreamVersion(id);
        states.Remember(started, states.Epoch);
        var stale = await client.Fire(id, Werkhypothese);
        stale.StatusCode.ShouldBe(HttpStatusCode.Conflict, await stale.Content.ReadAsStringAsync());
        (await stale.Body()).GetProperty("detail").GetString().ShouldBe("'werkhypotheseVastgelegd' is not possible in state 'Matig'");
        (await StreamVersion(id)).ShouldBe(before);
        (await (await client.GetAsync($"/api/trajectories/{id}")).Body()).GetProperty("state").GetString().ShouldBe("Matig");
    }

    [Fact]
    public async Task Given_this_host_remembers_a_state_before_a_deadline_was_armed_When_its_alarm_rings_Then_the_deadline_fires()
    {
        var practice = HostFixture.NewPractice();
        var client = host.Client(practice, "huisarts");
        var id = await client.Start("solk", "mem-2");
        (await client.Fire(id, Werkhypothese)).EnsureSuccessStatusCode();
        (await client.Fire(id, Ernst)).EnsureSuccessStatusCode();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        var states = new TrajectoryStates(8);
        var clock = new MovableClock(DateTimeOffset.UtcNow);
        var service = ActivatorUtilities.CreateInstance<TrajectoryService>(host.Services, states, new BusinessClock(clock));
        Trajectory beforeIntake;
        await using (var session = store.QuerySession())
            beforeIntake = (await service.LoadAsync(session, practice, Guid.Parse(id)))!;
        (await client.Fire(id, new { trigger = "verwezenNaarPohGgz", data = new { intakeDatum = "2026-11-30", vastgesteldMet = new[] { "pohGgz" } } })).EnsureSuccessStatusCode();
        ScheduledDeadline evaluatie;
        await using (var session = store.QuerySession())
            evaluatie = (await service.LoadAsync(session, practice, Guid.Parse(id)))!.Deadlines.Single(d => d.Name == "evaluatie");

        // This "host" last saw the trajectory before the intake armed the deadline.
        states.Remember(beforeIntake, states.Epoch);
        clock.Advance(evaluatie.DueAt - clock.GetUtcNow() + TimeSpan.FromMinutes(1));
        var fired = await service.FireDeadlineAsync(practice, Guid.Parse(id), new DeadlineDue(evaluatie.Name, evaluatie.Track, evaluatie.DueAt));

        fired.ShouldNotBeNull("the stream has the deadline armed and due, whatever this host remembered");
        fired.Events.OfType<StepTaken>().Single().Trigger.ShouldBe("evaluatieVerlopen");
        states.Find(Guid.Parse(id))!.Version.ShouldBe(fired.Trajectory.Version);
        (await service.FireDeadlineAsync(practice, Guid.Parse(id), new DeadlineDue(evaluatie.Name, evaluatie.Track, evaluatie.DueAt)))
            .ShouldBeNull("the same alarm again has nothing to do");
    }

    private async Task<long> StreamVersion(string id)
    {
        await using var session = host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        return (await session.Events.FetchStreamStateAsync(Guid.Parse(id)))!.Version;
    }
}
