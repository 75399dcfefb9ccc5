using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using KbPathways.Host.Identity;
using KbPathways.Projections.Database;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using Xunit.Abstractions;

namespace KbPathways.Host.Tests;

/// <summary>
/// The findings of the outsider's probe of the access log and the error answers (issue 21), each as it was found: the
/// record must name the patient the endpoint read, a bad id must get a clear 422 and still leave a record without
/// harming anyone else's request, and every error must be problem+json.
/// </summary>
[Collection(HostCollection.Name)]
public class AccessLogProbeTests(HostFixture host, ITestOutputHelper output)
{
    private readonly string practice = HostFixture.NewPractice();

    /// <summary>This practice's records, oldest first, read straight from the table.</summary>
    private async Task<List<(string Type, string? Patients, int Status)>> Records()
    {
        await using var connection = new NpgsqlConnection(host.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT event_type, patient, status FROM {AuditSchema.Log} WHERE practice = @p ORDER BY seq", connection);
        command.Parameters.AddWithValue("p", practice);
        var records = new List<(string, string?, int)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) records.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt32(2)));
        return records;
    }

    [Fact]
    public async Task Given_a_decoy_patientId_in_the_query_of_any_route_Then_the_record_names_the_patient_actually_read()
    {
        var huisarts = host.Client(practice, "huisarts");
        var id = await huisarts.Start("solk", "p-echt");

        foreach (var route in new[] { $"/api/trajectories/{id}/history?patientId=decoy", $"/api/trajectories/{id}?patientId=decoy", "/api/worklist?patientId=decoy" })
        {
            (await huisarts.GetAsync(route)).StatusCode.ShouldBe(HttpStatusCode.OK, route);
            (await Records())[^1].Patients.ShouldBe("p-echt", route);
        }
        // On a route that does search by patient, the search names whom it searched for, and what it found.
        (await huisarts.GetAsync("/api/trajectories?patientId=p-echt")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Records())[^1].Patients.ShouldBe("p-echt");
        (await Records()).ShouldNotContain(r => r.Patients != null && r.Patients.Contains("decoy"));
    }

    public static TheoryData<string, string> BadIds => new()
    {
        { "comma", "a,b" },
        { "NUL", "p\u0000x" },
        { "3,000 characters", new string('x', 3000) },
        { "space", "Jan Jansen" },
    };

    [Theory]
    [MemberData(nameof(BadIds))]
    public async Task Given_an_invalid_patient_id_anywhere_When_sent_Then_422_naming_the_field_and_one_record_per_request(string what, string bad)
    {
        var huisarts = host.Client(practice, "huisarts");
        var before = (await Records()).Count;
        var escaped = Uri.EscapeDataString(bad);

        var answers = new[]
        {
            await huisarts.PostAsJsonAsync("/api/trajectories", new { patientId = bad, pathway = "solk" }),
            await huisarts.GetAsync($"/api/patients/{escaped}"),
            await huisarts.PostAsJsonAsync($"/api/patients/{escaped}/kb-mark", new { reason = "x" }),
            await huisarts.GetAsync($"/api/trajectories?patientId={escaped}"),
            await host.Client(practice, "praktijkmanager").GetAsync($"/api/access-log?patientId={escaped}"),
        };

        // Kestrel refuses a NUL in the path itself (a bare 400) before KbPathways sees the request: nothing is read.
        bool ByServer(int i) => bad.Contains('\0') && i is 1 or 2;
        foreach (var (answer, i) in answers.Select((a, i) => (a, i)))
        {
            if (ByServer(i))
            {
                answer.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
                continue;
            }
            answer.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity, $"{what} #{i}");
            answer.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            var body = await answer.Content.ReadAsStringAsync();
            (await answer.Body()).GetProperty("errors").GetProperty("patientId")[0].GetString()!.ShouldBeOneOf(
                "may only contain letters a–z and A–Z, digits 0–9 and the characters - _ . :", "is longer than 64 characters");
            body.ShouldNotContain(bad.Length > 20 ? bad[..20] : bad); // the value is never echoed
        }
        var records = (await Records()).Skip(before).ToList();
        records.Count.ShouldBe(answers.Where((_, i) => !ByServer(i)).Count(), what);
        records.ShouldAllBe(r => r.Status == 422 && r.Patients == null);
        (await huisarts.GetAsync("/api/trajectories")).StatusCode.ShouldBe(HttpStatusCode.OK); // nothing else harmed
    }

    [Fact]
    public async Task Given_a_page_far_past_the_end_When_listed_Then_an_empty_page_not_a_500()
    {
        var huisarts = host.Client(practice, "huisarts");
        await huisarts.Start("solk", "p-page");
        foreach (var route in new[] { "/api/trajectories?page=2147483647&pageSize=200", "/api/worklist?page=2147483647&pageSize=200" })
        {
            var answer = await huisarts.GetAsync(route);
            answer.StatusCode.ShouldBe(HttpStatusCode.OK, route);
            var page = await answer.Body();
            page.GetProperty("items").GetArrayLength().ShouldBe(0, route);
            page.GetProperty("total").GetInt32().ShouldBe(1, route);
        }
    }

    private string TokenWith(Dictionary<string, object> claims) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Claims = claims, Issuer = host.Services.GetRequiredService<AuthOptions>().Issuer, Audience = host.Services.GetRequiredService<AuthOptions>().Audience,
        Expires = DateTime.UtcNow.AddHours(1),
        SigningCredentials = new SigningCredentials(host.Services.GetRequiredService<AuthOptions>().Key(), SecurityAlgorithms.HmacSha256),
    });

    public static TheoryData<string> BadPracticeClaims => ["empty", "array", "object", "missing", "no sub"];

    [Theory]
    [MemberData(nameof(BadPracticeClaims))]
    public async Task Given_a_token_without_exactly_one_practice_and_user_When_used_Then_403_problem_and_no_data(string shape)
    {
        var other = HostFixture.NewPractice();
        await host.Client(other, "huisarts").Start("solk", "p-claim");
        var claims = new Dictionary<string, object> { ["sub"] = "user-x", ["role"] = "huisarts" };
        switch (shape)
        {
            case "empty": claims["practice"] = ""; break;
            case "array": claims["practice"] = new[] { other, practice }; break;
            case "object": claims["practice"] = new Dictionary<string, object> { ["id"] = other }; break;
            case "no sub": claims.Remove("sub"); claims["practice"] = other; break;
        }
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TokenWith(claims));

        foreach (var route in new[] { "/api/trajectories", "/api/worklist", "/api/dashboard" })
        {
            var answer = await client.GetAsync(route);
            answer.StatusCode.ShouldBe(HttpStatusCode.Forbidden, $"{shape} {route}");
            answer.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json", $"{shape} {route}");
            (await answer.Body()).GetProperty("status").GetInt32().ShouldBe(403);
        }
    }

    [Fact]
    public async Task Given_requests_no_endpoint_answers_When_sent_Then_each_error_is_problem_json()
    {
        var huisarts = host.Client(practice, "huisarts");
        var calls = new (Func<Task<HttpResponseMessage>> Call, HttpStatusCode Status)[]
        {
            (() => huisarts.GetAsync("/api/bestaat-niet"), HttpStatusCode.NotFound),
            (() => huisarts.GetAsync("/bestaat-niet"), HttpStatusCode.NotFound),
            (() => huisarts.PutAsync("/api/worklist", new StringContent("{}", Encoding.UTF8, "application/json")), HttpStatusCode.MethodNotAllowed),
            (() => huisarts.PostAsync("/api/trajectories", new StringContent("patientId=p", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType),
            (() => huisarts.GetAsync("/api/trajectories?pathway=" + new string('x', 9000)), HttpStatusCode.RequestUriTooLong),
            (() => host.Client(practice).GetAsync("/api/worklist"), HttpStatusCode.Unauthorized),
        };
        foreach (var (call, status) in calls)
        {
            var answer = await call();
            answer.StatusCode.ShouldBe(status);
            answer.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", status.ToString());
            (await answer.Body()).GetProperty("status").GetInt32().ShouldBe((int)status);
        }
    }

    [Fact]
    public async Task Given_a_candidate_with_thousands_of_errors_When_what_if_Then_the_answer_lists_the_first_100_and_the_count()
    {
        var manager = host.Client(practice, "praktijkmanager");
        var candidate = "extends: proactieve-ouderenzorg\nsettings:\n" + string.Concat(Enumerable.Range(0, 3000).Select(i => $"  bestaatNiet{i}: 5\n"));

        var answer = await manager.PostAsJsonAsync("/api/whatif", new { candidate });

        answer.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await answer.Content.ReadAsByteArrayAsync()).Length.ShouldBeLessThan(64 * 1024);
        var problem = await answer.Body();
        problem.GetProperty("errors").GetProperty("candidate").GetArrayLength().ShouldBe(100);
        problem.GetProperty("detail").GetString()!.ShouldContain("3000 errors");
    }

    [Fact]
    [Trait("Category", "Reliability")]
    public async Task Given_one_client_sending_poisoned_ids_When_six_clients_of_another_practice_read_Then_none_of_their_reads_fail_and_every_poisoned_request_has_its_record()
    {
        var readers = HostFixture.NewPractice();
        var reader = host.Client(readers, "huisarts");
        var id = await reader.Start("solk", "p-lezer");
        var attacker = host.Client(practice, "huisarts");
        string[] poisons = ["p\u0000x", new string('y', 3000), "a,b"];
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var sent = 0;
        var refusedByServer = 0;
        var failedReads = 0;
        var reads = 0;

        async Task Poison()
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var bad = poisons[i % poisons.Length];
                var request = (i / poisons.Length % 3) switch
                {
                    0 => attacker.PostAsJsonAsync("/api/trajectories", new { patientId = bad, pathway = "solk" }),
                    1 => attacker.GetAsync($"/api/patients/{Uri.EscapeDataString(bad)}"),
                    _ => attacker.GetAsync($"/api/trajectories?patientId={Uri.EscapeDataString(bad)}"),
                };
                var answer = await request;
                if (answer.StatusCode == HttpStatusCode.TooManyRequests) await Task.Delay(20);
                else if (answer.Content.Headers.ContentLength == 0) Interlocked.Increment(ref refusedByServer); // a NUL in the path: Kestrel's bare 400
                else Interlocked.Increment(ref sent);
            }
        }

        async Task Read(HttpClient client)
        {
            while (!stop.IsCancellationRequested)
            {
                var answer = await client.GetAsync($"/api/trajectories/{id}");
                if (answer.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref reads);
                else if (answer.StatusCode == HttpStatusCode.TooManyRequests) await Task.Delay(10); // their own budget, not a failure
                else Interlocked.Increment(ref failedReads);
            }
        }

        // Each reader its own user: the rate limit is per user, so six readers are six budgets.
        await Task.WhenAll([Poison(), .. Enumerable.Range(0, 6).Select(i => Read(ReaderClient(readers, i)))]);

        output.WriteLine($"{reads} reads answered 200, {failedReads} failed; {sent} poisoned requests reached the host, {refusedByServer} refused by Kestrel");
        reads.ShouldBeGreaterThan(100);
        failedReads.ShouldBe(0);
        sent.ShouldBeGreaterThan(50);
        refusedByServer.ShouldBeLessThan(sent / 4); // only the NUL-in-path third of the path requests
        (await Records()).Count(r => r.Status != 429).ShouldBe(sent);
    }

    private HttpClient ReaderClient(string readers, int i)
    {
        var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            KbClaims.CreateToken(host.Services.GetRequiredService<AuthOptions>(), $"lezer-{i}", "Lezer", ["huisarts"], readers, TimeSpan.FromHours(1)));
        return client;
    }
}
