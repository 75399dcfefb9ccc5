using System.Collections.Immutable;
using System.Text.Json;
using KbPathways.Domain.Pathways.Engine;
using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Trajectories;

/// <summary>Checks the data a step receives against what the step asks for and the fields' types.</summary>
internal static class StepData
{
    private static readonly IReadOnlyDictionary<string, InstrumentScore> NoScores = ImmutableDictionary<string, InstrumentScore>.Empty;
    private static readonly IReadOnlyDictionary<string, decimal> NoDimensions = ImmutableDictionary<string, decimal>.Empty;
    private static readonly IReadOnlyDictionary<string, bool> NoThresholds = ImmutableDictionary<string, bool>.Empty;

    /// <param name="allowed">Names the step accepts; null accepts any declared field (start data).</param>
    /// <returns>The scores of the instruments in <paramref name="data"/> (most steps record none).</returns>
    public static IReadOnlyDictionary<string, InstrumentScore> Check(PathwayDefinition definition, IReadOnlyDictionary<string, JsonElement> data,
        IReadOnlySet<string>? allowed, IReadOnlyList<string> required, List<FieldError> errors)
    {
        Dictionary<string, InstrumentScore>? scores = null;
        foreach (var name in required)
            if (!data.TryGetValue(name, out var given) || given.ValueKind == JsonValueKind.Null) errors.Add(new FieldError(name, "is required"));
        foreach (var (name, value) in data)
        {
            if (value.ValueKind == JsonValueKind.Null) continue;
            if (allowed is not null && !allowed.Contains(name))
            {
                errors.Add(new FieldError(name, allowed.Count == 0 ? "this step takes no data" : $"is not asked for by this step (it takes: {string.Join(", ", allowed)})"));
                continue;
            }
            if (definition.FindField(name) is { } field)
            {
                // A measure (BMI-SDS …) recorded in a step is kept like a score, so the quality cycle can pair first and last.
                if (DataValues.Check(field, value, name, errors) && field.Measure && allowed is not null)
                    (scores ??= [])[name] = new InstrumentScore(value.GetDecimal(), NoDimensions, NoThresholds);
            }
            else if (definition.FindInstrument(name) is { } instrument)
            {
                if (DataValues.CheckInstrument(instrument, value, errors) is { } score && instrument.IsScored) (scores ??= [])[name] = score;
            }
            else errors.Add(new FieldError(name, "is not a field of this pathway"));
        }
        return scores ?? NoScores;
    }
}
