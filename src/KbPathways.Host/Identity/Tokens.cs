using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace KbPathways.Host.Identity;

/// <summary>The claims KbPathways reads: sub, name, role (one or more), practice.</summary>
public static class KbClaims
{
    public const string Practice = "practice";
    public const string Role = "role";
    public const string Subject = "sub";
    public const string Name = "name";

    /// <summary>
    /// Copies the claims a provider names otherwise (<see cref="AuthOptions.RoleClaim"/>, …) to KbPathways' own names;
    /// a provider's claim that already has our name is left as it is. A role claim may also be a JSON array.
    /// </summary>
    public static void Map(ClaimsIdentity identity, AuthOptions options)
    {
        foreach (var (theirs, ours) in new[] { (options.SubjectClaim, Subject), (options.NameClaim, Name), (options.PracticeClaim, Practice), (options.RoleClaim, Role) })
        {
            if (theirs == ours) continue;
            foreach (var claim in identity.FindAll(theirs).ToList()) identity.AddClaim(new Claim(ours, claim.Value, claim.ValueType));
        }
    }

    public static string CreateToken(AuthOptions options, string user, string name, IEnumerable<string> roles, string practice, TimeSpan lifetime)
    {
        var claims = new List<Claim> { new(Subject, user), new(Name, name), new(Practice, practice) };
        claims.AddRange(roles.Select(r => new Claim(Role, r)));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = options.Issuer,
            Audience = options.Audience,
            Expires = DateTime.UtcNow.Add(lifetime),
            SigningCredentials = new SigningCredentials(options.Key(), SecurityAlgorithms.HmacSha256),
        });
    }
}

/// <summary>The acting user, taken only from the validated token; clients never send practice, user or role in bodies.</summary>
public sealed record CurrentUser(string UserId, string Practice, IReadOnlySet<string> Roles)
{
    /// <summary>
    /// The user of a validated token, or null when the token does not name exactly one user (<c>sub</c>) and exactly one
    /// practice (<c>practice</c>), each a non-empty text: an array (several claims), an object (a JSON-valued claim) or
    /// an empty text is refused, never read as its first entry.
    /// </summary>
    public static CurrentUser? From(ClaimsPrincipal principal)
    {
        var user = Single(principal, KbClaims.Subject);
        var practice = Single(principal, KbClaims.Practice);
        if (user is null || practice is null) return null;
        return new CurrentUser(user, practice, principal.FindAll(KbClaims.Role).Select(c => c.Value).ToHashSet());
    }

    private static string? Single(ClaimsPrincipal principal, string type)
    {
        Claim? found = null;
        foreach (var claim in principal.FindAll(type))
        {
            if (found is not null) return null;
            found = claim;
        }
        return found is { ValueType: ClaimValueTypes.String } && !string.IsNullOrWhiteSpace(found.Value) ? found.Value : null;
    }

    public Domain.Trajectories.Caller Caller => new(UserId, Roles);

    /// <summary>The first of <paramref name="allowed"/> this user holds; otherwise a 403 naming who may.</summary>
    public string RequireOneOf(IReadOnlyList<string> allowed, string what) =>
        allowed.FirstOrDefault(Roles.Contains) ?? throw new Domain.Trajectories.PathwayRuleException(
            Domain.Trajectories.RejectionKind.Forbidden, $"{what} are for: {string.Join(", ", allowed)}");
}
