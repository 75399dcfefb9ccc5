using KbPathways.Domain.Pathways.Engine;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Domain.Patients;

/// <summary>
/// The form of a patient id: 1 to <see cref="MaxLength"/> characters, each an ASCII letter or digit or one of
/// <c>- _ . :</c>. That covers the HIS's own numbers, UUIDs and OID-qualified ids, and keeps ids safe everywhere they
/// go: a URL segment, a log's patient list, an index entry. A message about an id never repeats it (it may be
/// personal data).
/// </summary>
public static class PatientIds
{
    public const int MaxLength = 64;
    public const string Allowed = "letters a–z and A–Z, digits 0–9 and the characters - _ . :";

    /// <summary>What is wrong with <paramref name="id"/>, or null when it is a valid patient id.</summary>
    public static string? Problem(string? id)
    {
        if (string.IsNullOrEmpty(id)) return "is required";
        if (id.Length > MaxLength) return $"is longer than {MaxLength} characters";
        foreach (var c in id)
            if (!IsAllowed(c)) return $"may only contain {Allowed}";
        return null;
    }

    public static bool IsValid(string? id) => Problem(id) is null;

    /// <summary>Refuses an invalid id as invalid data (422) with a field error on <paramref name="field"/>.</summary>
    public static string Require(string? id, string field = "patientId") =>
        Problem(id) is { } problem
            ? throw new PathwayRuleException(RejectionKind.InvalidData, $"{field} is not a valid patient id", [new FieldError(field, problem)])
            : id!;

    private static bool IsAllowed(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.' or ':';
}
