using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace KbPathways.Domain.Pathways.Yaml;

/// <summary>
/// Reads one YAML document into a <see cref="YNode"/> tree. Never throws for bad input: syntax errors,
/// duplicate keys, anchors and excessive nesting all become located diagnostics.
/// </summary>
public static class YamlReader
{
    public const int MaxDepth = 32;
    public const int MaxCharacters = 512 * 1024;

    public static YNode? Read(string file, string text, DiagnosticBag diagnostics)
    {
        if (text.Length > MaxCharacters)
        {
            diagnostics.Error(new(file, 1, 1), "yaml-too-large", $"file is larger than {MaxCharacters / 1024} KiB");
            return null;
        }
        Parser? parser = null;
        try
        {
            parser = new Parser(new StringReader(text));
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                diagnostics.Error(new(file, 1, 1), "yaml-empty", "file is empty");
                return null;
            }
            parser.Consume<DocumentStart>();
            var root = new Reader(file, parser, diagnostics).ReadNode(depth: 0);
            parser.Consume<DocumentEnd>();
            if (!parser.Accept<StreamEnd>(out _))
                diagnostics.Error(At(file, parser.Current!.Start), "yaml-multiple-documents", "a pathway file holds exactly one YAML document");
            return diagnostics.HasErrors ? null : root;
        }
        catch (YamlException e)
        {
            if (Indentation(file, text, e) is { } indentation) diagnostics.Error(indentation.At, "yaml-indentation", indentation.Message);
            else diagnostics.Error(At(file, e.Start), "yaml-syntax", Clean(e.Message));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this for some malformed input (e.g. an unclosed "[" before a new key);
            // the last event it produced is the nearest place we can name.
            var at = parser?.Current is { } last ? At(file, last.End) : new SourceLocation(file, 1, 1);
            diagnostics.Error(at, "yaml-syntax", "malformed YAML after this point (an unclosed bracket or quote?)");
            return null;
        }
        catch (TooDeepException e)
        {
            diagnostics.Error(e.Location, "yaml-too-deep", $"nesting deeper than {MaxDepth} levels");
            return null;
        }
    }

    /// <summary>
    /// Practices' commonest YAML mistake is indentation; the parser reports it in its own terms, often a line early. A tab
    /// in a line's indentation, or a line indented differently from the line above it where it should line up, is named
    /// in plain words on its own line.
    /// </summary>
    private static (SourceLocation At, string Message)? Indentation(string file, string text, YamlException e)
    {
        var lines = text.Split('\n');
        var near = (int)Math.Max(1, e.Start.Line);
        for (var n = Math.Max(1, near - 1); n <= Math.Min(lines.Length, near + 1); n++)
        {
            var line = lines[n - 1];
            var lead = line.Length - line.TrimStart(' ', '\t').Length;
            if (line[..lead].Contains('\t'))
                return (new(file, n, line.IndexOf('\t') + 1), "indentation: a tab is used to indent this line; YAML indents with spaces only");
        }
        if (!e.Message.Contains("mapping", StringComparison.OrdinalIgnoreCase) && !e.Message.Contains("indentation", StringComparison.OrdinalIgnoreCase)
            && !e.Message.Contains("expected key", StringComparison.OrdinalIgnoreCase)) return null;
        for (var n = Math.Min(lines.Length, near); n >= Math.Max(2, near - 1); n--)
        {
            var line = lines[n - 1].TrimEnd('\r');
            var above = lines[..(n - 1)].Select(l => l.TrimEnd('\r')).LastOrDefault(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#'));
            if (line.Trim().Length == 0 || above is null) continue;
            int Indent(string l) => l.Length - l.TrimStart(' ').Length;
            var (mine, theirs) = (Indent(line), Indent(above));
            var opensBlock = above.TrimEnd().EndsWith(':') || above.TrimStart().StartsWith("- ");
            if (mine != theirs && !(opensBlock && mine > theirs))
                return (new(file, n, mine + 1), $"indentation: this line is indented {mine} spaces, the line above {theirs}; "
                    + "keys of one mapping line up, and a key nested under another is indented further");
        }
        return null;
    }

    internal static SourceLocation At(string file, Mark mark) => new(file, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; the location is reported separately.
    private static string Clean(string message)
    {
        var cut = message.LastIndexOf("): ", StringComparison.Ordinal);
        return cut >= 0 && message.StartsWith('(') ? message[(cut + 3)..] : message;
    }

    private sealed class TooDeepException(SourceLocation location) : Exception
    {
        public SourceLocation Location { get; } = location;
    }

    private sealed class Reader(string file, IParser parser, DiagnosticBag diagnostics)
    {
        public YNode ReadNode(int depth)
        {
            var current = parser.Current!;
            var at = At(file, current.Start);
            if (depth > MaxDepth) throw new TooDeepException(at);
            if (current is NodeEvent { Anchor.IsEmpty: false } || current is AnchorAlias)
            {
                diagnostics.Error(at, "yaml-anchor", "anchors and aliases are not supported in pathway files");
                if (current is AnchorAlias)
                {
                    parser.MoveNext();
                    return new YScalar("", true, at);
                }
            }
            switch (current)
            {
                case Scalar scalar:
                    parser.MoveNext();
                    return new YScalar(scalar.Value, scalar.Style == ScalarStyle.Plain, at);
                case SequenceStart:
                    parser.MoveNext();
                    var items = new List<YNode>();
                    while (!parser.TryConsume<SequenceEnd>(out _)) items.Add(ReadNode(depth + 1));
                    return new YSequence(items, at);
                case MappingStart:
                    parser.MoveNext();
                    return ReadMapping(at, depth);
                default:
                    throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
            }
        }

        private YMapping ReadMapping(SourceLocation at, int depth)
        {
            var entries = new List<YEntry>();
            var seen = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyNode = ReadNode(depth + 1);
                var value = ReadNode(depth + 1);
                if (keyNode is not YScalar key)
                {
                    diagnostics.Error(keyNode.Location, "yaml-complex-key", "mapping keys must be plain names");
                    continue;
                }
                if (seen.TryGetValue(key.Value, out var first))
                {
                    diagnostics.Error(key.Location, "duplicate-key", $"'{key.Value}' is declared twice (first at line {first.Line})");
                    continue;
                }
                seen[key.Value] = key.Location;
                entries.Add(new YEntry(key, value));
            }
            return new YMapping(entries, at);
        }
    }
}
