using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Quality;
using System.Runtime.CompilerServices;
using Marten;

namespace KbPathways.Projections;

/// <summary>[A] The installation's choices for the quality report; see <see cref="QualitySettings"/>.</summary>
public sealed class QualityReportOptions
{
    public string TimeZone { get; set; } = "Europe/Amsterdam";
    public string CvgInstrument { get; set; } = "cvg";
    public string MdoWindow { get; set; } = "P6M";
    public string MedicationReviewWindow { get; set; } = "P12M";
    public string BreakthroughOutcome { get; set; } = "doorbraak";

    /// <summary>How many practices' summaries a host keeps in memory for the dashboard, worklist and report (see <see cref="PracticeSnapshots"/>).</summary>
    public int CachedPractices { get; set; } = 16;

    /// <summary>What is wrong with these settings, per key (under <c>Quality:</c>); empty when all is well.</summary>
    public IEnumerable<string> Problems()
    {
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _)) yield return $"Quality:TimeZone '{TimeZone}' is not a known time zone (e.g. Europe/Amsterdam)";
        if (!IsoPeriod.TryParse(MdoWindow, out _)) yield return $"Quality:MdoWindow '{MdoWindow}' is not an ISO 8601 period (e.g. P6M)";
        if (!IsoPeriod.TryParse(MedicationReviewWindow, out _)) yield return $"Quality:MedicationReviewWindow '{MedicationReviewWindow}' is not an ISO 8601 period (e.g. P12M)";
        if (CachedPractices < 1) yield return "Quality:CachedPractices must be 1 or more";
    }

    public QualitySettings ToSettings() => new(CvgInstrument, Period(MdoWindow), Period(MedicationReviewWindow), BreakthroughOutcome,
        TimeZoneInfo.FindSystemTimeZoneById(TimeZone));

    private static IsoPeriod Period(string text) =>
        IsoPeriod.TryParse(text, out var period) ? period : throw new ArgumentException($"'{text}' is not an ISO 8601 period");
}

/// <summary>A practice's trajectories (as summaries and as report rows), its KB marks, and every definition they ran on.</summary>
public sealed record PracticeData(
    IReadOnlyList<TrajectorySummary> Summaries,
    IReadOnlyList<TrajectoryRow> Rows,
    IReadOnlyList<KbMarkChange> Marks,
    IReadOnlyDictionary<string, PathwayDefinition?> Definitions)
{
    public PathwayDefinition? Definition(string hash) => Definitions.GetValueOrDefault(hash);
}

/// <summary>Reads what the dashboard and the quality report are computed from: one practice's summaries and KB marks.</summary>
public sealed class QualityService(IDocumentStore store, PracticeSnapshots snapshots, DefinitionRegistry definitions, QualityReportOptions options)
{
    public QualitySettings Settings { get; } = options.ToSettings();

    private readonly ConditionalWeakTable<PracticeSnapshot, PracticeData> derived = new();

    /// <summary>
    /// The practice as committed now. What is derived from a snapshot is kept with it, so a read that finds nothing
    /// changed (the same snapshot) derives nothing again. The result is shared between readers: read it, never change it.
    /// </summary>
    public async Task<PracticeData> LoadAsync(string practice, CancellationToken ct = default)
    {
        var snapshot = await snapshots.ReadAsync(practice, ct);
        if (derived.TryGetValue(snapshot, out var data)) return data;
        data = await DeriveAsync(snapshot, ct);
        derived.AddOrUpdate(snapshot, data);
        return data;
    }

    private async Task<PracticeData> DeriveAsync(PracticeSnapshot snapshot, CancellationToken ct)
    {
        var summaries = snapshot.Summaries;
        await using var session = store.QuerySession();
        var resolved = new Dictionary<string, PathwayDefinition?>(StringComparer.Ordinal);
        string? last = null; // nearly every trajectory and visit shares its neighbour's hash; comparing is cheaper than hashing
        foreach (var summary in summaries)
        {
            await Resolve(summary.DefinitionHash);
            if (summary.Facts is { } facts)
                foreach (var visit in facts.States) await Resolve(visit.Hash);
        }
        return new PracticeData(summaries,
            [.. summaries.Where(s => s.Facts is not null).Select(s => new TrajectoryRow(s.Id, s.PatientId, s.PathwayId, s.StartedAt, s.Outcome, s.Facts!))],
            [.. snapshot.Marks.SelectMany(m => m.Changes)],
            resolved);

        async ValueTask Resolve(string hash)
        {
            if (string.Equals(hash, last, StringComparison.Ordinal)) return;
            last = hash;
            if (!resolved.ContainsKey(hash)) resolved[hash] = await definitions.ResolveAsync(session, hash, ct);
        }
    }

    public async Task<IReadOnlyList<IndicatorValue>> ReportAsync(string practice, DateOnly from, DateOnly to, CancellationToken ct = default)
    {
        var data = await LoadAsync(practice, ct);
        return QualityReport.Compute(data.Rows, data.Marks, data.Definition, Settings, from, to);
    }
}
