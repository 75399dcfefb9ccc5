using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Pathways.Model;
using Marten;
using Microsoft.Extensions.Hosting;

namespace KbPathways.Projections;

/// <summary>A definition's original text, kept by hash so the exact rules a trajectory ran on can always be read again.</summary>
public sealed class StoredDefinition
{
    public string Id { get; set; } = "";
    public string PathwayId { get; set; } = "";
    public int Version { get; set; }
    public string? Practice { get; set; }
    public List<PathwaySource> Sources { get; set; } = [];
}

/// <summary>
/// Keeps every definition a trajectory may run on: the loaded files are stored by hash at start-up, stored ones
/// no longer in the files (older versions, migration targets) are loaded back into the catalog, and an unknown hash
/// met at run time (stored by another host) is read from the store.
/// </summary>
public sealed class DefinitionRegistry(IDocumentStore store, PathwayCatalog catalog) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        foreach (var d in catalog.All) session.Store(Stored(d));
        await session.SaveChangesAsync(ct);
        foreach (var stored in await session.Query<StoredDefinition>().ToListAsync(ct))
            if (catalog.ByHash(stored.Id) is null && Parse(stored) is { } d) catalog.Remember(d);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    public async Task<PathwayDefinition?> ResolveAsync(IQuerySession session, string hash, CancellationToken ct = default)
    {
        if (catalog.ByHash(hash) is { } known) return known;
        var stored = await session.LoadAsync<StoredDefinition>(hash, ct);
        if (stored is null || Parse(stored) is not { } d) return null;
        catalog.Remember(d);
        return d;
    }

    /// <summary>Stores a definition (e.g. a migration target) and adds it to the catalog, in the caller's transaction.</summary>
    public void Register(IDocumentSession session, PathwayDefinition definition)
    {
        session.Store(Stored(definition));
        catalog.Remember(definition);
    }

    private static StoredDefinition Stored(PathwayDefinition d) =>
        new() { Id = d.Hash, PathwayId = d.Id, Version = d.Version, Practice = d.Practice, Sources = [.. d.Sources] };

    private static PathwayDefinition? Parse(StoredDefinition stored) =>
        PathwayLoader.Load(stored.Sources).Definitions.FirstOrDefault(d => d.Hash == stored.Id);
}
