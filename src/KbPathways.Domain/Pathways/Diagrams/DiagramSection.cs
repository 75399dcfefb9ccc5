using System.Text;
using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Pathways.Diagrams;

/// <summary>Writes one Mermaid diagram per shipped pathway between two markers of a Markdown document.</summary>
public static class DiagramSection
{
    public const string Begin = "<!-- diagrams:begin -->";
    public const string End = "<!-- diagrams:end -->";

    public static string Update(string markdown, IEnumerable<PathwayDefinition> definitions)
    {
        var begin = markdown.IndexOf(Begin, StringComparison.Ordinal);
        var end = markdown.IndexOf(End, StringComparison.Ordinal);
        if (begin < 0 || end < begin) throw new ArgumentException($"the document has no {Begin} … {End} section");
        var section = new StringBuilder(Begin).Append('\n');
        foreach (var d in definitions.Where(d => d.Practice is null).OrderBy(d => d.Id, StringComparer.Ordinal))
            section.Append($"\n### {d.Title} (`{d.Id}` v{d.Version})\n\n```mermaid\n{Mermaid.Render(d)}```\n");
        return markdown[..begin] + section + "\n" + markdown[end..];
    }
}
