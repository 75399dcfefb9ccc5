using System.Net;
using System.Net.Http.Json;
using Npgsql;

namespace KbPathways.Host.Tests;

[Collection(HostCollection.Name)]
public class WhatIfTests(HostFixture host)
{
    private readonly string practice = HostFixture.NewPractice();

    private static object Gfi(int score) => new
    {
        boodschappen = true, buitenLopen = true, aankleden = true, toilet = true, fitheid = 8, zien = score >= 1, horen = score >= 2,
        gewichtsverlies = score >= 3, medicijnen = score >= 4, geheugen = score >= 5 ? "ja" : "nee",
        leegte = "nee", mensenMissen = "nee", inDeSteekGelaten = "nee", somber = "nee", nerveus = "nee",
    };

    private async Task<string> EventsFingerprint()
    {
        await using var connection = new NpgsqlConnection(host.ConnectionString);
        await connection.OpenAsync();
        return (string)(await new NpgsqlCommand(
            "SELECT count(*)::text || ':' || coalesce(md5(string_agg(data::text || version::text, ',' ORDER BY seq_id)), '') FROM kbpathways.mt_events",
            connection).ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Given_a_stricter_GFI_threshold_When_replayed_Then_exactly_the_affected_trajectories_and_no_writes()
    {
        var poh = host.Client(practice, "poh-o", "huisarts");
        var ids = new Dictionary<int, string>();
        foreach (var score in new[] { 3, 4, 5 })
        {
            var id = await poh.Start("proactieve-ouderenzorg", $"oudere-{score}");
            (await poh.Fire(id, new { trigger = "gescreend", data = new { gfi = Gfi(score) } })).EnsureSuccessStatusCode();
            (await poh.Fire(id, new { trigger = "beoordeeld" })).EnsureSuccessStatusCode();
            ids[score] = id;
        }
        var before = await EventsFingerprint();

        var manager = host.Client(practice, "praktijkmanager");
        var response = await manager.PostAsJsonAsync("/api/whatif", new { candidate = "extends: proactieve-ouderenzorg\nsettings:\n  gfiDrempel: 5\n" });
        var report = await response.Body();

        response.StatusCode.ShouldBe(HttpStatusCode.OK, report.ToString());
        report.GetProperty("total").GetInt32().ShouldBe(3);
        report.GetProperty("affected").GetInt32().ShouldBe(1);
        var affected = report.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("differences").GetArrayLength() > 0);
        affected.GetProperty("trajectoryId").GetString().ShouldBe(ids[4]);
        affected.GetProperty("recordedState").GetString().ShouldBe("Probleeminventarisatie");
        affected.GetProperty("candidateState").GetString().ShouldBe("NietKwetsbaar");
        (await EventsFingerprint()).ShouldBe(before);

        var broken = await manager.PostAsJsonAsync("/api/whatif", new { candidate = "extends: proactieve-ouderenzorg\nsettings:\n  bestaatNiet: 5\n" });
        broken.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await broken.Body()).GetProperty("errors").GetProperty("candidate")[0].GetString()!.ShouldContain("candidate.yaml:3:3: error");
        (await host.Client(practice, "poh-o").PostAsJsonAsync("/api/whatif", new { candidate = "x: 1" })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }
}
