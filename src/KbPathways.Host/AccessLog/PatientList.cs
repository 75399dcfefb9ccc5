using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace KbPathways.Host.AccessLog;

/// <summary>
/// How a record's patients are stored in its one <c>patient</c> column: each id written so that it can hold no comma,
/// then joined with commas, so a list is read back exactly and <c>string_to_array(patient, ',')</c> (the column's index)
/// finds each id whole. An id is written as it is unless it holds a character that could break that or that
/// PostgreSQL refuses: <c>%</c>, <c>,</c>, <c>#</c> and control characters are percent-encoded (UTF-8), a lone
/// surrogate becomes U+FFFD, and an id whose written form is longer than <see cref="MaxWritten"/> characters is written
/// as <c>#sha256:</c> and the hex digest of its UTF-8 (an index entry has a size limit). Valid patient ids
/// (<see cref="Domain.Patients.PatientIds"/>) are always written as they are, so records made before this encoding read
/// back unchanged and their seals still hold.
/// </summary>
public static class PatientList
{
    public const int MaxWritten = 256;
    private const string DigestPrefix = "#sha256:";

    /// <summary>The column's value for <paramref name="patients"/>: distinct, in ordinal order; null for none.</summary>
    public static string? Encode(IEnumerable<string> patients)
    {
        var written = new SortedSet<string>(patients.Select(Write), StringComparer.Ordinal);
        return written.Count == 0 ? null : string.Join(',', written);
    }

    /// <summary>The patients a column value names, as they were given (a digest stays a digest).</summary>
    public static IReadOnlyList<string> Decode(string? column) =>
        string.IsNullOrEmpty(column) ? [] : [.. column.Split(',').Select(Read)];

    /// <summary>One id as it is written in the list (what a per-patient search looks for).</summary>
    public static string Write(string id)
    {
        var text = new StringBuilder(id.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < id.Length;)
        {
            var status = Rune.DecodeFromUtf16(id.AsSpan(i), out var rune, out var used);
            if (status != System.Buffers.OperationStatus.Done) rune = Rune.ReplacementChar;
            i += Math.Max(used, 1);
            if (rune.Value is '%' or ',' or '#' || Rune.IsControl(rune))
            {
                var n = rune.EncodeToUtf8(utf8);
                foreach (var b in utf8[..n]) text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
            else text.Append(rune.ToString());
        }
        // (Encoding.UTF8 writes a lone surrogate as U+FFFD, as above.)
        return text.Length <= MaxWritten ? text.ToString() : DigestPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
    }

    private static string Read(string written) =>
        written.StartsWith(DigestPrefix, StringComparison.Ordinal) || !written.Contains('%') ? written : Uri.UnescapeDataString(written);
}
