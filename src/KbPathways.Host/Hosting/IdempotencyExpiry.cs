using KbPathways.Domain.Pathways.Model;
using KbPathways.Projections;
using Marten;
using Wolverine;

namespace KbPathways.Host.Hosting;

/// <summary>
/// How long a stored answer to a request with an <c>Idempotency-Key</c> is kept (<c>Idempotency:Retention</c>, at least
/// a day, P2D by default: a client retries within that), and how often expired ones are removed (<c>Idempotency:SweepEvery</c>).
/// </summary>
public sealed class IdempotencyOptions
{
    public string Retention { get; set; } = "P2D";
    public string SweepEvery { get; set; } = "PT1H";

    public IsoPeriod RetentionPeriod => Period(Retention);
    public IsoPeriod SweepPeriod => Period(SweepEvery);

    /// <summary>What is wrong with these settings, per key; empty when all is well.</summary>
    public IEnumerable<string> Problems()
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        if (!IsoPeriod.TryParse(Retention, out var retention)) yield return $"Idempotency:Retention '{Retention}' is not an ISO 8601 period (e.g. P2D)";
        else if (retention.AddTo(start) - start < TimeSpan.FromDays(1)) yield return $"Idempotency:Retention '{Retention}' must be at least a day (P1D): clients retry within that";
        if (!IsoPeriod.TryParse(SweepEvery, out var sweep)) yield return $"Idempotency:SweepEvery '{SweepEvery}' is not an ISO 8601 period (e.g. PT1H)";
        else if (sweep.AddTo(start) - start < TimeSpan.FromMinutes(1)) yield return $"Idempotency:SweepEvery '{SweepEvery}' must be at least a minute";
    }

    private static IsoPeriod Period(string text) =>
        IsoPeriod.TryParse(text, out var period) ? period : throw new ArgumentException($"'{text}' is not an ISO 8601 period");
}

/// <summary>The next sweep of expired idempotency records, for the run planned at <see cref="Slot"/>.</summary>
public sealed record IdempotencyExpiry(DateTimeOffset Slot);

/// <summary>
/// Which run of a recurring job is the current one: a message for another slot is a stale duplicate (two hosts starting,
/// a restart) and does nothing, so the chain of scheduled runs stays one however often hosts start.
/// </summary>
public sealed class RecurringJob
{
    public string Id { get; set; } = "";
    public DateTimeOffset NextRun { get; set; }
}

/// <summary>
/// Removes idempotency records older than the retention, then schedules its next run. The runs are durable Wolverine
/// scheduled messages (they survive a restart); <see cref="IdempotencyExpiryStarter"/> starts the chain when there is none.
/// </summary>
public static class IdempotencyExpiryHandler
{
    public const string JobId = "idempotency-expiry";

    public static async Task Handle(IdempotencyExpiry run, IDocumentStore store, IMessageBus bus, BusinessClock clock, IdempotencyOptions options,
        CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var job = await session.LoadAsync<RecurringJob>(JobId, ct);
        if (job is not null && job.NextRun != run.Slot) return; // a stale duplicate of the chain
        var cutoff = clock.Now - (options.RetentionPeriod.AddTo(clock.Now) - clock.Now);
        session.DeleteWhere<IdempotencyRecord>(r => r.CreatedAt < cutoff);
        var next = options.SweepPeriod.AddTo(DateTimeOffset.UtcNow);
        session.Store(new RecurringJob { Id = JobId, NextRun = next });
        await session.SaveChangesAsync(ct);
        await bus.ScheduleAsync(new IdempotencyExpiry(next), next);
    }
}

/// <summary>At start-up, starts the sweep's chain when no run is planned (or the planned one is long overdue: it was lost).</summary>
public sealed class IdempotencyExpiryStarter(IDocumentStore store, IServiceScopeFactory scopes, IHostApplicationLifetime lifetime, IdempotencyOptions options,
    ILogger<IdempotencyExpiryStarter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var started = new TaskCompletionSource();
            await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
                await started.Task.WaitAsync(stoppingToken); // Wolverine accepts messages only once the host runs
            await using var session = store.LightweightSession();
            var job = await session.LoadAsync<RecurringJob>(IdempotencyExpiryHandler.JobId, stoppingToken);
            var now = DateTimeOffset.UtcNow;
            if (job is not null && job.NextRun > now - 2 * (options.SweepPeriod.AddTo(now) - now)) return; // planned, and not lost
            session.Store(new RecurringJob { Id = IdempotencyExpiryHandler.JobId, NextRun = now });
            await session.SaveChangesAsync(stoppingToken);
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().PublishAsync(new IdempotencyExpiry(now));
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogError("Starting the idempotency expiry failed: {ExceptionType}: {Message}", e.GetType().Name, e.Message);
        }
    }
}
