using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;

namespace KbPathways.Host.Tests;

/// <summary>
/// [A] choices one practice makes for itself (Practices:&lt;practice&gt;:…): the KB code and who may mark through the
/// mark routes, and how close a deadline is "due soon"; another practice keeps the installation's.
/// </summary>
[Collection(HostCollection.Name)]
public class PracticeChoicesTests(HostFixture host) : IAsyncLifetime
{
    private readonly string own = HostFixture.NewPractice();
    private readonly string other = HostFixture.NewPractice();
    private WebApplication app = null!;
    private Uri address = null!;

    public async Task InitializeAsync() => (app, address) = await TestHost.StartAsync(host.ConnectionString,
        [$"--Practices:{own}:KbCode=Z60.00", $"--Practices:{own}:MarkRoles:0=poh-kb", $"--Practices:{own}:DueSoon=P30D"]);

    public async Task DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Given_a_practice_with_its_own_code_and_markers_When_marking_Then_they_apply_there_and_not_elsewhere()
    {
        (await app.Client(address, own, "huisarts").PostAsJsonAsync("/api/patients/pc-1/kb-mark", new { reason = "stapeling" }))
            .StatusCode.ShouldBe(HttpStatusCode.Forbidden);                 // this practice lets only the POH-Kb mark
        var marked = await (await app.Client(address, own, "poh-kb").PostAsJsonAsync("/api/patients/pc-1/kb-mark", new { reason = "stapeling" })).Body();
        marked.GetProperty("kbCode").GetString().ShouldBe("Z60.00");

        var elsewhere = await (await app.Client(address, other, "huisarts").PostAsJsonAsync("/api/patients/pc-1/kb-mark", new { reason = "stapeling" })).Body();
        elsewhere.GetProperty("kbCode").GetString().ShouldBe("A69.02");
    }

    [Fact]
    public async Task Given_a_practice_with_a_longer_due_soon_When_its_worklist_is_read_Then_a_deadline_four_weeks_ahead_is_due_soon_there_only()
    {
        foreach (var practice in new[] { own, other })
            await app.Client(address, practice, "huisarts").Start("solk", "pc-2");   // werkhypothese due in P4W

        async Task<bool> DueSoon(string practice) => (await (await app.Client(address, practice, "huisarts").GetAsync("/api/worklist")).Body())
            .GetProperty("items").EnumerateArray().Single().GetProperty("dueSoon").GetBoolean();

        (await DueSoon(own)).ShouldBeTrue();
        (await DueSoon(other)).ShouldBeFalse();   // the installation's P7D
    }
}
