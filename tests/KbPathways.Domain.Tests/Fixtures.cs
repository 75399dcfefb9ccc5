using System.Text.Json;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Domain.Tests;

/// <summary>A small pathway that uses every construct of the language once.</summary>
public static class Fixtures
{
    public const string Pathway = """
        id: demo
        version: 1
        title: Demo
        roles:
          poh: POH
          huisarts: { label: Huisarts }
        settings:
          drempel: 4
          termijn: P2W
          plafond: 2
        fields:
          ernst: { type: enum, values: { licht: Licht, zwaar: Zwaar } }
          score: { type: integer, min: 0, max: 10 }
          gewicht: { type: decimal, min: 0 }
          akkoord: { type: boolean }
          notitie: { type: text }
          datum: { type: date }
          onderdelen: { type: list, values: [fysio, dietist] }
          reden: { type: text }
        instruments:
          lijst:
            items:
              a: { type: boolean, dimension: fysiek, points: { "false": 1 } }
              b: { type: enum, values: [ja, soms, nee], dimension: psychisch, points: { ja: 1, soms: 1 } }
              c: { type: integer, min: 0, max: 10, dimension: fysiek, points: [{ max: 6, points: 2 }] }
              d: { type: text, required: false }
            thresholds:
              hoog: { atLeast: $drempel }
        counters:
          contacten: Contacten
        states:
          Start:
            initial: true
            owner: poh
            deadlines:
              herinnering: { after: $termijn, fires: herinneren, repeat: true }
            on:
              herinneren: { roles: [] }
              contact:
                label: Contact gehad
                roles: [poh]
                increments: [contacten]
                warnings:
                  - code: plafond
                    when: { counter: contacten, gte: $plafond }
                    message: Plafond bereikt
                    requires: [reden]
              beoordelen:
                label: Beoordeeld
                roles: [huisarts]
                requires: [lijst]
                optional: [notitie]
                to:
                  - state: Zwaar
                    when: { threshold: lijst.hoog }
                  - state: Licht
          Licht:
            waits: false
            on:
              afsluiten: { label: Afgesloten, roles: [poh, huisarts], to: Klaar, requires: [akkoord], when: { field: akkoord, eq: true }, because: Akkoord nodig }
          Zwaar:
            deadlines:
              evaluatie: { after: P1M, fires: evalueren }
            on:
              evalueren: { roles: [], to: Zwaar }
              afsluiten: { label: Afgesloten, roles: [huisarts], to: Klaar, requires: [ernst], when: { not: { field: ernst, eq: zwaar } } }
          Klaar: { final: true, outcome: klaar }
          Gestopt: { final: true, outcome: gestopt }
        anyState:
          on:
            stoppen: { label: Gestopt, roles: [poh], to: Gestopt }
        tracks:
          zijspoor:
            label: Zijspoor
            states:
              Rust: { initial: true, waits: false, on: { aanmelden: { label: Aangemeld, roles: [poh], to: Actief } } }
              Actief: { waits: false, on: { terug: { label: Terug, roles: [poh], to: Rust } } }
        """;

    public static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    public static PathwayDefinition Load(string text = Pathway)
    {
        var result = PathwayLoader.Load("demo.yaml", text);
        result.Errors.ShouldBeEmpty();
        return result.Definitions.Single();
    }

    public static IReadOnlyDictionary<string, JsonElement> Data(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    public static readonly IReadOnlyDictionary<string, JsonElement> NoData = new Dictionary<string, JsonElement>();

    public static Caller As(params string[] roles) => new("u1", roles.ToHashSet());

    public static Trajectory Started(PathwayDefinition definition) =>
        Trajectory.Replay(TrajectoryDecider.Start(new StartTrajectory(Guid.Empty, "p1", "praktijk", As("poh"), NoData), definition, T0));

    public static Trajectory Fire(this Trajectory state, PathwayDefinition d, string trigger, string role, string json = "{}", DateTimeOffset? at = null) =>
        TrajectoryDecider.Fire(new FireTrigger(trigger, As(role), Data(json)), state, d, at ?? T0).Aggregate(state, Trajectory.Evolve);
}
