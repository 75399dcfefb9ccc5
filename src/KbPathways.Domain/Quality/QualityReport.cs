using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Domain.Quality;

/// <summary>One trajectory as the quality cycle sees it.</summary>
public sealed record TrajectoryRow(Guid Id, string PatientId, string PathwayId, DateTimeOffset StartedAt, string? Outcome, TrajectoryFacts Facts)
{
    public static TrajectoryRow Of(Trajectories.Trajectory t) => new(t.Id, t.PatientId, t.PathwayId, t.StartedAt, t.Outcome, t.Facts);

    public bool ActiveAt(DateTimeOffset at) => StartedAt <= at && (Facts.CompletedAt is null || Facts.CompletedAt > at);
}

/// <summary>
/// One patient's KB status (seed 000): <see cref="InBeeld"/> and <see cref="InZorg"/> by the pathway's rule, whether they are
/// <see cref="Ingekaart"/> (KB mark on their record), the labels of the in-beeld fields still to record, the last POH-Kb
/// contact and the moment active contact lapses without a new one.
/// </summary>
public sealed record PatientCareStatus(bool InBeeld, bool InZorg, bool Ingekaart, IReadOnlyList<string> Missing, DateTimeOffset? LastContact, DateTimeOffset? ContactBefore);

/// <summary>
/// One patient on a yearly-review list (seed 000: per huisarts): the list (<see cref="Group"/>, null when the value was
/// never recorded), when they were last reviewed, and by when the next review is due.
/// </summary>
public sealed record ReviewEntry(string? Group, string PatientId, Guid TrajectoryId, string PathwayId, string State, DateTimeOffset? LastReviewed,
    DateTimeOffset DueBy, bool Reviewed);

/// <summary>The KB mark was placed (or removed) for a patient at a moment.</summary>
public sealed record KbMarkChange(string PatientId, bool Marked, DateTimeOffset At);

/// <summary>
/// [A] The choices behind the indicators, configurable per installation: the CVG instrument's name, the MDO and
/// medication-review windows for frail elderly (6 months is [F] S24; 12 months is [A]), the outcome that counts as a
/// doorbraak, and the time zone whose calendar months the report uses.
/// </summary>
public sealed record QualitySettings(string CvgInstrument, IsoPeriod MdoWindow, IsoPeriod MedicationReviewWindow, string BreakthroughOutcome, TimeZoneInfo Zone)
{
    public static QualitySettings Default(TimeZoneInfo zone) => new("cvg", new IsoPeriod(0, 6, 0, 0, 0, 0), new IsoPeriod(1, 0, 0, 0, 0, 0), "doorbraak", zone);
}

/// <summary>
/// One figure. <see cref="Pathway"/> null = all pathways; <see cref="Group"/> splits an indicator (referral type,
/// escalation level); <see cref="Month"/> (yyyy-MM) null = the whole period. Percentages and means carry the counts they
/// were computed from in <see cref="Numerator"/>/<see cref="Denominator"/>.
/// </summary>
public sealed record IndicatorValue(string Indicator, string? Pathway, string? Group, string? Month, decimal? Value, int? Numerator = null, int? Denominator = null);

/// <summary>
/// The quality indicators of the kwaliteitscyclus (domain brief §7) for one practice and one period, computed from the
/// trajectories' facts and the KB marks only. Steps count for an indicator through the <c>indicators:</c> tags of the
/// pathway that was in force when they were taken; the states' tags (e.g. <c>kwetsbaar</c>) come from the definitions.
/// </summary>
public static class QualityReport
{
    public const string Intake = "intake", Session = "sessie", Mdo = "mdo", MedicationReview = "medicatiereview",
        Referral = "verwijzing", Feedback = "terugkoppeling", Escalation = "escalatie", Frail = "kwetsbaar", OpenHandover = "overdracht-open",
        KbContact = "kb-contact", CommittedYes = "echt-doen-ja", Started = "gestart", Screening = "screening";

    /// <summary>Dutch labels, in the order the report lists the indicators.</summary>
    public static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string>
    {
        ["in-beeld"] = "In beeld (doelgroep bekend, contactpersonen en afspraken vastgelegd) aan het eind van de periode",
        ["in-zorg"] = "In zorg (ingekaart en actief contact met de POH-Kb) aan het eind van de periode",
        ["instroom"] = "Instroom: gestarte trajecten",
        ["uitstroom"] = "Uitstroom: afgesloten trajecten",
        ["cvg-start"] = "Gemiddeld CVG bij start (gepaard)",
        ["cvg-eind"] = "Gemiddeld CVG bij afsluiting (gepaard)",
        ["cvg-verschil"] = "Gemiddelde verandering CVG (eind − start)",
        ["dagen-signaal-intake"] = "Gemiddeld aantal dagen van signaal tot intake",
        ["sessies-per-traject"] = "Gemiddeld aantal POH-gesprekken per afgesloten traject",
        ["kb-contacten"] = "Contacten van de POH-Kb",
        ["boven-sessieplafond"] = "% afgesloten trajecten boven het gespreksplafond",
        ["mdo"] = "Aantal MDO-besprekingen",
        ["kwetsbaar-mdo"] = "% kwetsbare ouderen met een MDO binnen de termijn",
        ["kwetsbaar-medicatiereview"] = "% kwetsbare ouderen met een medicatiebeoordeling binnen de termijn",
        ["verwijzingen"] = "Verwijzingen per soort",
        ["terugkoppeling"] = "% verwijzingen met terugkoppeling ontvangen",
        ["escalaties"] = "Escalaties per niveau",
        ["doorbraak"] = "% geëscaleerde trajecten afgesloten met doorbraak",
        ["jaarbespreking"] = "% Kb-patiënten besproken in de jaarlijkse bespreking, per huisarts",
        ["gescreend-75plus"] = "% van de 75+-lijst gescreend in de periode",
        ["echt-doen-gestart"] = "% 'Gaat u dit ook écht doen?' = ja dat ook startte",
        ["score-verschil"] = "Gemiddelde verandering van een meting (laatste − eerste), per meting",
    };

    public static IReadOnlyList<IndicatorValue> Compute(IReadOnlyList<TrajectoryRow> rows, IReadOnlyList<KbMarkChange> marks,
        Func<string, PathwayDefinition?> definitions, QualitySettings settings, DateOnly from, DateOnly to)
    {
        var start = StartOf(from, settings.Zone);
        var end = StartOf(to.AddDays(1), settings.Zone);
        var asOf = end.AddTicks(-1);
        bool InPeriod(DateTimeOffset at) => at >= start && at < end;
        string MonthOf(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, settings.Zone).ToString("yyyy-MM");
        var pathways = rows.Select(r => r.PathwayId).Distinct().Order(StringComparer.Ordinal).ToList();
        var result = new List<IndicatorValue>();

        var (inBeeld, inZorg) = CareStatus(rows, marks, definitions, asOf);
        result.Add(new("in-beeld", null, null, null, inBeeld.Count));
        result.Add(new("in-zorg", null, null, null, inZorg.Count));

        // Per pathway (and all pathways together, Pathway = null).
        foreach (var (pathway, group) in pathways.Select(p => ((string?)p, rows.Where(r => r.PathwayId == p).ToList())).Prepend((null, rows.ToList())))
        {
            Flow("instroom", pathway, group.Select(r => r.StartedAt));
            Flow("uitstroom", pathway, group.Select(r => r.Facts.CompletedAt).OfType<DateTimeOffset>());
            Flow(Mdo, pathway, group.SelectMany(r => r.Facts.Marks).Where(m => m.Indicator == Mdo).Select(m => m.At));
            Flow("kb-contacten", pathway, group.SelectMany(r => r.Facts.Marks).Where(m => m.Indicator == KbContact).Select(m => m.At));

            var completed = group.Where(r => r.Facts.CompletedAt is { } c && InPeriod(c)).ToList();
            var paired = Paired(completed, settings.CvgInstrument);
            Mean("cvg-start", pathway, paired.Select(p => p.First.Total));
            Mean("cvg-eind", pathway, paired.Select(p => p.Last.Total));
            Mean("cvg-verschil", pathway, paired.Select(p => p.Last.Total - p.First.Total));

            Mean("dagen-signaal-intake", pathway, group
                .Select(r => (r.StartedAt, Intake: r.Facts.Marks.FirstOrDefault(m => m.Indicator == Intake)))
                .Where(x => x.Intake is not null && InPeriod(x.Intake.At))
                .Select(x => (decimal)(x.Intake!.At - x.StartedAt).TotalDays));

            var withSessions = completed.Where(r => r.Facts.Marks.Any(m => m.Indicator == Session)).ToList();
            Mean("sessies-per-traject", pathway, withSessions.Select(r => (decimal)r.Facts.Marks.Count(m => m.Indicator == Session)));
            Percent("boven-sessieplafond", pathway, null, withSessions.Count(r => r.Facts.Marks.Any(m => m.Indicator == Session && m.Warned)), withSessions.Count);

            var frail = group.Where(r => r.ActiveAt(asOf) && StateAt(r, definitions, asOf)?.Indicators.Contains(Frail) == true).ToList();
            Percent("kwetsbaar-mdo", pathway, null, frail.Count(r => Recent(r, Mdo, Window(r, Mdo, settings.MdoWindow, definitions, asOf), asOf)), frail.Count);
            Percent("kwetsbaar-medicatiereview", pathway, null,
                frail.Count(r => Recent(r, MedicationReview, Window(r, MedicationReview, settings.MedicationReviewWindow, definitions, asOf), asOf)), frail.Count);

            // Seed 003: "Gaat u dit ook écht doen?" = ja (a state tagged echt-doen-ja entered in the period), and started since.
            var committed = group.Select(r => (Row: r, Yes: r.Facts.States.FirstOrDefault(v => InPeriod(v.At)
                    && definitions(v.Hash)?.FindState(v.State)?.Indicators.Contains(CommittedYes) == true)))
                .Where(x => x.Yes is not null).ToList();
            Percent("echt-doen-gestart", pathway, null, committed.Count(x => x.Row.Facts.Marks.Any(m => m.Indicator == Started && m.At >= x.Yes!.At && m.At < end)), committed.Count);

            // The 75+ list (pathways with a step tagged screening): running at some moment of the period, screened in it.
            var listed = group.Where(r => r.StartedAt < end && (r.Facts.CompletedAt is not { } done || done >= start)
                && definitions(r.Facts.StateAt(asOf)?.Hash ?? "") is { } d && Tags(d).Contains(Screening)).ToList();
            if (listed.Count > 0 || pathway is null)
                Percent("gescreend-75plus", pathway, null, listed.Count(r => r.Facts.Marks.Any(m => m.Indicator == Screening && InPeriod(m.At))), listed.Count);

            var escalated = completed.Where(r => r.Facts.Marks.Any(m => Kind(m.Indicator) == Escalation)).ToList();
            Percent("doorbraak", pathway, null, escalated.Count(r => r.Outcome == settings.BreakthroughOutcome), escalated.Count);
        }

        // Per referral type and escalation level, over all pathways.
        var referrals = rows.SelectMany(r => r.Facts.Marks.Where(m => Kind(m.Indicator) == Referral && InPeriod(m.At)).Select(m => (Row: r, Mark: m))).ToList();
        foreach (var type in referrals.GroupBy(x => Qualifier(x.Mark.Indicator)).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            result.Add(new("verwijzingen", null, type.Key, null, type.Count()));
            var answered = type.Count(x => x.Row.Facts.Marks.Any(m => m.Indicator == $"{Feedback}/{type.Key}" && m.At >= x.Mark.At));
            Percent("terugkoppeling", null, type.Key, answered, type.Count());
        }
        foreach (var level in rows.SelectMany(r => r.Facts.Marks).Where(m => Kind(m.Indicator) == Escalation && InPeriod(m.At))
                     .GroupBy(m => Qualifier(m.Indicator)).OrderBy(g => g.Key, StringComparer.Ordinal))
            result.Add(new("escalaties", null, level.Key, null, level.Count()));

        // Every measure and instrument followed over time (CVG, GFI, BMI-SDS …): last − first over trajectories closed in the period.
        var closed = rows.Where(r => r.Facts.CompletedAt is { } c && InPeriod(c)).ToList();
        foreach (var measure in closed.SelectMany(r => r.Facts.FirstScores.Keys).Distinct().Order(StringComparer.Ordinal))
        {
            var pairs = Paired(closed, measure);
            result.Add(new("score-verschil", null, measure, null, pairs.Count == 0 ? null : Math.Round(pairs.Average(p => p.Last.Total - p.First.Total), 2), null, pairs.Count));
        }

        // Seed 000: whether each GP's yearly review was done: the share of their list reviewed within the period's window.
        var review = YearlyReview(rows, definitions, asOf);
        foreach (var list in review.GroupBy(e => e.Group ?? "").OrderBy(g => g.Key, StringComparer.Ordinal))
            Percent("jaarbespreking", null, list.Key, list.Count(e => e.Reviewed), list.Count());
        return result;

        void Flow(string indicator, string? pathway, IEnumerable<DateTimeOffset> moments)
        {
            var inPeriod = moments.Where(InPeriod).ToList();
            result.Add(new(indicator, pathway, null, null, inPeriod.Count));
            foreach (var month in inPeriod.GroupBy(MonthOf).OrderBy(g => g.Key, StringComparer.Ordinal))
                result.Add(new(indicator, pathway, null, month.Key, month.Count()));
        }

        void Mean(string indicator, string? pathway, IEnumerable<decimal> values)
        {
            var list = values.ToList();
            result.Add(new(indicator, pathway, null, null, list.Count == 0 ? null : Math.Round(list.Average(), 2), null, list.Count));
        }

        void Percent(string indicator, string? pathway, string? group, int numerator, int denominator) =>
            result.Add(new(indicator, pathway, group, null, denominator == 0 ? null : Math.Round(100m * numerator / denominator, 1), numerator, denominator));
    }

    /// <summary>
    /// Who is <i>in beeld</i> and who <i>in zorg</i> at <paramref name="at"/>, by the <c>careStatus</c> rule of the pathways
    /// the patients' trajectories run on (seed 000; see <see cref="CareStatusRule"/>). The dashboard, the quality report
    /// and the patient view all count with <see cref="StatusOf"/>.
    /// </summary>
    public static (IReadOnlySet<string> InBeeld, IReadOnlySet<string> InZorg) CareStatus(IReadOnlyList<TrajectoryRow> rows,
        IReadOnlyList<KbMarkChange> marks, Func<string, PathwayDefinition?> definitions, DateTimeOffset at)
    {
        var marked = marks.Where(m => m.At <= at).GroupBy(m => m.PatientId, StringComparer.Ordinal)
            .Where(g => g.MaxBy(m => m.At)!.Marked).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        var inBeeld = new HashSet<string>(StringComparer.Ordinal);
        var inZorg = new HashSet<string>(StringComparer.Ordinal);
        foreach (var patient in rows.GroupBy(r => r.PatientId, StringComparer.Ordinal))
        {
            var status = StatusOf([.. patient], marked.Contains(patient.Key), definitions, at);
            if (status.InBeeld) inBeeld.Add(patient.Key);
            if (status.InZorg) inZorg.Add(patient.Key);
        }
        return (inBeeld, inZorg);
    }

    /// <summary>
    /// One patient's KB status at <paramref name="at"/> from their trajectories and whether they are ingekaart (the KB
    /// mark is on their record), with what is missing: the in-beeld fields not yet recorded, and the last POH-Kb contact.
    /// </summary>
    public static PatientCareStatus StatusOf(IReadOnlyList<TrajectoryRow> rows, bool ingekaart, Func<string, PathwayDefinition?> definitions, DateTimeOffset at)
    {
        var inBeeld = false;
        var inZorg = false;
        IReadOnlyList<string>? missing = null;
        DateTimeOffset? lastContact = null, contactBefore = null;
        foreach (var row in rows)
        {
            if (!row.ActiveAt(at) || row.Facts.StateAt(at) is not { } visit || definitions(visit.Hash) is not { CareStatus: { } rule } definition) continue;
            var notRecorded = rule.InBeeldRecorded.Where(f => row.Facts.RecordedAt(f) is not { } when || when > at)
                .Select(f => definition.FindField(f)?.Label ?? definition.FindInstrument(f)?.Label ?? f).ToList();
            if (notRecorded.Count == 0) inBeeld = true;
            else if (missing is null || notRecorded.Count < missing.Count) missing = notRecorded;
            var contact = row.Facts.Marks.LastOrDefault(m => m.At <= at && rule.ContactIndicators.Contains(m.Indicator))?.At;
            if (contact is not null && (lastContact is null || contact > lastContact)) lastContact = contact;
            if (contact is null || !rule.InZorgStates.Contains(visit.State)) continue;
            var before = rule.ContactWithin.AddTo(contact.Value);
            if (contactBefore is null || before > contactBefore) contactBefore = before;
            if ((ingekaart || !rule.InZorgMarked) && before >= at) inZorg = true;
        }
        return new PatientCareStatus(inBeeld, inZorg, ingekaart, inBeeld ? [] : missing ?? [], lastContact, contactBefore);
    }

    /// <summary>
    /// The yearly-review lists at <paramref name="at"/>: every running trajectory of a pathway with a <c>yearlyReview</c>,
    /// on the list of its <see cref="TrajectoryFacts.ReviewGroup"/>, reviewed when its last step tagged as the review is
    /// no older than the rule's period; due by that step (or the start) plus the period.
    /// </summary>
    public static IReadOnlyList<ReviewEntry> YearlyReview(IEnumerable<TrajectoryRow> rows, Func<string, PathwayDefinition?> definitions, DateTimeOffset at)
    {
        var entries = new List<ReviewEntry>();
        foreach (var row in rows)
        {
            if (!row.ActiveAt(at) || row.Facts.StateAt(at) is not { } visit || definitions(visit.Hash) is not { YearlyReview: { } rule }) continue;
            var last = row.Facts.Marks.LastOrDefault(m => m.At <= at && m.Indicator == rule.Reviewed)?.At;
            var due = rule.Every.AddTo(last ?? row.StartedAt);
            entries.Add(new ReviewEntry(row.Facts.ReviewGroup, row.PatientId, row.Id, row.PathwayId, visit.State, last, due, last is not null && due >= at));
        }
        return entries;
    }

    /// <summary>The first and the last score of <paramref name="instrument"/> per trajectory that has two, taken at different moments.</summary>
    public static IReadOnlyList<(ScoreAt First, ScoreAt Last)> Paired(IEnumerable<TrajectoryRow> rows, string instrument) =>
        [.. rows.Select(r => (First: r.Facts.FirstScores.GetValueOrDefault(instrument), Last: r.Facts.LastScores.GetValueOrDefault(instrument)))
            .Where(p => p.First is not null && p.Last is not null && p.Last.At > p.First.At).Select(p => (p.First!, p.Last!))];

    /// <summary>
    /// The window an indicator of a frail patient looks back over: the pathway's own (<c>indicatorWindows</c>, read from
    /// its settings, so a practice overlay that moves the deadline moves the indicator), else the installation's.
    /// </summary>
    private static IsoPeriod Window(TrajectoryRow row, string indicator, IsoPeriod fallback, Func<string, PathwayDefinition?> definitions, DateTimeOffset at) =>
        row.Facts.StateAt(at) is { } visit && definitions(visit.Hash) is { } definition && definition.IndicatorWindows.TryGetValue(indicator, out var own)
            ? own : fallback;

    private static StateDefinition? StateAt(TrajectoryRow row, Func<string, PathwayDefinition?> definitions, DateTimeOffset at) =>
        row.Facts.StateAt(at) is { } visit ? definitions(visit.Hash)?.FindState(visit.State) : null;

    private static bool Recent(TrajectoryRow row, string indicator, IsoPeriod window, DateTimeOffset at) =>
        row.Facts.Marks.Any(m => m.Indicator == indicator && m.At <= at && window.AddTo(m.At) >= at);

    /// <summary>Every indicator tag a definition's steps carry.</summary>
    private static IReadOnlySet<string> Tags(PathwayDefinition d) => TagsOf.GetValue(d, x =>
        x.Tracks.SelectMany(t => t.States.SelectMany(s => s.Transitions).Concat(t.AnyState)).SelectMany(t => t.Indicators).ToHashSet(StringComparer.Ordinal));

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<PathwayDefinition, IReadOnlySet<string>> TagsOf = new();

    private static string Kind(string indicator) => indicator.Split('/')[0];

    private static string Qualifier(string indicator) => indicator.Contains('/') ? indicator[(indicator.IndexOf('/') + 1)..] : "";

    private static DateTimeOffset StartOf(DateOnly day, TimeZoneInfo zone)
    {
        var local = day.ToDateTime(TimeOnly.MinValue);
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>The report as CSV (RFC 4180, comma-separated, with the Dutch label in the second column).</summary>
    public static string ToCsv(IReadOnlyList<IndicatorValue> values)
    {
        var csv = new System.Text.StringBuilder("indicator,label,pathway,group,month,value,numerator,denominator\r\n");
        foreach (var v in values)
            csv.Append(string.Join(",", new[]
            {
                v.Indicator, Labels.GetValueOrDefault(v.Indicator, v.Indicator), v.Pathway ?? "", v.Group ?? "", v.Month ?? "",
                v.Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "", v.Numerator?.ToString() ?? "", v.Denominator?.ToString() ?? "",
            }.Select(Quote))).Append("\r\n");
        return csv.ToString();
    }

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{field.Replace("\"", "\"\"")}\"" : field;
}
