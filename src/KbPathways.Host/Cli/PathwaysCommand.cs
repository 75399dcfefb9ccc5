using JasperFx.CommandLine;
using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Diagrams;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Host.Pathways;

namespace KbPathways.Host.Cli;

public class PathwaysInput
{
    [Description("validate (check), test (run the scenarios), graph (draw one pathway) or docs (regenerate the diagrams in README.md)")]
    public string Action { get; set; } = "";

    [Description("validate, test, docs: the pathway file or folder (default: pathways); graph: the pathway's id")]
    public string Target { get; set; } = "";

    [Description("graph: mermaid (default) or dot")]
    public string FormatFlag { get; set; } = "mermaid";

    [Description("graph: the pathway folder (default: pathways)"), FlagAlias("path", true)]
    public string PathFlag { get; set; } = "pathways";

    [Description("graph: draw the practice's edition (its overlay applied)"), FlagAlias("practice", true)]
    public string? PracticeFlag { get; set; }
}

/// <summary><c>pathways validate|test|graph|docs</c>: for practices editing YAML, one line per problem, exit code for scripts.</summary>
[Description("Check, test, draw or document the pathway files", Name = "pathways")]
public class PathwaysCommand : KbCommand<PathwaysInput>
{
    public PathwaysCommand()
    {
        Usage("Validate, test or document the pathways in pathways/").Arguments(x => x.Action);
        Usage("Validate, test or document the pathways in a file or folder, or draw the pathway with this id")
            .Arguments(x => x.Action, x => x.Target);
    }

    public override Task<bool> Execute(PathwaysInput input)
    {
        var path = PathwayFiles.Locate(input.Target.Length == 0 ? null : input.Target, AppContext.BaseDirectory);
        try
        {
            return Task.FromResult(input.Action switch
            {
                "validate" => Validate(path, Output),
                "test" => ScenarioCommand.Run(path, Output) == 0,
                "graph" when input.Target.Length == 0 => Fail("pathways graph needs the pathway's id, e.g. pathways graph solk"),
                "graph" when input.FormatFlag is not ("mermaid" or "dot") => Fail($"unknown format '{input.FormatFlag}'; use mermaid or dot"),
                "graph" => Graph(input.Target, input.FormatFlag, PathwayFiles.Locate(input.PathFlag, AppContext.BaseDirectory), input.PracticeFlag),
                "docs" => Docs(path, Output),
                _ => Fail($"unknown pathways command '{input.Action}'; use validate, test, graph or docs"),
            });
        }
        catch (IOException e)
        {
            return Task.FromResult(Fail(e.Message));
        }
    }

    /// <summary>The pathway files, and the scenario files against the pathways they name: one line per problem.</summary>
    private static bool Validate(string path, TextWriter output)
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
        return errorCount == 0;
    }

    private bool Graph(string id, string format, string path, string? practice)
    {
        var result = PathwayLoader.Load(PathwayFiles.Read(path));
        var definition = result.Definitions.FirstOrDefault(d => d.Id == id && d.Practice == practice);
        if (definition is null)
            return Fail(result.HasErrors
                ? $"'{id}' could not be loaded; run 'pathways validate {path}'"
                : $"no pathway '{id}'{(practice is null ? "" : $" for practice '{practice}'")}; known: {string.Join(", ", result.Definitions.Select(d => d.Id).Distinct())}");
        Output.Write(format == "dot" ? Dot.Render(definition) : Mermaid.Render(definition));
        return true;
    }

    private static bool Docs(string path, TextWriter output)
    {
        var result = PathwayLoader.Load(PathwayFiles.Read(path));
        if (result.HasErrors) return Validate(path, output);
        var readme = Path.Combine(path, "README.md");
        File.WriteAllText(readme, DiagramSection.Update(File.ReadAllText(readme), result.Definitions));
        output.WriteLine($"updated {readme}");
        return true;
    }
}
