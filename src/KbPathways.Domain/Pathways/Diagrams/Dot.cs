using System.Text;
using KbPathways.Domain.Pathways.Model;
using static KbPathways.Domain.Pathways.Diagrams.DiagramEdges;

namespace KbPathways.Domain.Pathways.Diagrams;

/// <summary>A Graphviz digraph; each parallel track is a cluster.</summary>
public static class Dot
{
    public static string Render(PathwayDefinition definition)
    {
        var text = new StringBuilder($"digraph \"{Clean(definition.Id)}\" {{\n    rankdir=TB;\n    node [shape=box, style=rounded];\n");
        foreach (var track in definition.Tracks)
        {
            var nested = track.Name != PathwayDefinition.MainTrack;
            if (nested) text.Append($"    subgraph cluster_{Id(track.Name)} {{\n    label=\"{Clean(track.Label)} (parallel)\";\n");
            text.Append($"    start_{Id(track.Name)} [shape=point];\n    start_{Id(track.Name)} -> {Id(track.Initial.Name)};\n");
            foreach (var state in track.States)
                text.Append($"    {Id(state.Name)} [label=\"{Clean(state.Label)}\"{(state.Final ? ", peripheries=2" : "")}];\n");
            if (track.AnyState.Count > 0) text.Append($"    {AnyNode(track)} [label=\"vanuit elke fase\", shape=plaintext];\n");
            foreach (var edge in Of(track))
                text.Append($"    {edge.From} -> {edge.To} [label=\"{Clean(edge.Label)}\"];\n");
            if (nested) text.Append("    }\n");
        }
        return text.Append("}\n").ToString();
    }
}
