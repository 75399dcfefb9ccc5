using KbPathways.Host.AccessLog;
using KbPathways.Projections;
using Microsoft.Extensions.Options;

namespace KbPathways.Host.Hosting;

/// <summary>The request limits (<c>Limits:*</c>): body size (413 above it) and each user's token bucket (429).</summary>
public sealed class LimitsOptions
{
    public long MaxBodyBytes { get; set; } = 256 * 1024;
    public int RequestsPerSecond { get; set; } = 100;
    public int Burst { get; set; } = 200;
}

/// <summary>The practices' own choices (<c>Practices:&lt;id&gt;:*</c>) and the worklist's default horizon (<c>Worklist:DueSoon</c>).</summary>
public sealed class PracticeChoiceOptions
{
    public Dictionary<string, PracticeSettings> Practices { get; set; } = [];
    public WorklistOptions Worklist { get; set; } = new();
}

public sealed class WorklistOptions
{
    public string? DueSoon { get; set; }
}

/// <summary>
/// The host's settings the Options way: each section bound to its class and checked by a validator that names the key
/// and what it may be (<see cref="IValidateOptions{TOptions}"/>, <c>ValidateOnStart</c>). A value the binder cannot
/// convert (<c>Limits:Burst=veel</c>) is refused by the binder, naming the key too. <see cref="KbPathwaysApp"/> runs the
/// start-up validation as soon as the host is built, before anything touches the database, so a command that never
/// starts the host (rebuild, whatif, db-patch) is checked the same way.
/// </summary>
public static class Settings
{
    public static void AddValidatedSettings(this IServiceCollection services, IConfiguration config)
    {
        Add<LimitsOptions>(services, config.GetSection("Limits"), o => AtLeast(1,
            ("Limits:MaxBodyBytes", o.MaxBodyBytes), ("Limits:RequestsPerSecond", o.RequestsPerSecond), ("Limits:Burst", o.Burst)));
        Add<PatientOptions>(services, config.GetSection("Patients"), o => AtLeast(0, ("Patients:CachedKeys", o.CachedKeys)));
        Add<TrajectoryOptions>(services, config.GetSection("Trajectories"), o => AtLeast(0, ("Trajectories:CachedStates", o.CachedStates)));
        Add<QualityReportOptions>(services, config.GetSection("Quality"), o => o.Problems());
        Add<PracticeChoiceOptions>(services, config, o => PracticeChoices.Problems(o.Practices, o.Worklist.DueSoon));
        Add<IdempotencyOptions>(services, config.GetSection("Idempotency"), o => o.Problems());
        Add<AccessLogOptions>(services, config.GetSection("AccessLog"), o => o.VerifyEvery > TimeSpan.Zero ? []
            : [$"AccessLog:VerifyEvery '{o.VerifyEvery}' must be a positive time span, e.g. 00:10:00"]);
        // Those that take them as they are.
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<IdempotencyOptions>>().Value);
    }

    private static void Add<T>(IServiceCollection services, IConfiguration section, Func<T, IEnumerable<string>> problems) where T : class
    {
        services.AddOptions<T>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>>(new ProblemsValidator<T>(problems));
    }

    private static IEnumerable<string> AtLeast(long min, params (string Key, long Value)[] settings) =>
        settings.Where(s => s.Value < min).Select(s => $"{s.Key} '{s.Value}' must be a whole number of at least {min}");

    private sealed class ProblemsValidator<T>(Func<T, IEnumerable<string>> problems) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options) =>
            problems(options).ToList() is { Count: > 0 } found ? ValidateOptionsResult.Fail(found) : ValidateOptionsResult.Success;
    }
}
