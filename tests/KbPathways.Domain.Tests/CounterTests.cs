using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Trajectories;
using static KbPathways.Domain.Tests.Fixtures;

namespace KbPathways.Domain.Tests;

/// <summary>
/// Issue 23 item 1: counters that count what matters — reset by a step or on entering a state (per visit), compared with
/// a setting or another counter — so "after N contacts without an unplanned call, step down" is one guard.
/// </summary>
public class CounterTests
{
    private const string Tapering = """
        id: afbouw
        version: 1
        title: Afbouwend contact
        roles:
          poh: POH
        settings:
          afbouwNa: 3
        counters:
          contacten: Geplande contacten sinds het laatste ongeplande
          ongepland: Ongeplande contacten
          bezoeken: Bezoeken in deze fase
        states:
          Wekelijks:
            initial: true
            waits: false
            resets: [bezoeken]
            on:
              contact: { label: Gepland contact, roles: [poh], increments: [contacten, bezoeken] }
              ongeplandContact: { label: Ongepland contact, roles: [poh], increments: [ongepland], resets: [contacten] }
              afschalen:
                label: Afgeschaald
                roles: [poh]
                when: { counter: contacten, gte: $afbouwNa }
                because: Eerst drie geplande contacten zonder ongepland contact.
                to: Maandelijks
              vergelijken:
                label: Vergeleken
                roles: [poh]
                when: { counter: ongepland, gt: { counter: contacten } }
          Maandelijks:
            waits: false
            resets: [bezoeken]
            on:
              contact: { label: Gepland contact, roles: [poh], increments: [contacten, bezoeken] }
              terug: { label: Terug naar wekelijks, roles: [poh], to: Wekelijks }
              klaar: { label: Klaar, roles: [poh], to: Klaar }
          Klaar: { final: true }
        """;

    [Fact]
    public void Given_an_unplanned_call_that_resets_the_count_Then_stepping_down_needs_three_planned_contacts_after_it()
    {
        var d = Load(Tapering);
        var t = Started(d).Fire(d, "contact", "poh").Fire(d, "contact", "poh").Fire(d, "ongeplandContact", "poh").Fire(d, "contact", "poh").Fire(d, "contact", "poh");
        t.Counters["contacten"].ShouldBe(2);

        Should.Throw<PathwayRuleException>(() => t.Fire(d, "afschalen", "poh")).Message.ShouldBe("Eerst drie geplande contacten zonder ongepland contact.");
        t.Fire(d, "contact", "poh").Fire(d, "afschalen", "poh").State.ShouldBe("Maandelijks");
    }

    [Fact]
    public void Given_a_state_that_resets_a_counter_on_entry_Then_it_counts_per_visit()
    {
        var d = Load(Tapering);
        var t = Started(d).Fire(d, "contact", "poh").Fire(d, "contact", "poh").Fire(d, "contact", "poh").Fire(d, "afschalen", "poh");
        t.Counters["bezoeken"].ShouldBe(0);                       // entering Maandelijks started its count afresh

        t = t.Fire(d, "contact", "poh").Fire(d, "terug", "poh").Fire(d, "contact", "poh");
        t.Counters["bezoeken"].ShouldBe(1);                       // and Wekelijks's again
        t.Counters["contacten"].ShouldBe(5);                      // not reset by a state: counts on
    }

    [Fact]
    public void Given_a_counter_compared_with_another_counter_Then_both_are_read_when_the_step_is_decided()
    {
        var d = Load(Tapering);
        var t = Started(d).Fire(d, "ongeplandContact", "poh");

        t.Fire(d, "vergelijken", "poh").Counters["ongepland"].ShouldBe(1);                 // 1 > 0
        Should.Throw<PathwayRuleException>(() => t.Fire(d, "contact", "poh").Fire(d, "contact", "poh").Fire(d, "vergelijken", "poh"))
            .Kind.ShouldBe(RejectionKind.GuardFailed);                                        // 1 > 2 no
    }

    [Theory]
    [InlineData("resets: [contacten] }", "resets: [contakten] }", "unknown-counter", "contakten")]
    [InlineData("    resets: [bezoeken]\n    on:\n      contact: { label: Gepland contact, roles: [poh], increments: [contacten, bezoeken] }\n      ongepland", "    resets: [bezoek]\n    on:\n      contact: { label: Gepland contact, roles: [poh], increments: [contacten, bezoeken] }\n      ongepland", "unknown-counter", "resets: [bezoek]")]
    [InlineData("gt: { counter: contacten }", "gt: { counter: contact }", "unknown-counter", "gt: { counter: contact }")]
    [InlineData("gt: { counter: contacten }", "gt: { teller: contacten }", "guard-shape", "gt: { teller: contacten }")]
    public void Given_a_counter_mistake_When_loaded_Then_a_located_error(string find, string replace, string rule, string at)
    {
        Tapering.ShouldContain(find);
        var text = Tapering.Replace(find, replace);

        var error = PathwayLoader.Load("afbouw.yaml", text).Errors.ShouldHaveSingleItem();

        error.Rule.ShouldBe(rule);
        text.Split('\n')[error.Location.Line - 1].ShouldContain(at, customMessage: error.ToString());
    }
}
