using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Diagrams;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Host.Pathways;

namespace KbPathways.Host.Cli;

/// <summary><c>pathways validate|graph|test</c>: for practices editing YAML, one line per problem, exit code for scripts.</summary>
public static class PathwaysCommand
{
    public const string Usage = """
        usage:
          pathways validate [path]                          check pathway files (default: pathways/)
          pathways graph <id> [--format mermaid|dot] [--path <path>] [--practice <id>]
          pathways test [path]                              run the YAML scenarios under path/tests
          pathways docs [path]                              regenerate the diagrams in path/README.md
        """;

    public static int Run(string[] args, TextWriter output, TextWriter errors)
    {
        try
        {
            return args switch
            {
                ["validate", .. var rest] => Validate(rest.FirstOrDefault() ?? "pathways", output),
                ["graph", var id, .. var rest] => Graph(id, Option(rest, "--format") ?? "mermaid", Option(rest, "--path") ?? "pathways",
                    Option(rest, "--practice"), output, errors),
                ["test", .. var rest] => ScenarioCommand.Run(rest.FirstOrDefault() ?? "pathways", output),
                ["docs", .. var rest] => Docs(rest.FirstOrDefault() ?? "pathways", output),
                _ => Fail(errors, Usage),
            };
        }
        catch (IOException e)
        {
            return Fail(errors, e.Message);
        }
    }

    /// <summary>The pathway files, and the scenario files against the pathways they name: one line per problem.</summary>
    private static int Validate(string path, TextWriter output)
    {
        var result = PathwayLoader.Load(PathwayFiles.Read(path));
        var scenarios = new DiagnosticBag();
        var files = 0;
        foreach (var file in PathwayFiles.Scenarios(path))
        {
            files++;
            if (Domain.Scenarios.ScenarioReader.Read(PathwayFiles.Display(file), File.ReadAllText(file), scenarios) is { } read)
            {
                foreach (var problem in read.Scenarios.SelectMany(s => s.Problems ?? [])) scenarios.AddRange([problem]);
                Domain.Scenarios.ScenarioValidator.Validate(read, result.Definitions, scenarios);
            }
        }
        var all = result.Diagnostics.Concat(scenarios.Items).Distinct().ToList();
        foreach (var diagnostic in all.OrderBy(d => d.Location.File, StringComparer.Ordinal).ThenBy(d => d.Location.Line).ThenBy(d => d.Location.Column))
            output.WriteLine(diagnostic);
        var errorCount = all.Count(d => d.Severity == Severity.Error);
        var warnings = all.Count - errorCount;
        output.WriteLine(errorCount == 0
            ? $"{result.Definitions.Count} pathway definition(s) and {files} scenario file(s) valid, {warnings} warning(s)"
            : $"{errorCount} error(s), {warnings} warning(s)");
        return errorCount == 0 ? 0 : 1;
    }

    private static int Graph(string id, string format, string path, string? practice, TextWriter output, TextWriter errors)
    {
        var result = PathwayLoader.Load(PathwayFiles.Read(path));
        var definition = result.Definitions.FirstOrDefault(d => d.Id == id && d.Practice == practice);
        if (definition is null)
            return Fail(errors, result.HasErrors
                ? $"'{id}' could not be loaded; run 'pathways validate {path}'"
                : $"no pathway '{id}'{(practice is null ? "" : $" for practice '{practice}'")}; known: {string.Join(", ", result.Definitions.Select(d => d.Id).Distinct())}");
        switch (format)
        {
            case "mermaid": output.Write(Mermaid.Render(definition)); return 0;
            case "dot": output.Write(Dot.Render(definition)); return 0;
            default: return Fail(errors, $"unknown format '{format}'; use mermaid or dot");
        }
    }

    private static int Docs(string path, TextWriter output)
    {
        var result = PathwayLoader.Load(PathwayFiles.Read(path));
        if (result.HasErrors) return Validate(path, output);
        var readme = Path.Combine(path, "README.md");
        File.WriteAllText(readme, DiagramSection.Update(File.ReadAllText(readme), result.Definitions));
        output.WriteLine($"updated {readme}");
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int Fail(TextWriter errors, string message)
    {
        errors.WriteLine(message);
        return 2;
    }
}
