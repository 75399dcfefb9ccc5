using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace KbPathways.Host.AccessLog;

/// <summary>
/// Verifies the whole access-log chain at start-up and every <c>AccessLog:VerifyEvery</c> (10 minutes by default).
/// A break is logged as an error (the record's sequence number and what is wrong; nothing personal) and turns the
/// host's health to degraded until a verification finds the log intact again. The last outcome is in <see cref="Last"/>.
/// </summary>
public sealed class AccessLogVerifier(AccessLogStore log, AccessLogOptions options, ILogger<AccessLogVerifier> logger) : BackgroundService
{
    /// <summary>The newest verification's outcome; null until the first one has run.</summary>
    public AccessLogVerification? Last { get; private set; }

    /// <summary>Verifies now, and keeps and logs the outcome.</summary>
    public async Task<AccessLogVerification> VerifyAsync(CancellationToken ct)
    {
        var outcome = await log.CheckAsync(ct: ct);
        var was = Last;
        Last = outcome;
        if (outcome.Break is { } found)
            logger.LogError("Access log verification failed at record {Sequence}: {Problem}. Run 'access-log verify' and see docs/reliability.md",
                found.Sequence, found.Problem);
        else if (was?.Break is not null)
            logger.LogWarning("Access log verified intact again ({Seals} seals)", outcome.Seals);
        return outcome;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.VerifyEvery);
        try
        {
            do
            {
                try
                {
                    await VerifyAsync(stoppingToken);
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    logger.LogWarning("Verifying the access log failed ({ExceptionType}); retrying at the next interval", e.GetType().Name);
                }
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>Degraded while the newest verification of the access log found a break.</summary>
public sealed class AccessLogHealthCheck(AccessLogVerifier verifier, AccessLogStore log) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["appendOnly"] = log.RoleCanAlter == false };
        if (verifier.Last is not { } last) return Task.FromResult(HealthCheckResult.Healthy("not verified yet", data));
        data["verifiedAt"] = last.CheckedAt;
        data["seals"] = last.Seals;
        if (last.Break is not { } found) return Task.FromResult(HealthCheckResult.Healthy("intact", data));
        data["brokenAt"] = (object?)found.Sequence ?? "the chain's end";
        return Task.FromResult(HealthCheckResult.Degraded(found.Problem, data: data));
    }
}
