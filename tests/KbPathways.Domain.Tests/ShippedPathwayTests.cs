using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Scenarios;

namespace KbPathways.Domain.Tests;

/// <summary>Every file under pathways/ loads cleanly, and every scenario beside it passes.</summary>
public class ShippedPathwayTests
{
    public static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KbPathways.sln"))) return Path.Combine(dir.FullName, "pathways");
        throw new DirectoryNotFoundException("KbPathways.sln not found above the test binaries");
    }

    public static LoadResult LoadShipped() => PathwayLoader.Load(
        Directory.EnumerateFiles(Root, "*.yaml", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".scenarios.yaml", StringComparison.Ordinal))
            .Select(f => new PathwaySource(Path.GetRelativePath(Root, f), File.ReadAllText(f))));

    public static TheoryData<string> ScenarioFiles =>
        [.. Directory.EnumerateFiles(Root, "*.scenarios.yaml", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Root, f)).Order()];

    [Fact]
    public void Given_the_shipped_pathways_When_loaded_Then_no_errors_and_no_warnings()
    {
        var result = LoadShipped();
        result.Diagnostics.ShouldBeEmpty();
        result.Definitions.Where(d => d.Practice is null).Select(d => d.Id).ShouldContain("solk");
    }

    [Theory]
    [MemberData(nameof(ScenarioFiles))]
    public void Given_a_scenario_file_When_run_Then_every_scenario_passes(string file)
    {
        var diagnostics = new DiagnosticBag();
        var scenarios = ScenarioReader.Read(file, File.ReadAllText(Path.Combine(Root, file)), diagnostics);
        diagnostics.Items.ShouldBeEmpty();

        var results = ScenarioRunner.Run(scenarios!, LoadShipped().Definitions).ToList();

        results.ShouldNotBeEmpty();
        results.Where(r => !r.Passed).Select(r => $"{r.Name}: {r.Failure}").ShouldBeEmpty();
    }

    [Fact]
    public void Given_a_wrong_expectation_When_run_Then_it_fails_naming_the_step_and_the_difference()
    {
        const string text = """
            pathway: demo
            scenarios:
              - name: wrong
                start: { role: poh }
                steps:
                  - { fire: contact, role: poh }
                  - fire: beoordelen
                    role: huisarts
                    data: { lijst: { a: true, b: nee, c: 8 } }
                    expect: { state: Zwaar }
            """;
        var diagnostics = new DiagnosticBag();
        var file = ScenarioReader.Read("wrong.scenarios.yaml", text, diagnostics)!;

        var result = ScenarioRunner.Run(file, [Fixtures.Load()]).Single();

        result.Passed.ShouldBeFalse();
        result.Failure.ShouldBe("step 2 (line 7, beoordelen): expected state 'Zwaar', was 'Licht'");
    }

    [Fact]
    public void Given_the_domain_assembly_Then_it_references_no_infrastructure()
    {
        var references = typeof(PathwayDefinition).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        references.ShouldNotContain(n => n.StartsWith("Marten") || n.StartsWith("Wolverine") || n.StartsWith("Npgsql") ||
                                         n.StartsWith("Microsoft.AspNetCore") || n.StartsWith("JasperFx"));
        references.ShouldContain("Stateless");
    }
}
