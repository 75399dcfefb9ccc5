using KbPathways.Domain.Patients;
using KbPathways.Domain.Quality;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Projections;

/// <summary>
/// The queryable summary of one trajectory, written in the same transaction as its events (so it is never behind),
/// and always equal to folding the stream with <see cref="Trajectory.Evolve"/>.
/// </summary>
public sealed class TrajectorySummary
{
    public Guid Id { get; set; }
    public string Practice { get; set; } = "";
    public string PatientId { get; set; } = "";
    public string PathwayId { get; set; } = "";
    public int DefinitionVersion { get; set; }
    public string DefinitionHash { get; set; } = "";
    public string State { get; set; } = "";
    public bool Completed { get; set; }
    public int Version { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset LastChangedAt { get; set; }
    public List<ScheduledDeadline> Deadlines { get; set; } = [];
    public Dictionary<string, string> Tracks { get; set; } = [];
    public string? Outcome { get; set; }
    public TrajectoryFacts? Facts { get; set; }

    /// <summary>Per track, the user the work is assigned to (a step with <c>assign: self</c>).</summary>
    public Dictionary<string, string>? Assignees { get; set; }

    public static TrajectorySummary Of(Trajectory t) => new()
    {
        Id = t.Id, Practice = t.Practice, PatientId = t.PatientId, PathwayId = t.PathwayId,
        DefinitionVersion = t.DefinitionVersion, DefinitionHash = t.DefinitionHash, State = t.State,
        Completed = t.Completed, Version = t.Version, StartedAt = t.StartedAt, LastChangedAt = t.LastChangedAt,
        Deadlines = [.. t.Deadlines],
        Tracks = new Dictionary<string, string>(t.Tracks),
        Outcome = t.Outcome, Facts = t.Facts,
        Assignees = t.AssignedTo.Count == 0 ? null : new Dictionary<string, string>(t.AssignedTo),
    };
}

/// <summary>
/// A patient's KB-mark history in one practice (placed / removed, when), kept in the same transaction as the mark's
/// events so the dashboard and the quality report read it by practice instead of searching the event log.
/// </summary>
public sealed class PatientMarks
{
    public Guid Id { get; set; }
    public string Practice { get; set; } = "";
    public string PatientId { get; set; } = "";
    public List<KbMarkChange> Changes { get; set; } = [];

    /// <summary>The history after a mark event; other events leave it as it is.</summary>
    public static PatientMarks? Apply(PatientMarks? marks, object @event) => @event switch
    {
        KbMarkPlaced e => With(marks, e.StreamId, e.Practice, e.PatientId, new KbMarkChange(e.PatientId, true, e.At)),
        KbMarkRemoved e => With(marks, e.StreamId, e.Practice, e.PatientId, new KbMarkChange(e.PatientId, false, e.At)),
        _ => marks,
    };

    private static PatientMarks With(PatientMarks? marks, Guid id, string practice, string patient, KbMarkChange change) =>
        new() { Id = id, Practice = practice, PatientId = patient, Changes = [.. marks?.Changes ?? [], change] };
}

/// <summary>The stored answer to a request sent with an Idempotency-Key, kept so a retry gets the same answer.</summary>
public sealed class IdempotencyRecord
{
    public string Id { get; set; } = "";

    /// <summary>The trajectory the stored answer shows (it holds personal data, so an erasure removes it).</summary>
    public Guid? TrajectoryId { get; set; }
    public string RequestHash { get; set; } = "";
    public int StatusCode { get; set; }
    public string Body { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}
