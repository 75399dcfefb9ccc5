using KbPathways.Domain.Pathways.Model;
using NodaTime;

namespace KbPathways.Domain.Pathways.Engine;

/// <summary>
/// When a deadline falls due. Without a pathway <c>calendar</c> a period is added in UTC, as edition 1 always did (text
/// that does not ask for a calendar keeps its meaning). With one, the period is added on the practice's wall clock
/// (P1M stays at the same hour across a daylight-saving change), <c>workingDays</c> counts days as working days and
/// skips weekends and the practice's holidays, <c>at</c> sets the time of day, and <c>on</c> moves to the next of the
/// given weekdays. A moment that does not exist on the wall clock (the hour skipped in spring) moves forward.
/// </summary>
public static class DeadlineCalendar
{
    public static DateTimeOffset Due(DeadlineDefinition deadline, CalendarRule? calendar, DateTimeOffset from)
    {
        if (calendar is null) return deadline.After.AddTo(from);
        var zone = DateTimeZoneProviders.Tzdb[calendar.TimeZone];
        var start = Instant.FromDateTimeOffset(from).InZone(zone).LocalDateTime;
        var after = deadline.After;
        LocalDateTime due;
        if (deadline.WorkingDays && after is { Years: 0, Months: 0, Hours: 0, Minutes: 0 })
        {
            var date = start.Date;
            for (var left = after.Weeks * 5 + after.Days; left > 0;)
            {
                date = date.PlusDays(1);
                if (Working(date, calendar)) left--;
            }
            due = date + start.TimeOfDay;
        }
        else due = start + new PeriodBuilder { Years = after.Years, Months = after.Months, Weeks = after.Weeks, Days = after.Days, Hours = after.Hours, Minutes = after.Minutes }.Build();
        if (deadline.At is { } at) due = due.Date + new LocalTime(at.Hour, at.Minute);
        if (deadline.On.Count > 0)
        {
            var time = deadline.At is { } t ? new LocalTime(t.Hour, t.Minute) : due.TimeOfDay;
            var candidate = due.Date + time;
            // Strictly after the moment it counts from, so a weekly schedule (after: P0D) moves on to its next day.
            while (!deadline.On.Contains(ToDayOfWeek(candidate.DayOfWeek)) || candidate < due || candidate <= start
                   || deadline.WorkingDays && !Working(candidate.Date, calendar))
                candidate = candidate.Date.PlusDays(1) + time;
            due = candidate;
        }
        else if (deadline.WorkingDays)
            while (!Working(due.Date, calendar)) due = due.PlusDays(1);
        return zone.AtLeniently(due).ToDateTimeOffset();
    }

    private static bool Working(LocalDate date, CalendarRule calendar) =>
        date.DayOfWeek is not (IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday) && !calendar.Holidays.Contains(new DateOnly(date.Year, date.Month, date.Day));

    private static DayOfWeek ToDayOfWeek(IsoDayOfWeek day) => day == IsoDayOfWeek.Sunday ? DayOfWeek.Sunday : (DayOfWeek)(int)day;

    /// <summary>Whether <paramref name="zone"/> is a time zone of the tz database (e.g. Europe/Amsterdam).</summary>
    public static bool Known(string zone) => DateTimeZoneProviders.Tzdb.GetZoneOrNull(zone) is not null;
}
