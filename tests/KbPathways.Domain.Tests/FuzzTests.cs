using KbPathways.Domain.Pathways;
using KbPathways.Domain.Pathways.Loading;
using KbPathways.Domain.Scenarios;

namespace KbPathways.Domain.Tests;

/// <summary>
/// Mutation fuzzing of the loader: thousands of damaged versions of the shipped pathway files (characters deleted,
/// inserted or replaced, lines dropped, duplicated or swapped). The loader must never throw or hang, and every error
/// must point inside the file. Seeded, so a failure replays.
/// </summary>
public class FuzzTests
{
    private const int Mutations = 12000;
    private static readonly char[] Alphabet = "{}[]:,-#&*!|>'\"\t\n $%@`?~0123456789abcXYZé".ToCharArray();

    public static TheoryData<string> Files =>
        [.. Directory.EnumerateFiles(ShippedPathwayTests.Root, "*.yaml", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(ShippedPathwayTests.Root, f)).Order()];

    [Theory]
    [MemberData(nameof(Files))]
    public void Given_damaged_yaml_When_loaded_Then_never_a_crash_and_every_error_is_located(string file)
    {
        var original = File.ReadAllText(Path.Combine(ShippedPathwayTests.Root, file));
        var random = new Random(file.GetHashCode(StringComparison.Ordinal) ^ 7513);
        var scenario = file.EndsWith(".scenarios.yaml", StringComparison.Ordinal);
        for (var i = 0; i < Mutations / Files.Count + 1; i++)
        {
            var text = Mutate(original, random);
            var lines = text.Split('\n').Length;
            IReadOnlyList<Diagnostic> diagnostics;
            if (scenario)
            {
                var bag = new DiagnosticBag();
                ScenarioReader.Read("f.yaml", text, bag);
                diagnostics = bag.Items;
            }
            else diagnostics = PathwayLoader.Load("f.yaml", text).Diagnostics;
            foreach (var d in diagnostics)
            {
                d.Location.File.ShouldBe("f.yaml");
                d.Location.Line.ShouldBeInRange(1, lines + 1, $"mutation {i} of {file}: {d}");
                d.Location.Column.ShouldBeGreaterThan(0);
                d.Message.ShouldNotContain(" at KbPathways");
            }
        }
    }

    private static string Mutate(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            switch (random.Next(6))
            {
                case 0 when text.Length > 0:
                    var at = random.Next(text.Length);
                    text = text.Remove(at, Math.Min(random.Next(1, 8), text.Length - at));
                    lines = [.. text.Split('\n')];
                    break;
                case 1:
                    text = text.Insert(random.Next(text.Length + 1), new string(Enumerable.Range(0, random.Next(1, 4)).Select(_ => Alphabet[random.Next(Alphabet.Length)]).ToArray()));
                    lines = [.. text.Split('\n')];
                    break;
                case 2 when lines.Count > 1:
                    lines.RemoveAt(random.Next(lines.Count));
                    text = string.Join('\n', lines);
                    break;
                case 3 when lines.Count > 1:
                    var dup = random.Next(lines.Count);
                    lines.Insert(dup, lines[dup]);
                    text = string.Join('\n', lines);
                    break;
                case 4 when lines.Count > 2:
                    var a = random.Next(lines.Count);
                    var b = random.Next(lines.Count);
                    (lines[a], lines[b]) = (lines[b], lines[a]);
                    text = string.Join('\n', lines);
                    break;
                default:
                    var line = random.Next(lines.Count);
                    lines[line] = new string(' ', random.Next(0, 6)) + lines[line].TrimStart();
                    text = string.Join('\n', lines);
                    break;
            }
        }
        return text;
    }
}
