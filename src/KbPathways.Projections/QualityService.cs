using KbPathways.Domain.Pathways.Model;
using KbPathways.Domain.Patients;
using KbPathways.Domain.Quality;
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
public sealed class QualityService(IDocumentStore store, DefinitionRegistry definitions, QualityReportOptions options)
{
    public QualitySettings Settings { get; } = options.ToSettings();

    /// <param name="openOnly">Only the open trajectories and no KB marks: what a worklist needs.</param>
    public async Task<PracticeData> LoadAsync(string practice, CancellationToken ct = default, bool openOnly = false)
    {
        await using var session = store.QuerySession();
        var query = session.Query<TrajectorySummary>().Where(t => t.Practice == practice);
        var summaries = await (openOnly ? query.Where(t => !t.Completed) : query).ToListAsync(ct);
        IReadOnlyList<PatientMarks> marks = openOnly ? [] : await session.Query<PatientMarks>().Where(m => m.Practice == practice).ToListAsync(ct);
        var resolved = new Dictionary<string, PathwayDefinition?>();
        var hashes = openOnly ? summaries.Select(s => s.DefinitionHash)
            : summaries.SelectMany(s => (s.Facts?.States.Select(v => v.Hash) ?? []).Append(s.DefinitionHash));
        foreach (var hash in hashes.Distinct())
            resolved[hash] = await definitions.ResolveAsync(session, hash, ct);
        return new PracticeData(summaries,
            [.. summaries.Where(s => s.Facts is not null).Select(s => new TrajectoryRow(s.Id, s.PatientId, s.PathwayId, s.StartedAt, s.Outcome, s.Facts!))],
            [.. marks.SelectMany(m => m.Changes)],
            resolved);
    }

    public async Task<IReadOnlyList<IndicatorValue>> ReportAsync(string practice, DateOnly from, DateOnly to, CancellationToken ct = default)
    {
        var data = await LoadAsync(practice, ct);
        return QualityReport.Compute(data.Rows, data.Marks, data.Definition, Settings, from, to);
    }
}
