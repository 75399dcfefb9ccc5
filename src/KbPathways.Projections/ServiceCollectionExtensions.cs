using JasperFx.Events;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Trajectories;
using KbPathways.Projections.Privacy;
using Marten;
using Marten.Schema;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KbPathways.Projections;

public sealed class KbPathwaysOptions
{
    public string ConnectionString { get; set; } = "";
    public IReadOnlyList<PathwayDefinition> Definitions { get; set; } = [];
    public string SchemaName { get; set; } = "kbpathways";
    public PatientOptions Patients { get; set; } = new();

    /// <summary>Per practice, the [A] choices it makes for itself (<see cref="PracticeChoices"/>).</summary>
    public IReadOnlyDictionary<string, PracticeSettings> Practices { get; set; } = new Dictionary<string, PracticeSettings>();

    /// <summary>The installation's "due soon" on the worklist (<c>Worklist:DueSoon</c>).</summary>
    public string DueSoon { get; set; } = PracticeChoices.DefaultDueSoon;
    public QualityReportOptions Quality { get; set; } = new();
    public TrajectoryOptions Trajectories { get; set; } = new();
}

public sealed class TrajectoryOptions
{
    /// <summary>How many trajectory states a host keeps after writing them, for the next command (<see cref="TrajectoryStates"/>); 0 turns it off.</summary>
    public int CachedStates { get; set; } = 1024;
}

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Everything an application needs to run KbPathways in process: the Marten event store and documents, the
    /// pathway catalog, and <see cref="TrajectoryService"/>. Returns Marten's configuration so a host can add
    /// integrations (e.g. Wolverine).
    /// </summary>
    public static MartenServiceCollectionExtensions.MartenConfigurationExpression AddKbPathways(
        this IServiceCollection services, Action<KbPathwaysOptions> configure)
    {
        var options = new KbPathwaysOptions();
        configure(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString)) throw new ArgumentException("KbPathways needs a PostgreSQL connection string");
        services.TryAddSingleton(BusinessClock.System);
        services.AddSingleton(new PathwayCatalog(options.Definitions));
        var keys = new PatientKeyRing(options.ConnectionString, options.SchemaName, options.Patients.CachedKeys);
        services.AddSingleton(keys);
        services.AddHostedService<ErasureListener>();
        services.AddSingleton(new TrajectoryStates(options.Trajectories.CachedStates));
        services.AddSingleton<TrajectoryService>();
        services.AddSingleton<DefinitionRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<DefinitionRegistry>());
        services.AddSingleton(options.Patients);
        services.AddSingleton(_ => new PracticeChoices(options.Patients, options.Practices, options.DueSoon)); // on first use: after the host checked the settings
        services.AddSingleton<PatientService>();
        services.AddSingleton(options.Quality);
        services.AddSingleton(sp => new PracticeSnapshots(keys.DataSource, sp.GetRequiredService<IDocumentStore>(), options.Quality.CachedPractices));
        services.AddSingleton<QualityService>();
        services.AddSingleton<ReplayService>();
        return services.AddMarten(marten =>
        {
            marten.Connection(options.ConnectionString);
            marten.DatabaseSchemaName = options.SchemaName;
            marten.Events.StreamIdentity = StreamIdentity.AsGuid;
            // Versions and sequence numbers are assigned in the database (one function call per stream) instead of
            // being fetched first; an expected version is still checked. Nothing here reads them before the commit.
            marten.Events.AppendMode = EventAppendMode.Quick;
            marten.Events.AddEventTypes([typeof(TrajectoryStarted), typeof(StepTaken), typeof(DeadlineScheduled), typeof(TrajectoryCompleted), typeof(TrajectoryMigrated),
                typeof(TrajectoryErased), typeof(KbMarkPlaced), typeof(KbMarkRemoved), typeof(ObservationRecorded), typeof(PatientErased)]);
            var serializer = marten.Serializer() as SystemTextJsonSerializer
                ?? throw new InvalidOperationException("KbPathways seals personal data through Marten's System.Text.Json serializer");
            serializer.Configure(json =>
            {
                foreach (var converter in SealedEvents.Converters(keys)) json.Converters.Add(converter);
            });
            // The practice is a column of its own, indexed with the id and the version, so that listing a practice's
            // documents (PracticeSnapshots) reads the index alone instead of unpacking every document. Every query
            // filters by practice first; within one (a few thousand trajectories) only the patient is worth an index
            // of its own. Each index costs every step an index insert (the listing index includes the version, so no
            // update is HOT): pathway and state are filtered in the practice's rows instead.
            marten.Schema.For<TrajectorySummary>()
                .Duplicate(x => x.Practice, configure: ListingIndex)
                .Duplicate(x => x.PatientId);
            marten.Schema.For<PatientMarks>().Duplicate(x => x.Practice, configure: ListingIndex);
            marten.Schema.For<IdempotencyRecord>().Index(x => x.CreatedAt); // the hourly sweep of expired answers
            marten.Schema.For<StoredDefinition>();
        }).UseLightweightSessions();
    }

    private static void ListingIndex(DocumentIndex index) => index.IncludeColumns = ["id", "mt_version"];
}
