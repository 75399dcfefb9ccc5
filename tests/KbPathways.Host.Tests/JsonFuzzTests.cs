using System.Net;
using System.Text;

namespace KbPathways.Host.Tests;

/// <summary>Random and malformed JSON against the write routes: every answer is a 4xx problem or a success, never a 500.</summary>
[Collection(HostCollection.Name)]
public class JsonFuzzTests(HostFixture host)
{
    private const int Requests = 400;

    [Fact]
    public async Task Given_random_bodies_When_posted_Then_never_a_server_error()
    {
        var practice = HostFixture.NewPractice();
        var client = host.Client(practice, "huisarts", "poh-ggz", "praktijkmanager");
        var id = await client.Start();
        var random = new Random(7513);
        string[] routes = [$"/api/trajectories/{id}/fire", "/api/trajectories", "/api/patients/fuzz/kb-mark", "/api/whatif", "/api/migrations"];
        var statuses = new Dictionary<HttpStatusCode, int>();
        for (var i = 0; i < Requests; i++)
        {
            var body = i % 5 == 0 ? Truncate(Value(random, 0), random) : Value(random, 0);
            var route = routes[random.Next(routes.Length)];
            var response = await client.PostAsync(route, new StringContent(body, Encoding.UTF8, "application/json"));
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
            ((int)response.StatusCode).ShouldBeLessThan(500, $"{route} with {body}");
            if ((int)response.StatusCode >= 400)
                response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", $"{route} with {body}");
        }
        statuses.Keys.ShouldContain(HttpStatusCode.BadRequest);
        statuses.Keys.ShouldContain(HttpStatusCode.UnprocessableEntity);
    }

    private static string Truncate(string json, Random random) => json.Length < 2 ? "{" : json[..random.Next(1, json.Length)];

    private static readonly string[] Keys = ["trigger", "data", "expectedVersion", "patientId", "pathway", "candidate", "reason", "code",
        "dryRun", "mapping", "medischOnderzoekAfgerond", "scegsNotities", "cvg", "cijfer", "state", "startedFrom"];

    private const string TextChars = "abcé 9-:{}[],\u00e9";

    private static string Value(Random random, int depth) => (depth > 3 ? random.Next(6) : random.Next(9)) switch
    {
        0 => "null",
        1 => random.Next(2) == 0 ? "true" : "false",
        2 => random.Next(3) switch { 0 => "1e400", 1 => "-0.0000001", _ => random.Next(-5, 100000).ToString() },
        3 => "\"" + new string(Enumerable.Range(0, random.Next(0, 12)).Select(_ => TextChars[random.Next(TextChars.Length)]).ToArray()) + "\"",
        4 => "\"werkhypotheseVastgelegd\"",
        5 => "\"2026-13-45\"",
        6 => "[" + string.Join(",", Enumerable.Range(0, random.Next(0, 4)).Select(_ => Value(random, depth + 1))) + "]",
        _ => "{" + string.Join(",", Enumerable.Range(0, random.Next(0, 5)).Select(_ => $"\"{Keys[random.Next(Keys.Length)]}\":{Value(random, depth + 1)}")) + "}",
    };
}
