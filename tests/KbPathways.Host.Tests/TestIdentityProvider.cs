using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using Microsoft.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace KbPathways.Host.Tests;

/// <summary>
/// A real OpenID Connect provider for the sign-in tests, built on OpenIddict and run on the loopback: discovery,
/// JWKS, a token endpoint (client credentials, for API tokens) and an authorization endpoint (the code flow with
/// PKCE, for the pages), under the claim names a practice's provider might use (<c>kb_practice</c>, <c>roles</c>).
/// Its "login" signs in <see cref="User"/> at once: the test sets who is at the keyboard. No store: the one client
/// is checked by handlers (OpenIddict's degraded mode).
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string ClientId = "kbpathways-test";
    public const string ClientSecret = "test-secret";
    private readonly WebApplication app;

    public Uri Address { get; }

    /// <summary>Who the authorization endpoint signs in (the person at the provider's login page).</summary>
    public (string User, string Name, string Practice, string[] Roles) User { get; set; } = ("idp-user", "IdP User", "praktijk", ["huisarts"]);

    private TestIdentityProvider(WebApplication app, Uri address)
    {
        this.app = app;
        Address = address;
    }

    public static async Task<TestIdentityProvider> StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Logging:LogLevel:Default"] = "Warning";
        builder.Services.AddOpenIddict().AddServer(o =>
        {
            o.SetTokenEndpointUris("connect/token").SetAuthorizationEndpointUris("connect/authorize");
            o.AllowClientCredentialsFlow().AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
            o.RegisterScopes(Scopes.OpenId, Scopes.Profile);
            o.AddEphemeralSigningKey().AddEphemeralEncryptionKey();
            o.DisableAccessTokenEncryption(); // a plain signed JWT, as resource servers read it
            o.EnableDegradedMode();
            o.UseAspNetCore().DisableTransportSecurityRequirement().EnableTokenEndpointPassthrough().EnableAuthorizationEndpointPassthrough();
            o.AddEventHandler<OpenIddictServerEvents.ValidateAuthorizationRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId) context.Reject(Errors.InvalidClient, "unknown client");
                else if (context.RedirectUri is null || !new Uri(context.RedirectUri).IsLoopback) context.Reject(Errors.InvalidRequest, "redirect_uri not allowed");
                return default;
            }));
            o.AddEventHandler<OpenIddictServerEvents.ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId || context.ClientSecret != ClientSecret)
                    context.Reject(Errors.InvalidClient, "unknown client");
                return default;
            }));
        });
        var app = builder.Build();
        TestIdentityProvider? self = null;
        app.MapGet("/connect/authorize", (HttpContext http) =>
        {
            // The login: the user the test put at the keyboard, with the claims for the identity token.
            var (user, name, practice, roles) = self!.User;
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.AddClaim(new Claim(Claims.Subject, user));
            identity.AddClaim(new Claim(Claims.Name, name));
            foreach (var role in roles) identity.AddClaim(new Claim("roles", role));
            identity.AddClaim(new Claim("kb_practice", practice));
            foreach (var claim in identity.Claims) claim.SetDestinations(Destinations.AccessToken, Destinations.IdentityToken);
            var principal = new ClaimsPrincipal(identity);
            principal.SetScopes(Scopes.OpenId, Scopes.Profile);
            return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        app.MapPost("/connect/token", async (HttpContext http) =>
        {
            if (http.GetOpenIddictServerRequest()!.IsAuthorizationCodeGrantType())
            {
                // The code (and its PKCE verifier) was checked by OpenIddict: issue the tokens for the principal it carried.
                var granted = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
                return Results.SignIn(granted.Principal!, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            }
            // The user and their claims ride along as extra form fields: this provider is a test double of a login.
            var form = http.Request.Form;
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.AddClaim(new Claim(Claims.Subject, form["user"].ToString()));
            identity.AddClaim(new Claim(Claims.Name, form["name"].ToString()));
            foreach (var role in form["role"]) identity.AddClaim(new Claim("roles", role!));
            identity.AddClaim(new Claim("kb_practice", form["practice"].ToString()));
            foreach (var claim in identity.Claims) claim.SetDestinations(Destinations.AccessToken);
            var principal = new ClaimsPrincipal(identity);
            principal.SetAudiences(form["api"].ToString() is { Length: > 0 } audience ? audience : "kbpathways");
            return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return self = new TestIdentityProvider(app, address);
    }

    /// <summary>The provider's own signing key: for making tokens it would never issue (expired), as an attacker cannot.</summary>
    public SigningCredentials SigningCredentials =>
        app.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.SigningCredentials.First();

    /// <summary>An access token from the token endpoint, by the client-credentials flow.</summary>
    public async Task<string> TokenAsync(string user, string practice, string[] roles, string? audience = null)
    {
        using var client = new HttpClient { BaseAddress = Address };
        var fields = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "client_credentials"), new("client_id", ClientId), new("client_secret", ClientSecret),
            new("user", user), new("name", user), new("practice", practice), new("api", audience ?? ""),
        };
        fields.AddRange(roles.Select(r => new KeyValuePair<string, string>("role", r)));
        var response = await client.PostAsync("connect/token", new FormUrlEncodedContent(fields));
        var body = await response.Body();
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"token request refused: {body}");
        return body.GetProperty("access_token").GetString()!;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
