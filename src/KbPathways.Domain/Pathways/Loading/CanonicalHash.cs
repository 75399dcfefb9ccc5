using System.Security.Cryptography;
using System.Text;
using KbPathways.Domain.Pathways.Yaml;

namespace KbPathways.Domain.Pathways.Loading;

/// <summary>
/// SHA-256 over the effective (overlay-merged) tree, ignoring comments, layout and quoting: two files that mean
/// the same pathway share a hash, and any change of meaning changes it.
/// </summary>
internal static class CanonicalHash
{
    public static string Of(YNode node)
    {
        var text = new StringBuilder();
        Write(node, text);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static void Write(YNode node, StringBuilder text)
    {
        switch (node)
        {
            case YScalar s:
                text.Append('"').Append(s.Value.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append('"');
                break;
            case YSequence seq:
                text.Append('[');
                foreach (var item in seq.Items) { Write(item, text); text.Append(','); }
                text.Append(']');
                break;
            case YMapping map:
                text.Append('{');
                foreach (var e in map.Entries) { Write(e.Key, text); text.Append(':'); Write(e.Value, text); text.Append(','); }
                text.Append('}');
                break;
        }
    }
}
