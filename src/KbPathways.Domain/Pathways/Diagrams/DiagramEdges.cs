using KbPathways.Domain.Pathways.Engine;
using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Pathways.Diagrams;

/// <summary>The edges of one track as both diagram formats draw them; any-state steps start from a pseudo node.</summary>
internal static class DiagramEdges
{
    public sealed record Edge(string From, string To, string Label);

    public static string AnyNode(TrackDefinition track) => $"any_{Id(track.Name)}";

    public static IEnumerable<Edge> Of(TrackDefinition track)
    {
        foreach (var state in track.States)
            foreach (var t in state.Transitions)
                foreach (var e in EdgesOf(state, t, Id(state.Name))) yield return e;
        foreach (var t in track.AnyState)
            foreach (var e in EdgesOf(null, t, AnyNode(track))) yield return e;
    }

    private static IEnumerable<Edge> EdgesOf(StateDefinition? state, TransitionDefinition t, string from)
    {
        var timer = state?.Deadlines.FirstOrDefault(d => d.Fires == t.Trigger);
        var name = timer is null ? t.Trigger : $"{t.Trigger} (na {timer.After})";
        if (t.IsInternal)
        {
            // An internal step keeps the state: a loop on its state, or on the any-state node for one open in every state.
            yield return new Edge(from, from, $"{name} [intern]");
            yield break;
        }
        foreach (var target in t.Targets)
            yield return new Edge(from, Id(target.State), target.When is null || t.Targets.Count == 1 && t.When is null && target.When is null
                ? name : $"{name} [{GuardText.Render(target.When)}]");
    }

    public static string Id(string name) => name.Replace('-', '_');

    /// <summary>Mermaid and DOT both choke on a few characters in labels; they carry no meaning there.</summary>
    public static string Clean(string text) =>
        text.Replace(":", " ").Replace(";", ",").Replace("#", "nr").Replace("\"", "'").Replace("{", "(").Replace("}", ")");
}
