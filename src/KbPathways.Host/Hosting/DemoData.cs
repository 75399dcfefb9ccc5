using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Model;
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

        var path = config["Pathways:Path"] ?? PathwayFiles.DefaultFolder;
        var patients = 0;
        var time = new DemoTime();
        // No alarms while seeding: a back-dated deadline's alarm would ring at once and race the walk. The demo fires
        // its deadlines itself, in demo time and in order, and arms alarms only for those still ahead at the end.
        var trajectories = ActivatorUtilities.CreateInstance<TrajectoryService>(services, new BusinessClock(time), Array.Empty<ICommandParticipant>());
        var now = DateTimeOffset.UtcNow;
        var walked = new List<Trajectory>();
        foreach (var file in PathwayFiles.Scenarios(path))
        {
            var scenarios = ScenarioReader.Read(file, await File.ReadAllTextAsync(file, stoppingToken), new DiagnosticBag());
            if (scenarios is null || scenarios.Practice is not null) continue;
            foreach (var scenario in scenarios.Scenarios)
            {
                var patient = $"DEMO-{scenarios.Pathway}-{++patients:000}";
                // Spread deterministically: patient n starts 20–335 days ago, and each step follows 2–14 days later.
                time.Now = now.AddDays(-(20 + patients * 53 % 316)).AddHours(8 + patients % 9);
                var state = (await trajectories.StartAsync(Practice, As(scenario.StartRole), patient, scenarios.Pathway, scenario.StartData, ct: stoppingToken)).Trajectory;
                foreach (var step in scenario.Steps.Where(s => s.Expect.Rejected is null))
                {
                    // Time passes: the scenario's wait, or 1–3 days before a step; never past now.
                    time.Now = Min(step.Wait is { } wait && IsoPeriod.TryParse(wait, out var period) ? period.AddTo(time.Now)
                        : time.Now.AddDays(1 + (patients + step.Location.Line) % 3), now.AddMinutes(-5));
                    state = await RingDue(trajectories, state, time.Now, stoppingToken);
                    if (step.Fire is null) continue;
                    try
                    {
                        state = (await trajectories.FireAsync(Practice, state.Id, new FireTrigger(step.Fire, As(step.Role!), step.Data), ct: stoppingToken)).Trajectory;
                    }
                    catch (PathwayRuleException)
                    {
                        break; // the scenario went another way here; the demo patient stays where it is
                    }
                }
                time.Now = now.AddMinutes(-5);
                walked.Add(await RingDue(trajectories, state, time.Now, stoppingToken));
            }
        }
        // The deadlines still ahead get their alarms, as a command's would.
        await using (var scope = services.CreateAsyncScope())
        {
            var bus = scope.ServiceProvider.GetRequiredService<IMessageBus>();
            var alarms = services.GetRequiredService<DeadlineAlarms>();
            foreach (var t in walked.Where(t => !t.Completed))
                foreach (var d in t.Deadlines)
                    await alarms.ScheduleAsync(bus, new DeadlineAlarm(t.Id, Practice, d.Name, d.Track, d.DueAt));
        }
        var token = KbClaims.CreateToken(auth, "demo-huisarts", "Demo huisarts", ["huisarts", "poh-ggz", "poh-o", "poh-kb", "poh"], Practice, TimeSpan.FromHours(8));
        logger.LogInformation("Demo data: {Patients} demo patients in practice {Practice}. A token for it (8 hours): {Token}", patients, Practice, token);
    }

    /// <summary>Fires the trajectory's deadlines due by <paramref name="until"/>, oldest first (at most 500: a repeating one).</summary>
    private static async Task<Trajectory> RingDue(TrajectoryService trajectories, Trajectory state, DateTimeOffset until, CancellationToken ct)
    {
        for (var n = 0; n < 500 && !state.Completed && state.Deadlines.Where(d => d.DueAt <= until).MinBy(d => d.DueAt) is { } due; n++)
        {
            var result = await trajectories.FireDeadlineAsync(Practice, state.Id, new DeadlineDue(due.Name, due.Track, due.DueAt), ct);
            if (result is null) break; // it no longer applies
            state = result.Trajectory;
        }
        return state;
    }

    private static Caller As(string role) => new($"demo-{role}", new HashSet<string> { role });

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
