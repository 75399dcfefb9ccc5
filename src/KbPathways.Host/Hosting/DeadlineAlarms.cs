using KbPathways.Domain.Trajectories;
using KbPathways.Projections;
using Marten;
using Wolverine;

namespace KbPathways.Host.Hosting;

/// <summary>The alarm clock for one armed deadline: a durable Wolverine scheduled message.</summary>
public sealed record DeadlineAlarm(Guid TrajectoryId, string Practice, string Name, string Track, DateTimeOffset DueAt);

/// <summary>
/// Schedules alarms for deadlines. Business time comes from <see cref="TimeProvider"/>; an alarm is scheduled after
/// the same span of real time, so a clock moved past a deadline makes its alarm ring at once.
/// </summary>
public sealed class DeadlineAlarms(BusinessClock clock)
{
    public async Task ScheduleAsync(IMessageBus bus, string practice, Guid id, IEnumerable<object> events)
    {
        foreach (var armed in events.OfType<DeadlineScheduled>())
            await ScheduleAsync(bus, new DeadlineAlarm(id, practice, armed.Name, armed.Track, armed.DueAt));
    }

    public Task ScheduleAsync(IMessageBus bus, DeadlineAlarm alarm)
    {
        var wait = alarm.DueAt - clock.Now;
        return wait <= TimeSpan.Zero ? bus.PublishAsync(alarm).AsTask() : bus.ScheduleAsync(alarm, DateTimeOffset.UtcNow + wait).AsTask();
    }
}

public static class DeadlineAlarmHandler
{
    public static async Task Handle(DeadlineAlarm alarm, TrajectoryService trajectories, IDocumentStore store, BusinessClock clock, DeadlineAlarms alarms, IMessageBus bus, CancellationToken ct)
    {
        var result = await trajectories.FireDeadlineAsync(store, clock, alarm.Practice, alarm.TrajectoryId,
            new DeadlineDue(alarm.Name, alarm.Track, alarm.DueAt), ct);
        if (result is not null) await alarms.ScheduleAsync(bus, alarm.Practice, alarm.TrajectoryId, result.Events);
    }
}

/// <summary>
/// At start-up, re-derives an alarm for every armed deadline from the store, so an alarm lost between a commit and
/// its scheduling (a crash) still rings. Duplicate alarms are harmless: the handler acts once per armed deadline.
/// </summary>
public sealed class DeadlineRecovery(IDocumentStore store, DeadlineAlarms alarms, IServiceScopeFactory scopes,
    IHostApplicationLifetime lifetime, ILogger<DeadlineRecovery> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var started = new TaskCompletionSource();
            await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
                await started.Task.WaitAsync(stoppingToken); // Wolverine accepts messages only once the host runs
            await Rearm(stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // Never take the host down: alarms can be re-armed at the next start; the deadlines themselves are events.
            logger.LogError("Re-arming deadline alarms failed: {ExceptionType}: {Message}", e.GetType().Name, e.Message);
        }
    }

    private async Task Rearm(CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var bus = scope.ServiceProvider.GetRequiredService<IMessageBus>();
        await using var session = store.QuerySession();
        var open = await session.Query<TrajectorySummary>().Where(t => !t.Completed).ToListAsync(stoppingToken);
        var count = 0;
        foreach (var t in open)
            foreach (var d in t.Deadlines)
            {
                await alarms.ScheduleAsync(bus, new DeadlineAlarm(t.Id, t.Practice, d.Name, d.Track, d.DueAt));
                count++;
            }
        logger.LogInformation("Re-armed {Count} deadline alarms for {Trajectories} open trajectories", count, open.Count);
    }
}
