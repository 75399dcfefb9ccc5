using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Projections;

/// <summary>[A] What one practice chooses for itself (<c>Practices:&lt;practice&gt;:…</c>); what it leaves out is the installation's.</summary>
public sealed class PracticeSettings
{
    /// <summary>The practice's code for the KB mark (the KB-ruiter) when the mark routes are given none.</summary>
    public string? KbCode { get; set; }

    /// <summary>Who in this practice may place or remove the KB mark through the mark routes.</summary>
    public string[]? MarkRoles { get; set; }

    /// <summary>How close a deadline is before the worklist calls it "binnenkort" (an ISO 8601 period, e.g. P3D).</summary>
    public string? DueSoon { get; set; }
}

/// <summary>
/// The [A] choices that differ per practice, each with the installation's default: the KB code and who may mark
/// (<c>Patients:KbCode</c>, <c>Patients:MarkRoles</c>) and "due soon" on the worklist (<c>Worklist:DueSoon</c>, P7D).
/// Choices that live in a pathway (its intervals, the in zorg period) are set per practice with an overlay instead.
/// </summary>
public sealed class PracticeChoices(PatientOptions patients, IReadOnlyDictionary<string, PracticeSettings> practices, string dueSoon = PracticeChoices.DefaultDueSoon)
{
    public const string DefaultDueSoon = "P7D";

    private readonly IsoPeriod defaultDueSoon = Period(dueSoon);
    private readonly IReadOnlySet<string> defaultMarkRoles = patients.MarkRoles.ToHashSet(StringComparer.Ordinal);

    public string KbCode(string practice) => Of(practice)?.KbCode is { Length: > 0 } code ? code : patients.KbCode;

    public IReadOnlySet<string> MarkRoles(string practice) =>
        Of(practice)?.MarkRoles is { Length: > 0 } roles ? roles.ToHashSet(StringComparer.Ordinal) : defaultMarkRoles;

    public IsoPeriod DueSoon(string practice) => Of(practice)?.DueSoon is { Length: > 0 } text ? Period(text) : defaultDueSoon;

    private PracticeSettings? Of(string practice) => practices.GetValueOrDefault(practice);

    /// <summary>What is wrong with these choices, per key; empty when all is well.</summary>
    public static IEnumerable<string> Problems(IReadOnlyDictionary<string, PracticeSettings> practices, string? dueSoon)
    {
        if (dueSoon is not null && !IsoPeriod.TryParse(dueSoon, out _)) yield return $"Worklist:DueSoon '{dueSoon}' is not an ISO 8601 period (e.g. P7D)";
        foreach (var (practice, settings) in practices)
        {
            if (settings.DueSoon is { } text && !IsoPeriod.TryParse(text, out _))
                yield return $"Practices:{practice}:DueSoon '{text}' is not an ISO 8601 period (e.g. P3D)";
            if (settings.MarkRoles is { } roles && roles.Any(string.IsNullOrWhiteSpace))
                yield return $"Practices:{practice}:MarkRoles has an empty role";
            if (settings.KbCode is { } code && string.IsNullOrWhiteSpace(code))
                yield return $"Practices:{practice}:KbCode is empty (leave it out to use Patients:KbCode)";
        }
    }

    private static IsoPeriod Period(string text) =>
        IsoPeriod.TryParse(text, out var period) ? period : throw new ArgumentException($"'{text}' is not an ISO 8601 period");
}
