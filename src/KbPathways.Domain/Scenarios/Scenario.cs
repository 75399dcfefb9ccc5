using System.Text.Json;
using KbPathways.Domain.Pathways;

namespace KbPathways.Domain.Scenarios;

/// <summary>A file of scenarios for one pathway (optionally one practice's overlay of it).</summary>
public sealed record ScenarioFile(string File, string Pathway, string? Practice, IReadOnlyList<Scenario> Scenarios);

/// <summary><see cref="Problems"/>: the errors found in this scenario's own text (an unknown key, a bad value); a scenario
/// with any fails without running, so a mistake in a check can never pass as a check that held.</summary>
public sealed record Scenario(string Name, DateTimeOffset StartAt, string StartRole, IReadOnlyDictionary<string, JsonElement> StartData,
    IReadOnlyList<ScenarioStep> Steps, SourceLocation Location, IReadOnlyList<Diagnostic>? Problems = null);

/// <summary>One step: fire a trigger as a role with data, or let time pass; then check what is expected.</summary>
public sealed record ScenarioStep(
    string? Fire,
    string? Role,
    IReadOnlyDictionary<string, JsonElement> Data,
    string? Wait,
    Expectation Expect,
    SourceLocation Location);

public sealed record Expectation(
    string? State,
    IReadOnlyDictionary<string, string> Tracks,
    string? Rejected,
    string? Field,
    IReadOnlyList<string>? Warnings,
    IReadOnlyList<string>? Deadlines,
    IReadOnlyList<string>? Fired,
    IReadOnlyList<string>? Permitted,
    IReadOnlyDictionary<string, int> Counters,
    bool? Completed,
    string? Outcome);

public sealed record ScenarioResult(string File, string Name, bool Passed, string? Failure);
