using System.Text.Json;
using KbPathways.Host.Hosting;
using KbPathways.Projections.Database;
using Microsoft.Extensions.DependencyInjection;

namespace KbPathways.Host.Tests;

public class DemoTests
{
    [Fact]
    public async Task Given_the_demo_option_When_the_host_starts_Then_every_pathway_has_demo_patients_and_a_restart_adds_none()
    {
        var dir = Path.Combine(Path.GetTempPath(), "kbpathways-demo-" + Guid.NewGuid().ToString("N")[..8]);
        await using var postgres = await EmbeddedPostgres.StartAsync(dir);

        async Task<JsonElement[]> DemoPatients()
        {
            var (app, address) = await TestHost.StartAsync(postgres.ConnectionString, ["--demo"]);
            try
            {
                await app.Services.GetRequiredService<DemoData>().Seeded.WaitAsync(TimeSpan.FromMinutes(2));
                var client = app.Client(address, DemoData.Practice, "huisarts");
                var page = await (await client.GetAsync("/api/trajectories?pageSize=200")).Body();
                return [.. page.GetProperty("items").EnumerateArray()];
            }
            finally
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }

        var first = await DemoPatients();
        first.Select(t => t.GetProperty("pathwayId").GetString()).Distinct().Order()
            .ShouldBe(["doen-wat-nodig-is", "fitgaaf", "kb-begeleiding", "meer-bewegen", "proactieve-ouderenzorg", "solk"]);
        first.ShouldAllBe(t => t.GetProperty("patientId").GetString()!.StartsWith("DEMO-"));
        first.Select(t => t.GetProperty("state").GetString()).Distinct().Count().ShouldBeGreaterThan(10);

        (await DemoPatients()).Length.ShouldBe(first.Length);
    }
}
