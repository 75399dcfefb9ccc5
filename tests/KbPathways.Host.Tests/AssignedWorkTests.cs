using System.Net.Http.Headers;
using KbPathways.Host.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace KbPathways.Host.Tests;

/// <summary>
/// Work for a person, not only a role: the POH-Kb who takes a patient into care (kb-begeleiding's inZorgGenomen,
/// assign: self) has that patient's work on her own worklist; another POH-Kb sees it only under the practice's.
/// </summary>
[Collection(HostCollection.Name)]
public class AssignedWorkTests(HostFixture host)
{
    private readonly string practice = HostFixture.NewPractice();

    private HttpClient As(string user, string role)
    {
        var client = host.Client(practice);
        var token = KbClaims.CreateToken(host.Services.GetRequiredService<AuthOptions>(), user, user, [role], practice, TimeSpan.FromHours(1));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<List<string>> Worklist(HttpClient client, string scope = "mijn") =>
        [.. (await (await client.GetAsync($"/api/worklist?scope={scope}&pathway=kb-begeleiding")).Body()).GetProperty("items").EnumerateArray()
            .Where(i => !i.GetProperty("decision").GetBoolean())
            .Select(i => $"{i.GetProperty("patientId").GetString()}:{i.GetProperty("track").GetString()}:{(i.TryGetProperty("assignedTo", out var a) ? a.GetString() : null)}")];

    [Fact]
    public async Task Given_a_patient_taken_into_care_by_Anna_Then_it_is_on_Annas_worklist_not_on_Bens_and_the_practice_sees_whose_it_is()
    {
        var huisarts = As("dr-jansen", "huisarts");
        var id = await huisarts.Start("kb-begeleiding", "aw-1");
        (await huisarts.Fire(id, new { trigger = "kbMarkeringGeplaatst", data = new { kbCode = "A69.02", doelgroep = "stapeling", eigenHuisarts = "dr. Jansen", reden = "x" } }))
            .EnsureSuccessStatusCode();
        var (anna, ben) = (As("anna", "poh-kb"), As("ben", "poh-kb"));
        (await Worklist(anna)).ShouldContain("aw-1:main:");                 // in beeld: the role's, no one's in particular
        (await Worklist(ben)).ShouldContain("aw-1:main:");

        (await anna.Fire(id, new { trigger = "inZorgGenomen", data = new { reden = "crisis" } })).EnsureSuccessStatusCode();

        (await Worklist(anna)).ShouldContain("aw-1:main:anna");
        (await Worklist(ben)).ShouldNotContain(w => w.StartsWith("aw-1:main"));
        (await Worklist(ben, "alles")).ShouldContain("aw-1:main:anna");
        (await (await anna.GetAsync($"/api/trajectories/{id}")).Body()).GetProperty("assignedTo").GetProperty("main").GetString().ShouldBe("anna");
    }
}
