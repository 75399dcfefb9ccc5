using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace KbPathways.Host.Tests;

/// <summary>
/// Production identity: a host configured with <c>Auth:Authority</c> takes tokens from a real OpenID Connect provider
/// (discovery and JWKS fetched from it), maps the provider's claim names, and refuses a token from another issuer, an
/// expired one and a tampered one.
/// </summary>
[Collection(HostCollection.Name)]
public class OpenIdConnectTests(HostFixture host)
{
    private readonly string practice = HostFixture.NewPractice();

    [Fact]
    public async Task Given_a_host_trusting_a_provider_Then_its_tokens_work_and_other_issuers_expired_and_tampered_tokens_are_refused()
    {
        await using var provider = await TestIdentityProvider.StartAsync();
        var sealKey = Convert.ToBase64String(KbPathways.Host.Identity.DevelopmentKeys.Read(KbPathways.Host.AccessLog.AccessLogOptions.DevelopmentKeyFile));
        var (app, address) = await TestHost.StartAsync(host.ConnectionString,
        [
            "--environment", "Production", $"--Auth:Authority={provider.Address}", "--Auth:RequireHttpsMetadata=false",
            "--Auth:RoleClaim=roles", "--Auth:PracticeClaim=kb_practice", $"--AccessLog:SealKey={sealKey}",
        ]);
        await using var _ = app;
        HttpClient With(string token) => new() { BaseAddress = address, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };

        // The provider's token: the API takes it, with the provider's claim names mapped to ours.
        var token = await provider.TokenAsync("idp-user-1", practice, ["huisarts", "poh-ggz"]);
        var good = With(token);
        var me = await (await good.GetAsync("/api/me")).Body();
        (me.GetProperty("user").GetString(), me.GetProperty("practice").GetString()).ShouldBe(("idp-user-1", practice));
        me.Strings("roles").ShouldBe(["huisarts", "poh-ggz"]);
        var id = await good.Start("solk", "p-oidc");
        (await good.GetAsync($"/api/trajectories/{id}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        // There is no development sign-in beside a provider.
        (await new HttpClient { BaseAddress = address }.GetAsync("/aanmelden")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // Another issuer (its own key), an expired token signed with the provider's key, a tampered one, another audience.
        var handler = new JsonWebTokenHandler();
        var claims = new Dictionary<string, object> { ["sub"] = "x", ["kb_practice"] = practice, ["roles"] = "huisarts" };
        var otherIssuer = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://elders.example/", Audience = "kbpathways", Claims = claims, Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(System.Security.Cryptography.RSA.Create(2048)), SecurityAlgorithms.RsaSha256),
        });
        var expired = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = provider.Address.ToString(), Audience = "kbpathways", Claims = claims,
            NotBefore = DateTime.UtcNow.AddHours(-3), Expires = DateTime.UtcNow.AddHours(-2), IssuedAt = DateTime.UtcNow.AddHours(-3),
            SigningCredentials = provider.SigningCredentials,
        });
        var parts = token.Split('.');
        var payload = Base64UrlEncoder.Decode(parts[1]).Replace(practice, HostFixture.NewPractice());
        var tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
        var otherAudience = await provider.TokenAsync("idp-user-1", practice, ["huisarts"], audience: "another-api");

        foreach (var (what, bad) in new[] { ("another issuer", otherIssuer), ("expired", expired), ("tampered", tampered), ("another audience", otherAudience) })
        {
            var answer = await With(bad).GetAsync($"/api/trajectories/{id}");
            answer.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, what);
            answer.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json", what);
        }
    }

    [Fact]
    public async Task Given_a_host_whose_pages_sign_in_at_the_provider_Then_a_POH_signs_in_there_works_and_signs_out()
    {
        await using var provider = await TestIdentityProvider.StartAsync();
        provider.User = ("idp-poh-1", "Noor Hendriks", practice, ["poh-ggz"]);
        var sealKey = Convert.ToBase64String(KbPathways.Host.Identity.DevelopmentKeys.Read(KbPathways.Host.AccessLog.AccessLogOptions.DevelopmentKeyFile));
        var (app, address) = await TestHost.StartAsync(host.ConnectionString,
        [
            "--environment", "Production", $"--Auth:Authority={provider.Address}", "--Auth:RequireHttpsMetadata=false",
            "--Auth:RoleClaim=roles", "--Auth:PracticeClaim=kb_practice", $"--Auth:ClientId={TestIdentityProvider.ClientId}",
            $"--Auth:ClientSecret={TestIdentityProvider.ClientSecret}", $"--AccessLog:SealKey={sealKey}",
        ]);
        await using var _ = app;
        var id = await With(await provider.TokenAsync("idp-huisarts", practice, ["huisarts"]), address).Start("solk", "p-oidc-page");

        await using var browser = await KbPathways.Testing.HeadlessChromium.StartAsync();
        await browser.NavigateAsync($"{address}werkplek"); // not signed in: the page sends the browser to sign in
        await browser.WaitForAsync("location.pathname === '/werkplek' && document.body?.dataset.ready === 'true'", TimeSpan.FromSeconds(30));
        (await browser.EvaluateAsync("document.querySelector('#me-name').textContent")).GetString().ShouldBe("Noor Hendriks");
        (await browser.EvaluateAsync("document.cookie")).GetString().ShouldBe(""); // the session cookie is HttpOnly; no token in the page
        (await browser.EvaluateAsync("localStorage.length + sessionStorage.length")).GetInt32().ShouldBe(0);

        // The POH works with that session: the trajectory is hers to act on.
        await browser.EvaluateAsync($"document.body.dataset.ready = 'false'; location.hash = '#/traject/{id}'; true");
        await browser.WaitForAsync("document.body.dataset.ready === 'true'");
        (await browser.EvaluateAsync("document.querySelector('h1').textContent")).GetString()!.ShouldContain("SOLK");

        // A change by that session without the page's header is refused, as for a development session.
        (await browser.EvaluateAsync($$"""
            fetch('/api/trajectories/{{id}}/fire', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ trigger: 'uitvallen', data: { reden: 'x' } }) }).then(r => r.status)
            """)).GetInt32().ShouldBe(403);

        // Signing out ends the session: the next visit signs in at the provider again — here as the colleague now at the keyboard.
        provider.User = ("idp-poh-2", "Sanne Bakker", practice, ["poh-ggz"]);
        await browser.EvaluateAsync("document.body.dataset.ready = 'false'; document.querySelector('.me form').submit(); true");
        await browser.WaitForAsync("location.pathname === '/werkplek' && document.body?.dataset.ready === 'true' && document.querySelector('#me-name').textContent === 'Sanne Bakker'",
            TimeSpan.FromSeconds(30));
    }

    private static HttpClient With(string token, Uri address) =>
        new() { BaseAddress = address, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };
}
