namespace KbPathways.Domain.Pathways;

public enum Severity { Error, Warning }

/// <summary>A place in a source file; line and column are 1-based, as editors show them.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>One problem found in a pathway file. <see cref="Rule"/> is a stable code documented in pathways/README.md.</summary>
public sealed record Diagnostic(Severity Severity, SourceLocation Location, string Rule, string Message)
{
    public override string ToString() =>
        $"{Location}: {(Severity == Severity.Error ? "error" : "warning")}: {Message} [{Rule}]";
}

/// <summary>Collects diagnostics while binding and validating.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> items = [];

    public IReadOnlyList<Diagnostic> Items => items;
    public bool HasErrors => items.Any(d => d.Severity == Severity.Error);

    public void Error(SourceLocation at, string rule, string message) => items.Add(new(Severity.Error, at, rule, message));
    public void Warning(SourceLocation at, string rule, string message) => items.Add(new(Severity.Warning, at, rule, message));
    public void AddRange(IEnumerable<Diagnostic> diagnostics) => items.AddRange(diagnostics);

    /// <summary>Adds <paramref name="note"/> to the messages of the diagnostics from <paramref name="from"/> on that <paramref name="where"/> holds for.</summary>
    public void Annotate(int from, Func<Diagnostic, bool> where, string note)
    {
        for (var i = from; i < items.Count; i++)
            if (where(items[i])) items[i] = items[i] with { Message = items[i].Message + note };
    }
}
