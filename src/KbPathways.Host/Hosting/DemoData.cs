using KbPathways.Domain.Pathways;
using KbPathways.Domain.Scenarios;
using KbPathways.Domain.Trajectories;
using KbPathways.Host.Identity;
using KbPathways.Host.Pathways;
using KbPathways.Projections;
using Marten;
using Wolverine;

namespace KbPathways.Host.Hosting;

/// <summary>
/// <c>--demo</c>: fills the practice <see cref="Practice"/> with demo patients (ids start with <c>DEMO-</c>) by
/// walking the shipped scenario files through the real service, so every pathway has patients in several states.
/// The history is spread over the past year: each patient starts on a day of its own in the last eleven months and
/// takes its steps days to weeks apart (never later than now), so the charts show months and some deadlines are
/// overdue. Runs once: a demo practice that already has trajectories is left alone. Sign in as any role of it on
/// <c>/aanmelden</c>.
/// </summary>
public sealed class DemoData(IServiceProvider services, IDocumentStore store,
    IHostApplicationLifetime lifetime, IConfiguration config, AuthOptions auth, ILogger<DemoData> logger) : BackgroundService
{
    /// <summary>The demo's own clock, set before each command: the service records the step at that moment.</summary>
    private sealed class DemoTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; }
        public override DateTimeOffset GetUtcNow() => Now;
    }

    public const string Practice = "demo-praktijk";

    private readonly TaskCompletionSource seeded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the demo practice is filled (or was already).</summary>
    public Task Seeded => seeded.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Seed(stoppingToken);
            seeded.TrySetResult();
        }
        catch (Exception e)
        {
            logger.LogError("Demo data could not be made ({ExceptionType}: {Message})", e.GetType().Name, e.Message);
            seeded.TrySetException(e);
            throw;
        }
    }

    private async Task Seed(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            await started.Task.WaitAsync(stoppingToken);
        await using (var session = store.QuerySession())
            if (await session.Query<TrajectorySummary>().AnyAsync(t => t.Practice == Practice, stoppingToken)) return;

        var path = config["Pathways:Path"] ?? "pathways";
        var patients = 0;
        var time = new DemoTime();
        var trajectories = ActivatorUtilities.CreateInstance<TrajectoryService>(services, new BusinessClock(time));
        var now = DateTimeOffset.UtcNow;
        foreach (var file in PathwayFiles.Scenarios(path))
        {
            var scenarios = ScenarioReader.Read(file, await File.ReadAllTextAsync(file, stoppingToken), new DiagnosticBag());
            if (scenarios is null || scenarios.Practice is not null) continue;
            foreach (var scenario in scenarios.Scenarios)
            {
                var patient = $"DEMO-{scenarios.Pathway}-{++patients:000}";
                // Spread deterministically: patient n starts 20–335 days ago, and each step follows 2–14 days later.
                time.Now = now.AddDays(-(20 + patients * 53 % 316)).AddHours(8 + patients % 9);
                var start = await trajectories.StartAsync(Practice, As(scenario.StartRole), patient, scenarios.Pathway, scenario.StartData, ct: stoppingToken);
                foreach (var step in scenario.Steps.Where(s => s.Fire is not null && s.Expect.Rejected is null))
                {
                    time.Now = Min(time.Now.AddDays(2 + (patients + step.Location.Line) % 13), now.AddMinutes(-5));
                    try
                    {
                        await trajectories.FireAsync(Practice, start.Trajectory.Id, new FireTrigger(step.Fire!, As(step.Role!), step.Data), ct: stoppingToken);
                    }
                    catch (PathwayRuleException)
                    {
                        break; // the scenario relied on time passing here; the demo patient stays where it is
                    }
                }
            }
        }
        var token = KbClaims.CreateToken(auth, "demo-huisarts", "Demo huisarts", ["huisarts", "poh-ggz", "poh-o", "poh-kb", "poh"], Practice, TimeSpan.FromHours(8));
        logger.LogInformation("Demo data: {Patients} demo patients in practice {Practice}. A token for it (8 hours): {Token}", patients, Practice, token);
    }

    private static Caller As(string role) => new($"demo-{role}", new HashSet<string> { role });

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
