using KbPathways.Domain.Pathways.Diagrams;

namespace KbPathways.Domain.Tests;

public class DiagramTests
{
    [Fact]
    public void Given_a_pathway_When_rendered_as_mermaid_Then_every_transition_and_track_is_drawn()
    {
        var mermaid = Mermaid.Render(Fixtures.Load());

        mermaid.ShouldStartWith("stateDiagram-v2\n");
        mermaid.ShouldContain("    [*] --> Start\n");
        mermaid.ShouldContain("    Start --> Zwaar : beoordelen [threshold(lijst.hoog) reached]\n");
        mermaid.ShouldContain("    Start --> Licht : beoordelen\n");
        mermaid.ShouldContain("    Start --> Start : herinneren (na P2W) [intern]\n");
        mermaid.ShouldContain("    any_main --> Gestopt : stoppen\n");
        mermaid.ShouldContain("    state \"Zijspoor (parallel)\" as track_zijspoor {\n");
        mermaid.ShouldContain("        Rust --> Actief : aanmelden\n");
        mermaid.ShouldContain("    Klaar --> [*]\n");
    }

    [Fact]
    public void Given_a_pathway_When_rendered_as_dot_Then_it_is_a_digraph_with_a_cluster_per_track()
    {
        var dot = Dot.Render(Fixtures.Load());

        dot.ShouldStartWith("digraph \"demo\" {");
        dot.ShouldContain("    Start -> Zwaar [label=\"beoordelen [threshold(lijst.hoog) reached]\"];");
        dot.ShouldContain("subgraph cluster_zijspoor {");
        dot.ShouldContain("Klaar [label=\"Klaar\", peripheries=2];");
        dot.Count(c => c == '{').ShouldBe(dot.Count(c => c == '}'));
    }

    [Fact]
    public void Given_an_any_state_step_without_a_target_When_drawn_Then_it_is_a_loop_on_the_any_state_node_in_both_formats()
    {
        var definition = Fixtures.Load(Fixtures.Pathway.Replace("    stoppen: { label: Gestopt, roles: [poh], to: Gestopt }",
            "    stoppen: { label: Gestopt, roles: [poh], to: Gestopt }\n    notitieGemaakt: { label: Notitie, roles: [poh], requires: [notitie] }"));

        Mermaid.Render(definition).ShouldContain("    any_main --> any_main : notitieGemaakt [intern]\n");
        Dot.Render(definition).ShouldContain("any_main -> any_main [label=\"notitieGemaakt [intern]\"];");
    }
}

public class ReadmeDiagramTests
{
    [Fact]
    public void Given_the_shipped_pathways_Then_the_readme_diagrams_are_current()
    {
        var readme = File.ReadAllText(Path.Combine(ShippedPathwayTests.Root, "README.md"));
        var regenerated = Pathways.Diagrams.DiagramSection.Update(readme, ShippedPathwayTests.LoadShipped().Definitions);
        regenerated.ShouldBe(readme, "pathways/README.md is stale: run `dotnet run --no-launch-profile --project src/KbPathways.Host -- pathways docs pathways/`");
    }
}
