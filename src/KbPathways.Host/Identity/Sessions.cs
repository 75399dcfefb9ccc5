using System.Net;
using System.Security.Claims;
using KbPathways.Host.Api;
using KbPathways.Host.Hosting;
using KbPathways.Projections;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace KbPathways.Host.Identity;

/// <summary>A user the development sign-in page offers.</summary>
public sealed record DemoUser(string Id, string Name, string Role, string RoleLabel);

/// <summary>
/// The pages' sign-in: a session cookie the host keeps (HttpOnly, SameSite=Strict; no token in the page, a URL or
/// browser storage). The API accepts it beside bearer tokens: a request with an <c>Authorization: Bearer</c> header is
/// authenticated by its token, any other by its cookie. A change made with the cookie must carry the header
/// <c>X-KbPathways: 1</c>, which another site's page cannot send (so a forged form post is refused with 403).
/// In development (the development signing key) <c>/aanmelden</c> lists demo users, one per role, and signs in
/// without a password; otherwise that page does not exist.
/// </summary>
public static class Sessions
{
    public const string CookieScheme = "session";
    public const string Scheme = "kb";
    public const string CsrfHeader = "X-KbPathways";
    public const string CookieName = "kb-session";

    public const string ProviderScheme = "provider";

    public static void Add(AuthenticationBuilder authentication, AuthOptions auth)
    {
        if (auth.PagesSignInAtProvider)
            authentication.AddOpenIdConnect(ProviderScheme, o =>
            {
                // The authorization code flow with PKCE; the host keeps the session (the cookie below), so no token
                // reaches the page. The provider's claim names become ours, as for bearer tokens.
                o.Authority = auth.Authority;
                o.ClientId = auth.ClientId;
                o.ClientSecret = auth.ClientSecret;
                o.ResponseType = "code";
                o.UsePkce = true;
                o.RequireHttpsMetadata = auth.RequireHttpsMetadata;
                o.SignInScheme = CookieScheme;
                o.MapInboundClaims = false;
                o.SaveTokens = false;
                o.Scope.Clear();
                o.Scope.Add("openid");
                o.Scope.Add("profile");
                o.TokenValidationParameters.NameClaimType = KbClaims.Name;
                o.TokenValidationParameters.RoleClaimType = KbClaims.Role;
                // The round trip's own cookies must come back on the provider's redirect (a top-level GET).
                o.CorrelationCookie.SameSite = o.NonceCookie.SameSite = SameSiteMode.Lax;
                o.CorrelationCookie.SecurePolicy = o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.Events.OnTokenValidated = context =>
                {
                    if (context.Principal?.Identity is ClaimsIdentity identity)
                    {
                        KbClaims.Map(identity, auth);
                        // A session is kept only for a user the API would accept (one user, one practice).
                        if (CurrentUser.From(context.Principal) is null) context.Fail("the provider's user has no single practice");
                    }
                    return Task.CompletedTask;
                };
            });
        authentication.AddCookie(CookieScheme, o =>
        {
            o.Cookie.Name = CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8); // a working day; each request moves it on
            o.SlidingExpiration = true;
            o.Events = new CookieAuthenticationEvents
            {
                OnRedirectToLogin = c => Problems.Write(c.HttpContext, Problem(401, "Not signed in", "Sign in again.")),
                OnRedirectToAccessDenied = c => Problems.Write(c.HttpContext, Problem(403, "Not allowed", "Your session may not do this.")),
            };
        });
        authentication.AddPolicyScheme(Scheme, "Bearer token or session cookie", o => o.ForwardDefaultSelector = context =>
            context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                || !context.Request.Cookies.ContainsKey(CookieName)
                ? JwtBearerDefaults.AuthenticationScheme
                : CookieScheme);
    }

    private static Microsoft.AspNetCore.Mvc.ProblemDetails Problem(int status, string title, string detail) => new()
    {
        Status = status, Title = title, Detail = detail,
        Type = $"https://kbpathways.example/problems/{(status == 401 ? "unauthorized" : "forbidden")}",
    };

    /// <summary>
    /// Refuses a change to the API made with the session cookie that does not carry <see cref="CsrfHeader"/> (signing in
    /// and out are pages' own forms, and harmless to forge).
    /// </summary>
    public static Task Guard(HttpContext context, RequestDelegate next) =>
        context.Request.Path.StartsWithSegments("/api") && context.User.Identity is { IsAuthenticated: true } && BySession(context.Request)
        && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)
        && context.Request.Headers[CsrfHeader] != "1"
            ? Problems.Write(context, Problem(403, "Not allowed", $"A change made with a session must carry the header {CsrfHeader}: 1."))
            : next(context);

    /// <summary>Whether the request is authenticated by the session cookie (as the policy scheme decides), whoever signed it in.</summary>
    private static bool BySession(HttpRequest request) =>
        !request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && request.Cookies.ContainsKey(CookieName);

    /// <summary>One demo user per role of the shipped pathways, plus the practice manager.</summary>
    public static IReadOnlyList<DemoUser> DemoUsers(PathwayCatalog catalog)
    {
        var roles = catalog.All.Where(d => d.Practice is null).SelectMany(d => d.Roles)
            .GroupBy(r => r.Name).Select(g => (Name: g.Key, g.First().Label))
            .Append(("praktijkmanager", "Praktijkmanager")).DistinctBy(r => r.Item1).ToList();
        return [.. roles.Select(r => new DemoUser($"demo-{r.Item1}", Names.GetValueOrDefault(r.Item1, $"Demo {r.Item2}"), r.Item1, r.Item2))
            .OrderBy(u => Order(u.Role)).ThenBy(u => u.RoleLabel, StringComparer.Ordinal)];
    }

    private static int Order(string role) => Array.IndexOf(Main, role) is var i and >= 0 ? i : Main.Length;

    private static readonly string[] Main = ["huisarts", "poh-kb", "poh-ggz", "poh-o", "poh", "assistent", "praktijkmanager"];

    private static readonly Dictionary<string, string> Names = new()
    {
        ["huisarts"] = "Dr. Anne Jansen", ["poh-kb"] = "Fatima de Vries", ["poh-ggz"] = "Sanne Bakker", ["poh-o"] = "Henk Visser",
        ["poh"] = "Noor Hendriks", ["assistent"] = "Lotte Smit", ["praktijkmanager"] = "Peter Mulder",
        ["buurtteammedewerker"] = "Yasmina El Amrani", ["wijkverpleegkundige"] = "Ingrid de Boer", ["beweegmakelaar"] = "Kevin Bos",
    };

    /// <summary>With the provider: <c>/aanmelden</c> sends the browser to sign in there, and back to the werkplek.</summary>
    public static void MapProviderSignIn(WebApplication app)
    {
        app.MapGet("/aanmelden", (HttpContext context) => Results.Challenge(
            new AuthenticationProperties { RedirectUri = "/werkplek" }, [ProviderScheme])).AllowAnonymous();
        MapSignOut(app);
    }

    /// <summary>The development sign-in and sign-out, mapped only while the development key is in use outside Production.</summary>
    public static void MapDevelopmentSignIn(WebApplication app)
    {
        app.MapGet("/aanmelden", (PathwayCatalog catalog, HttpContext context) => Page(context, DemoUsers(catalog))).AllowAnonymous();
        app.MapPost("/aanmelden", async (HttpContext context, PathwayCatalog catalog) =>
        {
            var form = await context.Request.ReadFormAsync();
            var user = DemoUsers(catalog).FirstOrDefault(u => u.Id == form["user"]);
            var practice = form["praktijk"].ToString().Trim();
            if (user is null || practice.Length is 0 or > 64 || !practice.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                return Results.Redirect("/aanmelden");
            var identity = new ClaimsIdentity([
                new Claim(KbClaims.Subject, user.Id), new Claim(KbClaims.Name, user.Name), new Claim(KbClaims.Practice, practice),
                new Claim(KbClaims.Role, user.Role)], CookieScheme, KbClaims.Name, KbClaims.Role);
            await context.SignInAsync(CookieScheme, new ClaimsPrincipal(identity));
            return Results.Redirect(user.Role == "praktijkmanager" ? "/dashboard" : "/werkplek");
        }).AllowAnonymous().DisableAntiforgery();
        MapSignOut(app);
    }

    public static void MapSignOut(WebApplication app) =>
        app.MapPost("/afmelden", async (HttpContext context) =>
        {
            await context.SignOutAsync(CookieScheme);
            return Results.Redirect("/");
        }).AllowAnonymous().DisableAntiforgery();

    private static IResult Page(HttpContext context, IReadOnlyList<DemoUser> users)
    {
        EmbeddedPages.SecureHeaders(context);
        var rows = string.Join("\n", users.Select(u => $"""
                <li><button type="submit" name="user" value="{WebUtility.HtmlEncode(u.Id)}"><span class="name">{WebUtility.HtmlEncode(u.Name)}</span>
                  <span class="role">{WebUtility.HtmlEncode(u.RoleLabel)}</span></button></li>
            """));
        return Results.Content($$"""
            <!doctype html>
            <html lang="nl">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Aanmelden · KbPathways</title><link rel="stylesheet" href="/werkplek/werkplek.css"></head>
            <body class="signin" data-ready="true">
            <main>
              <h1>Aanmelden</h1>
              <p class="notice">Ontwikkelomgeving: kies een demogebruiker. Er is geen wachtwoord; in productie meldt u zich aan bij
              het identiteitssysteem van de praktijk en bestaat deze pagina niet.</p>
              <form method="post" action="/aanmelden">
                <p><label for="praktijk">Praktijk</label> <input id="praktijk" name="praktijk" value="{{DemoData.Practice}}" required
                  pattern="[A-Za-z0-9_\-]{1,64}" autocomplete="off"></p>
                <ul class="users">
            {{rows}}
                </ul>
              </form>
            </main>
            </body>
            </html>
            """, "text/html; charset=utf-8");
    }
}
