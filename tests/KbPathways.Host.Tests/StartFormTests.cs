using System.Net.Http.Json;
using System.Text.Json;
using KbPathways.Testing;
using Microsoft.AspNetCore.Builder;

namespace KbPathways.Host.Tests;

/// <summary>
/// A practice's own pathway that needs data at the start (start: { requires }): the werkplek's start form asks it, and a
/// start without it is refused with the field named.
/// </summary>
[Collection(HostCollection.Name)]
public class StartFormTests(HostFixture host) : IAsyncLifetime
{
    private readonly ScratchDirectory pathways = new("start-form");
    private WebApplication app = null!;
    private Uri address = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(pathways.Path);
        var solk = await File.ReadAllTextAsync(Path.Combine(HostFixture.RepoRoot, "pathways", "solk.yaml"));
        await File.WriteAllTextAsync(Path.Combine(pathways.Path, "eigen.yaml"), solk
            .Replace("id: solk", "id: eigen-solk").Replace("title: SOLK stroomschema", "title: Eigen SOLK-pad")
            .Replace("\nroles:\n", "\nstart:\n  requires: [signaal]\n\nroles:\n")
            .Replace("  reden: { type: text, label: Reden }", "  reden: { type: text, label: Reden }\n  signaal: { type: text, label: Signaal dat tot het traject leidde }"));
        (app, address) = await TestHost.StartAsync(host.ConnectionString, [$"--Pathways:Path={pathways.Path}"]);
    }

    public async Task DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        pathways.Dispose();
    }

    [Fact]
    public async Task Given_a_pathway_with_start_data_When_a_huisarts_starts_it_from_the_patient_page_Then_the_form_asks_it_and_it_is_recorded()
    {
        var practice = HostFixture.NewPractice();
        (await app.Client(address, practice, "huisarts").PostAsJsonAsync("/api/trajectories", new { patientId = "sf-0", pathway = "eigen-solk" }))
            .StatusCode.ShouldBe(System.Net.HttpStatusCode.UnprocessableEntity);

        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync($"{address}aanmelden");
        await browser.EvaluateAsync($"document.querySelector('#praktijk').value = '{practice}'; document.querySelector('button[value=\"demo-huisarts\"]').click(); true");
        await browser.WaitForAsync("location.pathname === '/werkplek' && document.body?.dataset.ready === 'true'");
        await browser.EvaluateAsync("document.body.dataset.ready = 'false'; location.hash = '#/patient/sf-1'; true");
        await browser.WaitForAsync("document.body.dataset.ready === 'true' && document.querySelector('[data-start-fields] textarea[name=signaal]')");
        (await browser.EvaluateAsync("document.querySelector('[data-start-fields]').textContent")).GetString()!.ShouldContain("Signaal dat tot het traject leidde");

        await browser.EvaluateAsync("""
            (() => { document.querySelector('[name=signaal]').value = 'buikpijn sinds maanden';
              document.body.dataset.ready = 'false'; document.querySelector('#start-pathway').form.requestSubmit(); return true; })()
            """);
        await browser.WaitForAsync("location.hash.startsWith('#/traject/') && document.body.dataset.ready === 'true'");
        var id = (await browser.EvaluateAsync("location.hash.split('/')[2]")).GetString();
        var history = await (await app.Client(address, practice, "huisarts").GetAsync($"/api/trajectories/{id}/history")).Body();
        history[0].GetProperty("data").GetProperty("signaal").GetString().ShouldBe("buikpijn sinds maanden");
    }
}
