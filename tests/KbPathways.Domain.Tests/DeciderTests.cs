using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

public class DeciderTests
{
    private readonly Pathways.Model.PathwayDefinition d = Load();

    private const string Laag = """{"lijst": {"a": true, "b": "nee", "c": 8}}""";      // 0 points
    private const string Vier = """{"lijst": {"a": false, "b": "ja", "c": 5, "d": "x"}}"""; // 1 + 1 + 2 = 4

    [Fact]
    public void Given_a_start_When_decided_Then_every_track_starts_in_its_initial_state_and_deadlines_are_armed()
    {
        var events = TrajectoryDecider.Start(new StartTrajectory(Guid.Empty, "p1", "praktijk", As("poh"), NoData), d, T0);

        events.Count.ShouldBe(2);
        var started = events[0].ShouldBeOfType<TrajectoryStarted>();
        started.Tracks.ShouldBe(new Dictionary<string, string> { ["main"] = "Start", ["zijspoor"] = "Rust" });
        started.DefinitionHash.ShouldBe(d.Hash);
        events[1].ShouldBe(new DeadlineScheduled(Guid.Empty, "herinnering", "main", "Start", "herinneren", T0.AddDays(14), T0));
    }

    [Fact]
    public void Given_an_instrument_at_the_threshold_When_assessed_Then_the_first_matching_target_wins()
    {
        var state = Started(d).Fire(d, "beoordelen", "huisarts", Vier);

        state.State.ShouldBe("Zwaar");
        state.Scores["lijst"].Total.ShouldBe(4);
        state.Scores["lijst"].Dimensions.ShouldBe(new Dictionary<string, decimal> { ["fysiek"] = 3, ["psychisch"] = 1 });
        state.Scores["lijst"].Thresholds["hoog"].ShouldBeTrue();
        state.Deadlines.Select(x => x.Name).ShouldBe(["evaluatie"]);
    }

    [Fact]
    public void Given_an_instrument_below_the_threshold_When_assessed_Then_the_fallback_target_is_taken_and_explained()
    {
        var events = TrajectoryDecider.Fire(new FireTrigger("beoordelen", As("huisarts"), Data(Laag)), Started(d), d, T0);

        var step = events.OfType<StepTaken>().Single();
        step.To.ShouldBe("Licht");
        step.Decision.ShouldBe([new Pathways.Engine.GuardTrace("threshold(lijst.hoog) reached", "false", false)]);
        step.Actor.ShouldBe(new Actor("u1", "huisarts"));
    }

    [Fact]
    public void Given_the_wrong_role_When_firing_Then_forbidden_and_no_events()
    {
        var e = Should.Throw<PathwayRuleException>(() => TrajectoryDecider.Fire(new FireTrigger("beoordelen", As("poh"), Data(Vier)), Started(d), d, T0));
        e.Kind.ShouldBe(RejectionKind.Forbidden);
    }

    [Fact]
    public void Given_a_trigger_of_another_state_When_firing_Then_not_permitted_with_the_permitted_list()
    {
        var e = Should.Throw<PathwayRuleException>(() => TrajectoryDecider.Fire(new FireTrigger("afsluiten", As("poh"), NoData), Started(d), d, T0));
        e.Kind.ShouldBe(RejectionKind.NotPermitted);
        e.PermittedTriggers.ShouldBe(["contact", "stoppen", "aanmelden"]);
    }

    [Theory]
    [InlineData("""{"lijst": {"a": false, "b": "ja"}}""", "lijst.c")]
    [InlineData("""{"lijst": {"a": false, "b": "misschien", "c": 5}}""", "lijst.b")]
    [InlineData("""{"lijst": {"a": false, "b": "ja", "c": 11}}""", "lijst.c")]
    [InlineData("""{"lijst": {"a": "nee", "b": "ja", "c": 1}}""", "lijst.a")]
    [InlineData("""{"lijst": {"a": false, "b": "ja", "c": 1, "z": 1}}""", "lijst.z")]
    [InlineData("""{"lijst": {"a": false, "b": "ja", "c": 1}, "score": 3}""", "score")]
    [InlineData("""{}""", "lijst")]
    public void Given_invalid_data_When_firing_Then_invalid_data_names_the_field(string json, string field)
    {
        var e = Should.Throw<PathwayRuleException>(() => TrajectoryDecider.Fire(new FireTrigger("beoordelen", As("huisarts"), Data(json)), Started(d), d, T0));
        e.Kind.ShouldBe(RejectionKind.InvalidData);
        e.FieldErrors.Select(f => f.Field).ShouldContain(field);
    }

    [Fact]
    public void Given_a_failing_guard_When_firing_Then_guard_failed_with_the_pathways_own_reason()
    {
        var licht = Started(d).Fire(d, "beoordelen", "huisarts", Laag);
        var e = Should.Throw<PathwayRuleException>(() => TrajectoryDecider.Fire(new FireTrigger("afsluiten", As("poh"), Data("""{"akkoord": false}""")), licht, d, T0));
        e.Kind.ShouldBe(RejectionKind.GuardFailed);
        e.Message.ShouldBe("Akkoord nodig");
    }

    [Fact]
    public void Given_the_counter_at_the_cap_When_firing_Then_the_warning_requires_a_reason()
    {
        var twice = Started(d).Fire(d, "contact", "poh").Fire(d, "contact", "poh");
        twice.Counters["contacten"].ShouldBe(2);

        var e = Should.Throw<PathwayRuleException>(() => TrajectoryDecider.Fire(new FireTrigger("contact", As("poh"), NoData), twice, d, T0));
        e.FieldErrors.ShouldBe([new Pathways.Engine.FieldError("reden", "is required: Plafond bereikt")]);

        var step = TrajectoryDecider.Fire(new FireTrigger("contact", As("poh"), Data("""{"reden": "nodig"}""")), twice, d, T0).OfType<StepTaken>().Single();
        step.Warnings.ShouldBe([new RaisedWarning("plafond", "Plafond bereikt")]);
        step.Kind.ShouldBe(StepKind.Internal);
    }

    /// <summary>
    /// Issue 23 item 9, chosen and documented: a step's guards and warnings read the counters as they were before the
    /// step's own increment ("after N contacts" = N earlier ones), so with plafond 2 the third contact is the one warned.
    /// </summary>
    [Fact]
    public void Given_a_step_that_increments_a_counter_When_its_warning_compares_the_counter_Then_it_reads_the_value_before_the_increment()
    {
        var once = Started(d).Fire(d, "contact", "poh");
        TrajectoryDecider.Fire(new FireTrigger("contact", As("poh"), NoData), once, d, T0).OfType<StepTaken>().Single()
            .Warnings.ShouldBeEmpty();                                                                    // 1 before, 2 after: not warned

        var twice = once.Fire(d, "contact", "poh");
        var third = TrajectoryDecider.Fire(new FireTrigger("contact", As("poh"), Data("""{"reden": "nodig"}""")), twice, d, T0).OfType<StepTaken>().Single();
        third.Warnings.ShouldHaveSingleItem().Code.ShouldBe("plafond");                                  // 2 before: warned
        third.Decision.ShouldContain(t => t.Condition.Contains("counter(contacten)") && t.Actual == "2");   // the trace shows the value it read
    }

    [Fact]
    public void Given_a_simulation_that_needs_no_explanation_When_firing_Then_the_same_step_and_warnings_without_traces()
    {
        var twice = Started(d).Fire(d, "contact", "poh").Fire(d, "contact", "poh");
        var command = new FireTrigger("contact", As("poh"), Data("""{"reden": "nodig"}"""));

        var explained = TrajectoryDecider.Fire(command, twice, d, T0).OfType<StepTaken>().Single();
        var bare = TrajectoryDecider.Fire(command, twice, d, T0, explained: false).OfType<StepTaken>().Single();

        explained.Decision.ShouldNotBeEmpty();
        bare.Decision.ShouldBeEmpty();
        bare.Warnings.ShouldBe(explained.Warnings);
        bare.Warnings.ShouldNotBeEmpty();
        (bare.From, bare.To, bare.Kind).ShouldBe((explained.From, explained.To, explained.Kind));
        Should.Throw<PathwayRuleException>(() => TrajectoryDecider.Fire(command with { Data = NoData }, twice, d, T0, explained: false))
            .Kind.ShouldBe(RejectionKind.InvalidData);
    }

    [Fact]
    public void Given_a_repeating_deadline_When_it_rings_Then_it_fires_once_and_is_rearmed_from_its_due_time()
    {
        var state = Started(d);
        var due = state.Deadlines.Single();

        var events = TrajectoryDecider.FireDeadline(new DeadlineDue(due.Name, due.Track, due.DueAt), state, d, due.DueAt.AddMinutes(3));

        events[0].ShouldBeOfType<StepTaken>().Deadline.ShouldBe("herinnering");
        events[1].ShouldBe(new DeadlineScheduled(Guid.Empty, "herinnering", "main", "Start", "herinneren", due.DueAt.AddDays(14), due.DueAt.AddMinutes(3)));
        var after = events.Aggregate(state, Trajectory.Evolve);
        TrajectoryDecider.FireDeadline(new DeadlineDue(due.Name, due.Track, due.DueAt), after, d, due.DueAt.AddHours(1)).ShouldBeEmpty();
    }

    [Fact]
    public void Given_an_early_or_stale_alarm_When_it_rings_Then_nothing_happens()
    {
        var state = Started(d);
        var due = state.Deadlines.Single();
        TrajectoryDecider.FireDeadline(new DeadlineDue(due.Name, due.Track, due.DueAt), state, d, due.DueAt.AddSeconds(-1)).ShouldBeEmpty();

        var moved = state.Fire(d, "beoordelen", "huisarts", Laag);
        TrajectoryDecider.FireDeadline(new DeadlineDue(due.Name, due.Track, due.DueAt), moved, d, due.DueAt).ShouldBeEmpty();
    }

    [Fact]
    public void Given_a_reentry_deadline_When_it_fires_Then_the_state_is_reentered_and_the_deadline_restarts()
    {
        var zwaar = Started(d).Fire(d, "beoordelen", "huisarts", Vier);
        var due = zwaar.Deadlines.Single();

        var events = TrajectoryDecider.FireDeadline(new DeadlineDue(due.Name, due.Track, due.DueAt), zwaar, d, due.DueAt);

        events[0].ShouldBeOfType<StepTaken>().Kind.ShouldBe(StepKind.Reentry);
        events[1].ShouldBeOfType<DeadlineScheduled>().DueAt.ShouldBe(due.DueAt.AddMonths(1));
    }

    [Fact]
    public void Given_a_parallel_track_When_it_moves_Then_the_main_track_stays()
    {
        var state = Started(d).Fire(d, "aanmelden", "poh");
        state.Tracks.OrderBy(t => t.Key).ShouldBe([new("main", "Start"), new("zijspoor", "Actief")]);
        TrajectoryDecider.PermittedTriggers(state, d, new HashSet<string> { "poh" }).ShouldBe(["contact", "stoppen", "terug"]);
    }

    [Fact]
    public void Given_a_final_state_When_reached_Then_completed_and_nothing_is_permitted()
    {
        var done = Started(d).Fire(d, "stoppen", "poh");
        done.Completed.ShouldBeTrue();
        done.Outcome.ShouldBe("gestopt");
        done.Deadlines.ShouldBeEmpty();
        TrajectoryDecider.PermittedTriggers(done, d, new HashSet<string> { "poh", "huisarts" }).ShouldBeEmpty();
    }

    [Fact]
    public void Given_an_expected_version_that_moved_on_When_firing_Then_version_conflict()
    {
        var state = Started(d);
        var e = Should.Throw<PathwayRuleException>(() => TrajectoryDecider.Fire(new FireTrigger("contact", As("poh"), NoData, ExpectedVersion: 1), state, d, T0));
        e.Kind.ShouldBe(RejectionKind.VersionConflict);
        TrajectoryDecider.Fire(new FireTrigger("contact", As("poh"), NoData, ExpectedVersion: state.Version), state, d, T0).Count.ShouldBe(1);
    }

    [Fact]
    public void Given_a_step_whose_target_depends_on_its_own_data_When_listing_Then_it_counts_as_permitted()
    {
        TrajectoryDecider.PermittedTriggers(Started(d), d, new HashSet<string> { "huisarts" }).ShouldBe(["beoordelen"]);
    }

    [Fact]
    public void Given_a_not_guard_When_evaluated_Then_it_negates()
    {
        var zwaar = Started(d).Fire(d, "beoordelen", "huisarts", Vier);
        Should.Throw<PathwayRuleException>(() => zwaar.Fire(d, "afsluiten", "huisarts", """{"ernst": "zwaar"}""")).Kind.ShouldBe(RejectionKind.GuardFailed);
        zwaar.Fire(d, "afsluiten", "huisarts", """{"ernst": "licht"}""").State.ShouldBe("Klaar");
    }

    [Fact]
    public void Given_every_field_type_When_started_with_valid_values_Then_they_are_kept()
    {
        var json = """{"ernst": "licht", "score": 3, "gewicht": 71.5, "akkoord": true, "notitie": "n", "datum": "2026-03-01", "onderdelen": ["fysio"]}""";
        var state = Trajectory.Replay(TrajectoryDecider.Start(new StartTrajectory(Guid.Empty, "p", "pr", As("poh"), Data(json)), d, T0));
        state.Data.Keys.Order().ShouldBe(["akkoord", "datum", "ernst", "gewicht", "notitie", "onderdelen", "score"]);
    }

    [Theory]
    [InlineData("""{"datum": "01-03-2026"}""", "datum")]
    [InlineData("""{"gewicht": -1}""", "gewicht")]
    [InlineData("""{"onderdelen": ["fysio", "fysio"]}""", "onderdelen")]
    [InlineData("""{"score": 2.5}""", "score")]
    [InlineData("""{"onbekend": 1}""", "onbekend")]
    public void Given_invalid_start_data_When_started_Then_invalid_data(string json, string field)
    {
        var e = Should.Throw<PathwayRuleException>(() => TrajectoryDecider.Start(new StartTrajectory(Guid.Empty, "p", "pr", As("poh"), Data(json)), d, T0));
        e.FieldErrors.Single().Field.ShouldBe(field);
    }
}
