using KbPathways.Host.Identity;
using Wolverine.Http;

namespace KbPathways.Host.Api;

/// <summary>Who is signed in: user, name, practice and roles (from the token or session; no patient data).</summary>
public sealed record MeView(string User, string? Name, string Practice, IReadOnlyList<string> Roles);

public static class MeEndpoint
{
    [WolverineGet("/api/me")]
    public static MeView Get(CurrentUser user, HttpContext http) =>
        new(user.UserId, http.User.FindFirst(KbClaims.Name)?.Value, user.Practice, [.. user.Roles.Order(StringComparer.Ordinal)]);
}
