using KbPathways.Domain.Pathways.Diagrams;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using Wolverine.Http;

namespace KbPathways.Host.Api;

public static class ListPathwaysEndpoint
{
    [WolverineGet("/api/pathways")]
    public static IReadOnlyList<PathwaySummary> Get(CurrentUser user, PathwayCatalog catalog) =>
        [.. catalog.For(user.Practice).Select(d => new PathwaySummary(d.Id, d.Version, d.Title, d.Hash))];
}

public static class GetPathwayEndpoint
{
    [WolverineGet("/api/pathways/{id}")]
    public static PathwayDetail Get(string id, CurrentUser user, PathwayCatalog catalog)
    {
        var d = catalog.Current(user.Practice, id) ?? throw new NotFoundException();
        return PathwayDetail.Of(d);
    }
}
