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
            diagnostics.Error(At(file, e.Start), "yaml-syntax", Clean(e.Message));
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
