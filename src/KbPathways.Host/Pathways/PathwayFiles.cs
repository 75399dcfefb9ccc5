using KbPathways.Domain.Pathways.Model;

namespace KbPathways.Host.Pathways;

/// <summary>
/// The file side of pathway loading: every <c>*.yaml</c> under a folder (or one file), except scenario files,
/// read as text with paths relative to the working directory so diagnostics point where an editor can open them.
/// </summary>
public static class PathwayFiles
{
    public const string ScenarioSuffix = ".scenarios.yaml";

    public const string DefaultFolder = "pathways";

    /// <summary>
    /// Where the pathways are: the configured path (default <c>pathways</c>) from the current folder when it is there —
    /// a practice editing its files runs the host beside them — else from the host's own folder, where the build copies
    /// the shipped pathways, so a host started anywhere finds them.
    /// </summary>
    public static string Locate(string? configured, string hostFolder)
    {
        var path = string.IsNullOrWhiteSpace(configured) ? DefaultFolder : configured;
        if (Path.IsPathRooted(path) || File.Exists(path) || Directory.Exists(path)) return path;
        var beside = Path.Combine(hostFolder, path);
        return File.Exists(beside) || Directory.Exists(beside) ? beside : path;
    }

    public static IReadOnlyList<PathwaySource> Read(string path) =>
        Find(path, f => !f.EndsWith(ScenarioSuffix, StringComparison.Ordinal))
            .Select(f => new PathwaySource(Display(f), File.ReadAllText(f))).ToList();

    public static IReadOnlyList<string> Scenarios(string path) => Find(path, f => f.EndsWith(ScenarioSuffix, StringComparison.Ordinal));

    private static List<string> Find(string path, Func<string, bool> keep)
    {
        if (File.Exists(path)) return keep(path) ? [path] : [];
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"no pathway file or folder at '{path}'");
        return Directory.EnumerateFiles(path, "*.yaml", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(path, "*.yml", SearchOption.AllDirectories))
            .Where(keep).Order(StringComparer.Ordinal).ToList();
    }

    public static string Display(string file)
    {
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), file);
        return relative.StartsWith("..", StringComparison.Ordinal) ? Path.GetFullPath(file) : relative;
    }
}
