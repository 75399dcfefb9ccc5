using System.Text.Json;
using BenchmarkDotNet.Attributes;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Bench;

/// <summary>The pure engine: one step (decide + evolve, with guards), permitted triggers (every guard), loading YAML.</summary>
[MemoryDiagnoser]
public class DomainBenchmarks
{
    private PathwayDefinition solk = null!;
    private Trajectory treating = null!;
    private string solkText = "";
    private PathwaySource[] all = [];
    private FireTrigger evaluation = null!;

    [GlobalSetup]
    public void Setup()
    {
        all = [.. Directory.GetFiles(Paths.Pathways, "*.yaml").Order().Select(f => new PathwaySource(Path.GetFileName(f), File.ReadAllText(f)))];
        solkText = all.Single(s => s.File == "solk.yaml").Text;
        solk = PathwayLoader.Load("solk.yaml", solkText).Definitions.Single();
        treating = Walk.ToTreatment(solk, Guid.NewGuid(), "bench", "p", Walk.Epoch);
        evaluation = new FireTrigger("evaluatieGehouden", Walk.Huisarts, Walk.Data("""{"evaluatie": "gaat goed"}"""));
    }

    [Benchmark(Description = "step: decide + evolve (SOLK evaluatieGehouden)")]
    public Trajectory Step() => TrajectoryDecider.Fire(evaluation, treating, solk, Walk.Epoch.AddDays(30)).Aggregate(treating, Trajectory.Evolve);

    [Benchmark(Description = "permitted triggers (every guard of the state)")]
    public IReadOnlyList<string> Permitted() => TrajectoryDecider.PermittedTriggers(treating, solk, Walk.Huisarts.Roles);

    [Benchmark(Description = "load + validate solk.yaml")]
    public int LoadSolk() => PathwayLoader.Load("solk.yaml", solkText).Definitions.Count;

    [Benchmark(Description = "load + validate all shipped pathways")]
    public int LoadAll() => PathwayLoader.Load(all).Definitions.Count;
}

/// <summary>The SOLK walk every benchmark uses: signal → werkhypothese → mild → GP treatment → evaluations → terugvalpreventie.</summary>
public static class Walk
{
    public static readonly DateTimeOffset Epoch = new(2025, 1, 6, 9, 0, 0, TimeSpan.Zero);
    public static readonly Caller Huisarts = new("bench-huisarts", new HashSet<string> { "huisarts" });

    public static readonly (string Trigger, string Json)[] Steps =
    [
        ("werkhypotheseVastgelegd", """{"medischOnderzoekAfgerond": true, "scegsNotities": "SCEGS uitgevraagd"}"""),
        ("ernstVastgesteld", """{"klachtenclusters": 1, "beperking": "licht", "duurWeken": 4}"""),
        ("adviesGegeven", """{"cvg": {"cijfer": 5}}"""),
        ("evaluatieGehouden", """{"evaluatie": "eerste evaluatie"}"""),
        ("evaluatieGehouden", """{"evaluatie": "tweede evaluatie"}"""),
        ("evaluatieGehouden", """{"evaluatie": "derde evaluatie"}"""),
        ("doelenBereikt", """{"cvg": {"cijfer": 7}, "evaluatie": "doelen bereikt"}"""),
    ];

    public static IReadOnlyDictionary<string, JsonElement> Data(string json) => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    /// <summary>All events of one walked trajectory, a day between steps from <paramref name="start"/>.</summary>
    public static List<object> Events(PathwayDefinition solk, Guid id, string practice, string patient, DateTimeOffset start, int steps = int.MaxValue)
    {
        var events = TrajectoryDecider.Start(new StartTrajectory(id, patient, practice, Huisarts, Data("{}")), solk, start).ToList();
        var state = Trajectory.Replay(events);
        foreach (var (step, i) in Steps.Take(steps).Select((s, i) => (s, i)))
        {
            var next = TrajectoryDecider.Fire(new FireTrigger(step.Trigger, Huisarts, Data(step.Json)), state, solk, start.AddDays(i + 1));
            events.AddRange(next);
            state = next.Aggregate(state, Trajectory.Evolve);
        }
        return events;
    }

    public static Trajectory ToTreatment(PathwayDefinition solk, Guid id, string practice, string patient, DateTimeOffset start) =>
        Trajectory.Replay(Events(solk, id, practice, patient, start, 3));
}

public static class Paths
{
    public static readonly string Root = FindRoot();
    public static string Pathways => Path.Combine(Root, "pathways");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KbPathways.sln"))) return dir.FullName;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KbPathways.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("run from the repository (KbPathways.sln not found)");
    }
}
