using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace KbPathways.Host.Tests;

/// <summary>
/// The API describes what a user may do and what each step takes, so a client builds its forms from the answer alone:
/// the trajectory's actions for the caller's roles, and the pathway's states, steps, fields and questionnaires.
/// </summary>
[Collection(HostCollection.Name)]
public class ActionTests(HostFixture host)
{
    private readonly string practice = HostFixture.NewPractice();

    [Fact]
    public async Task Given_a_trajectory_When_read_by_each_role_Then_its_actions_are_those_the_role_may_take_with_their_forms()
    {
        var huisarts = host.Client(practice, "huisarts");
        var id = await huisarts.Start("solk", "p-actions");

        var asHuisarts = await (await huisarts.GetAsync($"/api/trajectories/{id}")).Body();
        asHuisarts.GetProperty("stateLabel").GetString().ShouldBe("Gesignaleerd");
        var actions = asHuisarts.GetProperty("actions").EnumerateArray().ToList();
        actions.Select(a => a.GetProperty("trigger").GetString()).ShouldBe(asHuisarts.Strings("permittedTriggers"));
        var werkhypothese = actions.Single(a => a.GetProperty("trigger").GetString() == "werkhypotheseVastgelegd");
        werkhypothese.GetProperty("label").GetString().ShouldBe("Werkhypothese vastgelegd");
        werkhypothese.GetProperty("targets")[0].GetProperty("label").GetString().ShouldBe("Werkhypothese");
        werkhypothese.GetProperty("condition").GetString().ShouldBe("Het programma begint altijd met adequaat medisch onderzoek.");
        var fields = werkhypothese.GetProperty("fields").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!);
        fields["medischOnderzoekAfgerond"].GetProperty("type").GetString().ShouldBe("boolean");
        fields["medischOnderzoekAfgerond"].GetProperty("label").GetString().ShouldBe("Adequaat medisch onderzoek afgerond");
        fields["scegsNotities"].GetProperty("required").GetBoolean().ShouldBeTrue();
        var schema = werkhypothese.GetProperty("schema");
        schema.GetProperty("$schema").GetString().ShouldBe("https://json-schema.org/draft/2020-12/schema");
        schema.Strings("required").ShouldBe(["medischOnderzoekAfgerond", "scegsNotities"]);

        // A role that may take none of these steps sees none, and the deadline's label is there for the page.
        var fysio = await (await host.Client(practice, "fysiotherapeut").GetAsync($"/api/trajectories/{id}")).Body();
        fysio.GetProperty("actions").GetArrayLength().ShouldBe(0);
        asHuisarts.GetProperty("deadlines")[0].GetProperty("label").GetString().ShouldNotBeNullOrEmpty();

        // The answer to a step carries the next actions, with the options of an enum labelled.
        var next = await (await huisarts.Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = "x" } })).Body();
        var ernst = next.GetProperty("actions").EnumerateArray().Single(a => a.GetProperty("trigger").GetString() == "ernstVastgesteld");
        ernst.GetProperty("fields").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "beperking").GetProperty("options")
            .EnumerateArray().Select(o => o.GetProperty("label").GetString()).ShouldBe(["Licht", "Matig", "Ernstig"]);
    }

    [Fact]
    public async Task Given_a_pathway_When_described_Then_states_steps_fields_and_questionnaires_are_machine_readable()
    {
        var pathway = await (await host.Client(practice, "poh-o").GetAsync("/api/pathways/proactieve-ouderenzorg")).Body();

        pathway.GetProperty("roleLabels").GetProperty("poh-o").GetString().ShouldNotBeNullOrEmpty();
        var main = pathway.GetProperty("tracks")[0];
        main.GetProperty("name").GetString().ShouldBe("main");
        var first = main.GetProperty("states")[0];
        (first.GetProperty("name").GetString(), first.GetProperty("label").GetString(), first.GetProperty("initial").GetBoolean())
            .ShouldBe(("Op75PlusLijst", "Op de 75+-lijst", true));
        first.GetProperty("deadlines")[0].GetProperty("after").GetString().ShouldStartWith("P");
        var screening = first.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("trigger").GetString() == "gescreend");
        screening.GetProperty("label").GetString().ShouldBe("GFI-screening gedaan");
        screening.Strings("roles").ShouldBe(["poh-o", "assistent"]);
        var gfi = pathway.GetProperty("instruments").EnumerateArray().Single(i => i.GetProperty("name").GetString() == "gfi");
        gfi.GetProperty("items").GetArrayLength().ShouldBe(15);
        gfi.GetProperty("thresholds")[0].GetProperty("label").GetString().ShouldBe("Kwetsbaar");
        pathway.GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ShouldContain("klinischOordeel");
        pathway.GetProperty("mermaid").GetString()!.ShouldContain("Op75PlusLijst");
    }
}
