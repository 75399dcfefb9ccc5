namespace KbPathways.Domain.Pathways.Yaml;

/// <summary>
/// A YAML node that remembers where it was written. Pathway files are read into this small tree (instead of
/// deserialised straight into classes) so that every later error can name file, line and column, and so that
/// practice overlays can be merged node by node while each value keeps the location of the file it came from.
/// </summary>
public abstract record YNode(SourceLocation Location)
{
    public abstract string Kind { get; }
}

public sealed record YScalar(string Value, bool Plain, SourceLocation Location) : YNode(Location)
{
    public override string Kind => "a value";

    /// <summary>A plain (unquoted) <c>~</c>, <c>null</c> or empty scalar.</summary>
    public bool IsNull => Plain && Value is "" or "~" or "null";
}

public sealed record YSequence(IReadOnlyList<YNode> Items, SourceLocation Location) : YNode(Location)
{
    public override string Kind => "a list";
}

public sealed record YMapping(IReadOnlyList<YEntry> Entries, SourceLocation Location) : YNode(Location)
{
    public override string Kind => "a mapping";

    public YEntry? Find(string key) => Entries.FirstOrDefault(e => e.Key.Value == key);
}

public sealed record YEntry(YScalar Key, YNode Value);
