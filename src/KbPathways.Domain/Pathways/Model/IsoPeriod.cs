using System.Globalization;
using System.Text.RegularExpressions;

namespace KbPathways.Domain.Pathways.Model;

/// <summary>An ISO 8601 duration such as P6W, P3M, P1Y or PT12H; months and years follow the calendar.</summary>
public readonly partial record struct IsoPeriod(int Years, int Months, int Weeks, int Days, int Hours, int Minutes)
{
    [GeneratedRegex(@"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?)?$")]
    private static partial Regex Pattern();

    public static bool TryParse(string text, out IsoPeriod period)
    {
        period = default;
        var m = Pattern().Match(text);
        if (!m.Success) return false;
        int Part(int i) => m.Groups[i].Success ? int.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture) : 0;
        period = new IsoPeriod(Part(1), Part(2), Part(3), Part(4), Part(5), Part(6));
        return true;
    }

    public DateTimeOffset AddTo(DateTimeOffset moment) =>
        moment.AddYears(Years).AddMonths(Months).AddDays(Weeks * 7 + Days).AddHours(Hours).AddMinutes(Minutes);

    public override string ToString()
    {
        var date = (Years > 0 ? $"{Years}Y" : "") + (Months > 0 ? $"{Months}M" : "") + (Weeks > 0 ? $"{Weeks}W" : "") + (Days > 0 ? $"{Days}D" : "");
        var time = (Hours > 0 ? $"{Hours}H" : "") + (Minutes > 0 ? $"{Minutes}M" : "");
        return "P" + date + (time.Length > 0 ? "T" + time : "");
    }
}
