using System.Diagnostics.Metrics;
using KbPathways.Domain.Trajectories;

namespace KbPathways.Projections;

/// <summary>
/// The engine's own metrics (meter <c>KbPathways</c>). Tags carry pathway ids, triggers and rejection kinds only —
/// never a patient, user or practice.
/// </summary>
public static class EngineMetrics
{
    public const string MeterName = "KbPathways";
    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Steps = Meter.CreateCounter<long>("kbpathways.steps", description: "Steps appended");
    private static readonly Counter<long> Rejections = Meter.CreateCounter<long>("kbpathways.rejections", description: "Commands refused by a pathway rule");
    private static readonly Counter<long> Started = Meter.CreateCounter<long>("kbpathways.trajectories.started");

    public static void Record(string pathway, IEnumerable<object> events)
    {
        foreach (var e in events)
        {
            if (e is StepTaken step) Steps.Add(1, new("pathway", pathway), new("trigger", step.Trigger), new("by_deadline", step.Deadline is not null));
            else if (e is TrajectoryStarted) Started.Add(1, new KeyValuePair<string, object?>("pathway", pathway));
        }
    }

    public static void Rejected(string pathway, RejectionKind kind) =>
        Rejections.Add(1, new("pathway", pathway), new("kind", kind.ToString()));
}
