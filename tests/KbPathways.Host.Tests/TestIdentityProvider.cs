using System.Security.Claims;
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
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace KbPathways.Host.Tests;

/// <summary>
/// A real OpenID Connect provider for the sign-in tests, built on OpenIddict and run on the loopback: discovery,
/// JWKS and a token endpoint. A client (<see cref="ClientId"/>) gets an access token for a user with the claims the
/// test asks for, under the claim names a practice's provider might use (<c>kb_practice</c>, <c>roles</c>).
/// No store: the one client is checked by a handler (OpenIddict's degraded mode).
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string ClientId = "kbpathways-test";
    public const string ClientSecret = "test-secret";
    private readonly WebApplication app;

    public Uri Address { get; }

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
            o.SetTokenEndpointUris("connect/token");
            o.AllowClientCredentialsFlow();
            o.AddEphemeralSigningKey().AddEphemeralEncryptionKey();
            o.DisableAccessTokenEncryption(); // a plain signed JWT, as resource servers read it
            o.EnableDegradedMode();
            o.UseAspNetCore().DisableTransportSecurityRequirement().EnableTokenEndpointPassthrough();
            o.AddEventHandler<OpenIddictServerEvents.ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId || context.ClientSecret != ClientSecret)
                    context.Reject(Errors.InvalidClient, "unknown client");
                return default;
            }));
        });
        var app = builder.Build();
        app.MapPost("/connect/token", (HttpContext http) =>
        {
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
        return new TestIdentityProvider(app, address);
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
