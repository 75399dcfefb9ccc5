using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Projections;

/// <summary>
/// The loaded pathway definitions. A practice sees its own overlay of a pathway when it has one, else the shared
/// pathway; a running trajectory always resolves to the exact definition (by hash) it started on.
/// </summary>
public sealed class PathwayCatalog(IReadOnlyList<PathwayDefinition> definitions)
{
    private readonly Dictionary<string, PathwayDefinition> byHash = definitions.ToDictionary(d => d.Hash);

    public IReadOnlyList<PathwayDefinition> All => definitions;

    public IEnumerable<PathwayDefinition> For(string practice) =>
        definitions.Where(d => d.Practice is null)
            .Select(shared => definitions.FirstOrDefault(d => d.Id == shared.Id && d.Practice == practice) ?? shared);

    public PathwayDefinition? Current(string practice, string id) => For(practice).FirstOrDefault(d => d.Id == id);

    public PathwayDefinition? ByHash(string hash) => byHash.GetValueOrDefault(hash);
}
