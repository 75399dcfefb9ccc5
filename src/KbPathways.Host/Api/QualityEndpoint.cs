using System.Globalization;
using KbPathways.Domain.Quality;
using KbPathways.Host.Identity;
using KbPathways.Projections;
using Wolverine.Http;

namespace KbPathways.Host.Api;

public sealed record QualityView(DateOnly From, DateOnly To, string TimeZone, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<IndicatorValue> Indicators);

/// <summary>
/// GET /api/quality?from=yyyy-MM-dd&amp;to=yyyy-MM-dd: the quality indicators of the caller's practice for a period
/// (default: this calendar year up to today). <c>format=csv</c> (or <c>Accept: text/csv</c>) returns the same rows as CSV.
/// </summary>
public static class QualityEndpoint
{
    public const int MaxYears = 5;

    [WolverineGet("/api/quality")]
    public static async Task<IResult> Get(CurrentUser user, QualityOptions quality, QualityService service, BusinessClock clock,
        HttpContext http, string? from, string? to, string? format, CancellationToken ct)
    {
        user.RequireOneOf(quality.Roles, "quality reports");
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.Now, service.Settings.Zone).DateTime);
        var errors = new Dictionary<string, string[]>();
        var start = Day(from, "from", new DateOnly(today.Year, 1, 1), errors);
        var end = Day(to, "to", today, errors);
        if (errors.Count == 0 && end < start) errors["to"] = ["must not be before 'from'"];
        if (errors.Count == 0 && end > start.AddYears(MaxYears)) errors["to"] = [$"the period may span at most {MaxYears} years"];
        var csv = format switch
        {
            null or "" => http.Request.Headers.Accept.Any(a => a?.Contains("text/csv") == true),
            "csv" => true,
            "json" => false,
            _ => Invalid(errors),
        };
        if (errors.Count > 0) return Results.Problem(Problems.BadRequest("The period is not valid.", errors));

        var report = await service.ReportAsync(user.Practice, start, end, ct);
        return csv
            ? Results.File(System.Text.Encoding.UTF8.GetBytes(QualityReport.ToCsv(report)), "text/csv; charset=utf-8",
                $"kwaliteit-{start:yyyy-MM-dd}-{end:yyyy-MM-dd}.csv")
            : Results.Ok(new QualityView(start, end, service.Settings.Zone.Id, QualityReport.Labels, report));
    }

    private static bool Invalid(Dictionary<string, string[]> errors)
    {
        errors["format"] = ["must be 'json' or 'csv'"];
        return false;
    }

    private static DateOnly Day(string? text, string name, DateOnly fallback, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(text)) return fallback;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)) return day;
        errors[name] = ["must be a date as yyyy-MM-dd"];
        return fallback;
    }
}
