using System.Net;
using System.Text.Json;

namespace KbPathways.Host.Tests;

[Collection(HostCollection.Name)]
public class QualityApiTests(HostFixture host)
{
    private readonly string practice = HostFixture.NewPractice();

    private static string Period => $"from={DateTime.UtcNow.Year}-01-01&to={DateTime.UtcNow.Year}-12-31";

    [Fact]
    public async Task Given_two_practices_When_a_manager_asks_for_quality_Then_only_their_own_trajectories_count()
    {
        var own = host.Client(practice, "huisarts");
        await own.Start("solk", "q-1");
        await own.Start("solk", "q-2");
        var other = HostFixture.NewPractice();
        await host.Client(other, "huisarts").Start("solk", "q-1");

        var report = await (await host.Client(practice, "praktijkmanager").GetAsync($"/api/quality?{Period}")).Body();

        var instroom = report.GetProperty("indicators").EnumerateArray().Where(v => v.GetProperty("indicator").GetString() == "instroom"
            && v.GetProperty("month").ValueKind == JsonValueKind.Null).ToList();
        instroom.Single(v => v.GetProperty("pathway").ValueKind == JsonValueKind.Null).GetProperty("value").GetDecimal().ShouldBe(2);
        instroom.Single(v => v.GetProperty("pathway").GetString() == "solk").GetProperty("value").GetDecimal().ShouldBe(2);
        report.GetProperty("labels").GetProperty("instroom").GetString().ShouldBe("Instroom: gestarte trajecten");
        report.GetProperty("timeZone").GetString().ShouldBe("Europe/Amsterdam");
    }

    [Fact]
    public async Task Given_format_csv_Then_the_same_rows_come_as_a_csv_download()
    {
        await host.Client(practice, "huisarts").Start("solk", "q-3");
        var manager = host.Client(practice, "praktijkmanager");

        var json = await (await manager.GetAsync($"/api/quality?{Period}")).Body();
        var response = await manager.GetAsync($"/api/quality?{Period}&format=csv");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        response.Content.Headers.ContentDisposition!.FileName!.Trim('"').ShouldBe($"kwaliteit-{DateTime.UtcNow.Year}-01-01-{DateTime.UtcNow.Year}-12-31.csv");
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldBe("indicator,label,pathway,group,month,value,numerator,denominator");
        lines.Length.ShouldBe(json.GetProperty("indicators").GetArrayLength() + 1);
        lines.ShouldContain("instroom,Instroom: gestarte trajecten,solk,,,1,,");
    }

    [Theory]
    [InlineData("from=2026-13-01", "from")]
    [InlineData("from=2026-06-01&to=2026-05-31", "to")]
    [InlineData("from=2000-01-01&to=2026-01-01", "to")]
    [InlineData("format=xml", "format")]
    public async Task Given_a_bad_period_or_format_Then_400_names_the_field(string query, string field)
    {
        var response = await host.Client(practice, "praktijkmanager").GetAsync($"/api/quality?{query}");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.Body()).GetProperty("errors").TryGetProperty(field, out _).ShouldBeTrue();
    }
}
