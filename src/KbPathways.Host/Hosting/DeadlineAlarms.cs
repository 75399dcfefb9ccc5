using KbPathways.Domain.Trajectories;
using KbPathways.Projections;
using Marten;
using Wolverine;
using Wolverine.Marten;
using Wolverine.Runtime;

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

/// <summary>
/// A command that arms a deadline stores its alarm in Wolverine's outbox in the command's own transaction: the events
/// and their alarms commit together or not at all, so no crash can leave an armed deadline without an alarm.
/// </summary>
public sealed class DeadlineAlarmParticipant(IWolverineRuntime runtime, DeadlineAlarms alarms) : ICommandParticipant
{
    public async ValueTask EnlistAsync(IDocumentSession session, string practice, CommandResult result, CancellationToken ct)
    {
        if (!result.Events.OfType<DeadlineScheduled>().Any()) return;
        await alarms.ScheduleAsync(new MartenOutbox(runtime, session), practice, result.Trajectory.Id, result.Events);
    }
}

public static class DeadlineAlarmHandler
{
    public static Task Handle(DeadlineAlarm alarm, TrajectoryService trajectories, CancellationToken ct) =>
        trajectories.FireDeadlineAsync(alarm.Practice, alarm.TrajectoryId, new DeadlineDue(alarm.Name, alarm.Track, alarm.DueAt), ct);
}

/// <summary>
/// At start-up, rings the alarm of every armed deadline that is already due. Alarms are scheduled in real time, so
/// this covers a business clock that moved past them, and stores written before alarms went through the outbox.
/// Duplicate alarms (two hosts starting) are harmless: the handler acts once per armed deadline.
/// </summary>
public sealed class DeadlineRecovery(IDocumentStore store, DeadlineAlarms alarms, BusinessClock clock, IServiceScopeFactory scopes,
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
        var now = clock.Now;
        var count = 0;
        foreach (var t in open)
            foreach (var d in t.Deadlines.Where(d => d.DueAt <= now))
            {
                await alarms.ScheduleAsync(bus, new DeadlineAlarm(t.Id, t.Practice, d.Name, d.Track, d.DueAt));
                count++;
            }
        logger.LogInformation("Rang {Count} overdue deadline alarms of {Trajectories} open trajectories", count, open.Count);
    }
}
