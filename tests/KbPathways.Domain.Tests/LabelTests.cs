using System.Text.RegularExpressions;
using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Tests;

/// <summary>
/// Every label a POH sees in a shipped pathway is Dutch words, not an identifier or an English word: states, tracks,
/// steps a person takes, deadlines, fields and their options, roles, instruments and their items.
/// </summary>
public partial class LabelTests
{
    /// <summary>English words that crept into labels before (review of the shipped pathways).</summary>
    private static readonly string[] English = ["follow-up", "check-in", "review", "commitment", "mild", "feedback", "referral", "screening gedaan door"];

    [GeneratedRegex("^[a-z]+[A-Z][A-Za-z]*$|^[A-Z][a-z]+[A-Z][A-Za-z]*$")]
    private static partial Regex Identifier();

    private static IEnumerable<(string Where, string Label)> Labels(PathwayDefinition d)
    {
        foreach (var role in d.Roles) yield return ($"role {role.Name}", role.Label);
        foreach (var track in d.Tracks.Skip(1)) yield return ($"track {track.Name}", track.Label);
        foreach (var state in d.AllStates) yield return ($"state {state.Name}", state.Label);
        foreach (var t in d.Tracks.SelectMany(t => t.States.SelectMany(s => s.Transitions).Concat(t.AnyState)).Where(t => t.Roles is not { Count: 0 }))
            yield return ($"step {t.Trigger}", t.Label);
        foreach (var field in d.Fields.Concat(d.Instruments.SelectMany(i => i.Items.Select(x => x.Field))))
        {
            yield return ($"field {field.Name}", field.Label);
            if (field.Type is FieldType.Enum or FieldType.List)
                foreach (var value in field.Values) yield return ($"option {field.Name}.{value}", field.LabelOf(value));
        }
        foreach (var instrument in d.Instruments) yield return ($"instrument {instrument.Name}", instrument.Label);
    }

    public static TheoryData<string> Pathways => [.. ShippedPathwayTests.LoadShipped().Definitions.Where(d => d.Practice is null).Select(d => d.Id)];

    [Theory]
    [MemberData(nameof(Pathways))]
    public void Given_a_shipped_pathway_Then_every_label_a_practice_sees_is_Dutch_words(string pathway)
    {
        var definition = ShippedPathwayTests.LoadShipped().Definitions.Single(d => d.Id == pathway && d.Practice is null);

        var wrong = Labels(definition).Where(x => Identifier().IsMatch(x.Label)
                || English.Any(e => Regex.IsMatch(x.Label, $@"\b{Regex.Escape(e)}\b", RegexOptions.IgnoreCase)))
            .Select(x => $"{x.Where}: '{x.Label}'").ToList();

        wrong.ShouldBeEmpty();
    }
}
