using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using KbPathways.Host.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace KbPathways.Host.Tests;

/// <summary>
/// Every route of the host × every kind of caller. The rows are checked against the host's live route table, so a
/// route added without a row here fails this test.
/// </summary>
[Collection(HostCollection.Name)]
public class AuthorizationMatrixTests(HostFixture host)
{
    private sealed record Ctx(string Trajectory, string Patient);

    /// <param name="WrongRole">Expected status for a practice member whose role has no rights here.</param>
    /// <param name="OtherPractice">Expected status for a valid token of another practice.</param>
    private sealed record Row(string Method, string Pattern, Func<Ctx, HttpRequestMessage>? Request, HttpStatusCode WrongRole, HttpStatusCode OtherPractice);

    private static HttpRequestMessage Get(string url) => new(HttpMethod.Get, url);
    private static HttpRequestMessage Post(string url, object body) => new(HttpMethod.Post, url) { Content = JsonContent.Create(body) };

    private static readonly Row[] Rows =
    [
        new("GET", "/health", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/", null, HttpStatusCode.Redirect, HttpStatusCode.Redirect),
        new("GET", "/werkplek", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/werkplek/{asset}", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/aanmelden", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("POST", "/aanmelden", null, HttpStatusCode.Redirect, HttpStatusCode.Redirect),
        new("POST", "/afmelden", null, HttpStatusCode.Redirect, HttpStatusCode.Redirect),
        new("GET", "/api/me", _ => Get("/api/me"), HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/health/live", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/health/ready", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/dashboard", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/dashboard/{asset}", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/openapi/{documentName}.json", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/api-docs/{documentName?}", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/api-docs/scalar.js", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/api-docs/scalar.aspnetcore.js", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/api-docs/favicon.svg", null, HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/api/pathways", _ => Get("/api/pathways"), HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/api/pathways/{id}", _ => Get("/api/pathways/solk"), HttpStatusCode.OK, HttpStatusCode.OK),
        new("POST", "/api/trajectories", c => Post("/api/trajectories", new { patientId = c.Patient, pathway = "solk" }), HttpStatusCode.Forbidden, HttpStatusCode.Created),
        new("GET", "/api/trajectories", c => Get($"/api/trajectories?patientId={c.Patient}"), HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/api/trajectories/{id}", c => Get($"/api/trajectories/{c.Trajectory}"), HttpStatusCode.OK, HttpStatusCode.NotFound),
        new("GET", "/api/trajectories/{id}/history", c => Get($"/api/trajectories/{c.Trajectory}/history"), HttpStatusCode.OK, HttpStatusCode.NotFound),
        new("POST", "/api/trajectories/{id}/fire", c => Post($"/api/trajectories/{c.Trajectory}/fire", new { trigger = "uitvallen", data = new { reden = "x" } }),
            HttpStatusCode.Forbidden, HttpStatusCode.NotFound),
        new("GET", "/api/patients/{patientId}", c => Get($"/api/patients/{c.Patient}"), HttpStatusCode.OK, HttpStatusCode.NotFound),
        new("POST", "/api/patients/{patientId}/kb-mark", c => Post($"/api/patients/{c.Patient}/kb-mark", new { reason = "x" }), HttpStatusCode.Forbidden, HttpStatusCode.OK),
        new("POST", "/api/patients/{patientId}/kb-mark/remove", c => Post($"/api/patients/{c.Patient}/kb-mark/remove", new { reason = "x" }),
            HttpStatusCode.Forbidden, HttpStatusCode.Conflict),
        new("DELETE", "/api/patients/{patientId}", c => new HttpRequestMessage(HttpMethod.Delete, $"/api/patients/{c.Patient}"),
            HttpStatusCode.Forbidden, HttpStatusCode.NotFound),
        new("GET", "/api/access-log", c => Get($"/api/access-log?patientId={c.Patient}"), HttpStatusCode.Forbidden, HttpStatusCode.OK),
        new("GET", "/api/access-log/verify", _ => Get("/api/access-log/verify"), HttpStatusCode.Forbidden, HttpStatusCode.OK),
        new("GET", "/api/worklist", _ => Get("/api/worklist"), HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/api/jaarbespreking", _ => Get("/api/jaarbespreking"), HttpStatusCode.OK, HttpStatusCode.OK),
        new("GET", "/api/dashboard", _ => Get("/api/dashboard"), HttpStatusCode.Forbidden, HttpStatusCode.OK),
        new("GET", "/api/quality", _ => Get("/api/quality?format=csv"), HttpStatusCode.Forbidden, HttpStatusCode.OK),
        new("POST", "/api/whatif", _ => Post("/api/whatif", new { candidate = "extends: solk\nsettings:\n  maxSessies: 3\n" }), HttpStatusCode.Forbidden, HttpStatusCode.OK),
        new("POST", "/api/migrations", _ => Post("/api/migrations", new { candidate = "extends: solk\nsettings:\n  maxSessies: 3\n" }), HttpStatusCode.Forbidden, HttpStatusCode.OK),
    ];

    private static readonly string[] AllRoles = ["huisarts", "poh-ggz", "poh-kb", "praktijkmanager"];

    [Fact]
    public void Given_the_live_route_table_Then_every_route_has_exactly_one_row()
    {
        var live = host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => $"{m} {e.RoutePattern.RawText}"));
        live.Order().ShouldBe(Rows.Select(r => $"{r.Method} {r.Pattern}").Order());
    }

    [Fact]
    public async Task Given_every_route_When_called_by_every_kind_of_caller_Then_the_expected_answer_and_nothing_leaks()
    {
        var practice = HostFixture.NewPractice();
        var owner = host.Client(practice, AllRoles);
        var patient = "matrix-" + Guid.NewGuid().ToString("N")[..6];
        var trajectory = await owner.Start("solk", patient);
        var ctx = new Ctx(trajectory, patient);
        var auth = host.Services.GetRequiredService<AuthOptions>();

        var badTokens = new Dictionary<string, string?>
        {
            ["no token"] = null,
            ["expired"] = Token(auth.Key(), auth, practice, DateTime.UtcNow.AddHours(-2), DateTime.UtcNow.AddHours(-1)),
            ["forged"] = Token(new SymmetricSecurityKey(new byte[32]), auth, practice, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1)),
            ["alg none"] = AlgNone(auth, practice),
        };
        foreach (var row in Rows.Where(r => r.Request is not null))
        {
            foreach (var (kind, token) in badTokens)
            {
                var response = await Send(row.Request!(ctx), token);
                response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, $"{row.Method} {row.Pattern} with {kind}");
                response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
            }
            var request = row.Request!(ctx);
            var path = request.RequestUri!.ToString().Split('?')[0];
            var other = await Send(request, host.Token(HostFixture.NewPractice(), AllRoles));
            other.StatusCode.ShouldBe(row.OtherPractice, $"{row.Method} {row.Pattern} from another practice");
            // Apart from echoing the caller's own request path, nothing of practice A may come back.
            var otherBody = (await other.Content.ReadAsStringAsync()).Replace(path, "");
            otherBody.ShouldNotContain(trajectory, customMessage: $"{row.Pattern} leaked a trajectory id to another practice");
            var wrong = await Send(row.Request!(ctx), host.Token(practice, "assistent"));
            wrong.StatusCode.ShouldBe(row.WrongRole, $"{row.Method} {row.Pattern} with a role without rights");
        }
        foreach (var row in Rows.Where(r => r.Request is null && r.Method == "GET" && !r.Pattern.Contains('{')))
            (await Send(Get(row.Pattern), null)).StatusCode.ShouldBe(HttpStatusCode.OK, row.Pattern);
    }

    [Fact]
    public async Task Given_client_supplied_practice_user_or_role_fields_When_starting_Then_they_are_ignored()
    {
        var practice = HostFixture.NewPractice();
        var victim = HostFixture.NewPractice();
        var client = host.Client(practice, "huisarts");
        var response = await client.PostAsJsonAsync("/api/trajectories",
            new { patientId = "spoof-1", pathway = "solk", practice = victim, user = "someone-else", role = "praktijkmanager" });
        var id = (await response.Body()).GetProperty("id").GetString()!;

        (await host.Client(victim, "huisarts").GetAsync($"/api/trajectories/{id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var history = await (await client.GetAsync($"/api/trajectories/{id}/history")).Body();
        history[0].GetProperty("actor").GetProperty("user").GetString().ShouldBe("user-huisarts");
        history[0].GetProperty("actor").GetProperty("role").GetString().ShouldBe("huisarts");
    }

    private async Task<HttpResponseMessage> Send(HttpRequestMessage request, string? token)
    {
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }

    private static string Token(SecurityKey key, AuthOptions auth, string practice, DateTime notBefore, DateTime expires) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new("sub", "u"), new("practice", practice), .. AllRoles.Select(r => new Claim("role", r))]),
            Issuer = auth.Issuer, Audience = auth.Audience, NotBefore = notBefore, Expires = expires, IssuedAt = notBefore,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });

    private static string AlgNone(AuthOptions auth, string practice)
    {
        static string B64(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        return $"{B64("""{"alg":"none","typ":"JWT"}""")}.{B64($$"""{"sub":"u","practice":"{{practice}}","role":"praktijkmanager","iss":"{{auth.Issuer}}","aud":"{{auth.Audience}}","exp":{{exp}}}""")}.";
    }
}
