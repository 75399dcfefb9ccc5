using System.Collections.Concurrent;
using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Projections;

/// <summary>
/// The loaded pathway definitions. A practice sees its own overlay of a pathway when it has one, else the shared
/// pathway; a running trajectory always resolves to the exact definition (by hash) it started on.
/// </summary>
public sealed class PathwayCatalog(IReadOnlyList<PathwayDefinition> definitions)
{
    private readonly ConcurrentDictionary<string, PathwayDefinition> byHash = new(definitions.ToDictionary(d => d.Hash));

    /// <summary>The definitions loaded from the files: what new trajectories start on.</summary>
    public IReadOnlyList<PathwayDefinition> All => definitions;

    public IEnumerable<PathwayDefinition> For(string practice) =>
        definitions.Where(d => d.Practice is null)
            .Select(shared => definitions.FirstOrDefault(d => d.Id == shared.Id && d.Practice == practice) ?? shared);

    public PathwayDefinition? Current(string practice, string id) => For(practice).FirstOrDefault(d => d.Id == id);

    /// <summary>Any definition known by hash: the files' and those remembered from the store (older versions, migration targets).</summary>
    public PathwayDefinition? ByHash(string hash) => byHash.GetValueOrDefault(hash);

    public void Remember(PathwayDefinition definition) => byHash.TryAdd(definition.Hash, definition);
}
