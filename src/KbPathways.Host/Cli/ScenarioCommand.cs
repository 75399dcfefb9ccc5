using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Scenarios;
using KbPathways.Host.Pathways;

namespace KbPathways.Host.Cli;

/// <summary><c>pathways test [path]</c>: loads the pathways under path and runs every <c>*.scenarios.yaml</c> there.</summary>
public static class ScenarioCommand
{
    public static int Run(string path, TextWriter output)
    {
        var loaded = PathwayLoader.Load(PathwayFiles.Read(path));
        foreach (var error in loaded.Errors) output.WriteLine(error);
        var diagnostics = new DiagnosticBag();
        var results = new List<ScenarioResult>();
        foreach (var file in PathwayFiles.Scenarios(path))
            if (ScenarioReader.Read(PathwayFiles.Display(file), File.ReadAllText(file), diagnostics) is { } scenarios)
                results.AddRange(ScenarioRunner.Run(scenarios, loaded.Definitions));
        foreach (var problem in diagnostics.Items) output.WriteLine(problem);
        foreach (var result in results)
            output.WriteLine(result.Passed ? $"PASS {result.File}: {result.Name}" : $"FAIL {result.File}: {result.Name}\n     {result.Failure}");
        var failed = results.Count(r => !r.Passed);
        output.WriteLine($"{results.Count - failed} passed, {failed} failed");
        return failed == 0 && !diagnostics.HasErrors && !loaded.HasErrors && results.Count > 0 ? 0 : 1;
    }
}
