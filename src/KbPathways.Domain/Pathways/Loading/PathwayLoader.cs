using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Pathways.Yaml;

namespace KbPathways.Domain.Pathways.Loading;

public sealed record LoadResult(IReadOnlyList<PathwayDefinition> Definitions, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.Severity == Severity.Error);
    public IEnumerable<Diagnostic> Errors => Diagnostics.Where(d => d.Severity == Severity.Error);
}

/// <summary>
/// Reads pathway texts (the caller does the file I/O) into validated definitions. Base pathways come first;
/// overlays (files with <c>extends</c>) are merged onto their base. Every problem in every file is reported;
/// a definition with an error is not returned, so nothing half-valid ever runs.
/// </summary>
public static class PathwayLoader
{
    public static LoadResult Load(IEnumerable<PathwaySource> sources)
    {
        var diagnostics = new DiagnosticBag();
        var roots = new List<(PathwaySource Source, YMapping Root)>();
        foreach (var source in sources.OrderBy(s => s.File, StringComparer.Ordinal))
        {
            var node = YamlReader.Read(source.File, source.Text, diagnostics);
            if (node is YMapping map) roots.Add((source, map));
            else if (node is not null) diagnostics.Error(node.Location, "wrong-kind", $"a pathway file must be a mapping, not {node.Kind}");
        }

        var definitions = new List<PathwayDefinition>();
        var bases = new Dictionary<string, (PathwaySource Source, YMapping Root, bool Valid)>();
        foreach (var (source, root) in roots.Where(r => r.Root.Find("extends") is null))
        {
            var definition = BindAndValidate(root, null, [source], diagnostics);
            if (definition is null) continue;
            if (bases.TryGetValue(definition.Value.Definition.Id, out var other))
            {
                diagnostics.Error(root.Find("id")!.Value.Location, "duplicate-id",
                    $"pathway id '{definition.Value.Definition.Id}' is also used by {other.Source.File}");
                continue;
            }
            bases[definition.Value.Definition.Id] = (source, root, definition.Value.Valid);
            if (definition.Value.Valid) definitions.Add(definition.Value.Definition);
        }

        var overlaysSeen = new HashSet<(string, string?)>();
        foreach (var (source, root) in roots.Where(r => r.Root.Find("extends") is not null))
        {
            var extends = root.Find("extends")!.Value;
            var practice = (root.Find("practice")?.Value as YScalar)?.Value;
            if (extends is not YScalar { IsNull: false } baseId || !bases.TryGetValue(baseId.Value, out var @base))
            {
                diagnostics.Error(extends.Location, "unknown-pathway", $"overlay extends '{(extends as YScalar)?.Value}', which is not a pathway in this set");
                continue;
            }
            if (!overlaysSeen.Add((baseId.Value, practice)))
            {
                diagnostics.Error(extends.Location, "duplicate-id", $"a second overlay of '{baseId.Value}' for practice '{practice}'");
                continue;
            }
            var before = diagnostics.Items.Count;
            var merged = Overlay.Merge(@base.Root, root, diagnostics);
            if (!@base.Valid || diagnostics.Items.Skip(before).Any(d => d.Severity == Severity.Error)) continue;
            if (BindAndValidate(merged, practice, [@base.Source, source], diagnostics) is { Valid: true } result)
                definitions.Add(result.Definition);
        }
        return new LoadResult(definitions, diagnostics.Items);
    }

    public static LoadResult Load(string file, string text) => Load([new PathwaySource(file, text)]);

    private static (PathwayDefinition Definition, bool Valid)? BindAndValidate(
        YMapping root, string? practice, IReadOnlyList<PathwaySource> sources, DiagnosticBag all)
    {
        var local = new DiagnosticBag();
        var bound = new DefinitionBinder(local).Bind(root, practice, CanonicalHash.Of(root), sources);
        // Validate even after binding errors, so one run reports every problem in the file.
        if (bound is { } b)
        {
            var before = local.Items.Count;
            DefinitionValidator.Validate(b.Definition, local);
            // A step made from a template: its errors name the template too.
            foreach (var t in b.Definition.Tracks.SelectMany(t => t.States.SelectMany(s => s.Transitions).Concat(t.AnyState)).Where(t => t.Template is not null))
                local.Annotate(before, d => d.Location == t.Location && !d.Message.Contains("step template"),
                    $" (the step uses template '{t.Template!.Value.Name}' at {t.Template.Value.At.Line}:{t.Template.Value.At.Column})");
        }
        all.AddRange(local.Items);
        return bound is { } r && r.Complete ? (r.Definition, !local.HasErrors) : null;
    }
}
