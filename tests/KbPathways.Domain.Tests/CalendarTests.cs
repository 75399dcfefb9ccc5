using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

/// <summary>Issue 23 item 3: calendar-aware deadlines in the practice's time zone.</summary>
public class CalendarTests
{
    private static Pathways.Model.PathwayDefinition Load(string deadline, string calendar = "calendar:\n  timeZone: Europe/Amsterdam\n  holidays: [2026-12-25, 2026-12-28]\n") =>
        Fixtures.Load(Pathway.Replace("roles:\n", calendar + "roles:\n", StringComparison.Ordinal)
            .Replace("herinnering: { after: $termijn, fires: herinneren, repeat: true }", deadline));

    private static DateTimeOffset Due(Pathways.Model.PathwayDefinition d, DateTimeOffset at) =>
        TrajectoryDecider.Start(new StartTrajectory(Guid.NewGuid(), "p1", "praktijk", As("poh"), NoData), d, at)
            .OfType<DeadlineScheduled>().Single(x => x.Name == "herinnering").DueAt;

    private static readonly TimeZoneInfo Amsterdam = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");
    private static DateTimeOffset Local(int y, int m, int d, int h, int min = 0) => new(new DateTime(y, m, d, h, min, 0), Amsterdam.GetUtcOffset(new DateTime(y, m, d, h, min, 0)));

    [Fact]
    public void Given_a_month_across_the_clock_change_Then_the_calendar_keeps_the_hour_and_text_without_a_calendar_keeps_UTC()
    {
        var start = Local(2026, 3, 2, 9);                                        // winter time, UTC+1
        Due(Load("herinnering: { after: P1M, fires: herinneren, repeat: true }"), start).ShouldBe(Local(2026, 4, 2, 9));   // summer time, still 09:00
        Due(Load("herinnering: { after: P1M, fires: herinneren, repeat: true }", ""), start).ShouldBe(start.AddMonths(1));  // edition 1: 10:00 local
    }

    [Fact]
    public void Given_working_days_Then_weekends_and_the_practices_holidays_are_skipped()
    {
        var d = Load("herinnering: { after: P3D, workingDays: true, fires: herinneren, repeat: true }");
        Due(d, Local(2026, 12, 4, 14)).ShouldBe(Local(2026, 12, 9, 14));        // Friday + 3 working days = Wednesday
        Due(d, Local(2026, 12, 23, 14)).ShouldBe(Local(2026, 12, 30, 14));      // Thu 24, (Fri 25 holiday, weekend, Mon 28 holiday) Tue 29, Wed 30
    }

    [Fact]
    public void Given_a_time_of_day_Then_it_falls_due_then()
    {
        Due(Load("herinnering: { after: P1D, at: \"09:00\", fires: herinneren, repeat: true }"), Local(2026, 6, 1, 16, 30)).ShouldBe(Local(2026, 6, 2, 9));
    }

    [Fact]
    public void Given_set_weekdays_at_a_time_When_it_repeats_and_a_moment_was_missed_Then_the_next_counts_from_the_missed_moment()
    {
        var d = Load("herinnering: { after: P0D, on: [ma, wo, vr], at: \"10:00\", fires: herinneren, repeat: true }");
        var monday = Local(2026, 3, 30, 8);                                    // Monday 08:00, summer time
        var first = Due(d, monday);
        first.ShouldBe(Local(2026, 3, 30, 10));                                  // Monday 10:00

        var t = Trajectory.Replay(TrajectoryDecider.Start(new StartTrajectory(Guid.NewGuid(), "p1", "praktijk", As("poh"), NoData), d, monday));
        var late = first.AddHours(30);                                           // the host was down: the alarm rings on Tuesday afternoon
        var rang = TrajectoryDecider.FireDeadline(new DeadlineDue("herinnering", "main", first), t, d, late);
        rang.OfType<DeadlineScheduled>().Single().DueAt.ShouldBe(Local(2026, 4, 1, 10));   // Wednesday 10:00, not a day after the late ring
    }

    [Theory]
    [InlineData("herinnering: { after: P1D, at: \"09:00\", fires: herinneren, repeat: true }", "", "calendar-needed")]
    [InlineData("herinnering: { after: P1D, at: \"9 uur\", fires: herinneren, repeat: true }", null, "invalid-value")]
    [InlineData("herinnering: { after: P0D, on: [maandag], fires: herinneren, repeat: true }", null, "invalid-value")]
    [InlineData("herinnering: { after: P1D, fires: herinneren, repeat: true }", "calendar:\n  timeZone: Europe/Amsterdm\n", "invalid-value")]
    public void Given_a_calendar_mistake_When_loaded_Then_it_is_refused(string deadline, string? calendar, string rule)
    {
        var text = Pathway.Replace("roles:\n", (calendar ?? "calendar:\n  timeZone: Europe/Amsterdam\n") + "roles:\n", StringComparison.Ordinal)
            .Replace("herinnering: { after: $termijn, fires: herinneren, repeat: true }", deadline);

        PathwayLoader.Load("kalender.yaml", text).Errors.ShouldContain(e => e.Rule == rule);
    }
}
