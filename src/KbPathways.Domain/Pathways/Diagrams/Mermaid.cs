using System.Text;
using KbPathways.Domain.Pathways.Model;
using static KbPathways.Domain.Pathways.Diagrams.DiagramEdges;

namespace KbPathways.Domain.Pathways.Diagrams;

/// <summary>A Mermaid <c>stateDiagram-v2</c>; each parallel track is drawn as a composite state beside the main track.</summary>
public static class Mermaid
{
    public static string Render(PathwayDefinition definition)
    {
        var text = new StringBuilder("stateDiagram-v2\n");
        foreach (var track in definition.Tracks)
        {
            var nested = track.Name != PathwayDefinition.MainTrack;
            var indent = nested ? "        " : "    ";
            if (nested) text.Append($"    state \"{Clean(track.Label)} (parallel)\" as track_{Id(track.Name)} {{\n");
            foreach (var state in track.States)
                text.Append($"{indent}state \"{Clean(state.Label)}\" as {Id(state.Name)}\n");
            if (track.AnyState.Count > 0) text.Append($"{indent}state \"vanuit elke fase\" as {AnyNode(track)}\n");
            text.Append($"{indent}[*] --> {Id(track.Initial.Name)}\n");
            foreach (var edge in Of(track))
                text.Append($"{indent}{edge.From} --> {edge.To} : {Clean(edge.Label)}\n");
            foreach (var final in track.States.Where(s => s.Final))
                text.Append($"{indent}{Id(final.Name)} --> [*]\n");
            if (nested) text.Append("    }\n");
        }
        return text.ToString();
    }
}
