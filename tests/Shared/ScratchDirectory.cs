namespace KbPathways.Testing;

/// <summary>
/// A directory of its own under the system's temporary folder for one test or bench run (a PostgreSQL data directory,
/// pathway files), and the development signing key's folder beside it; both are removed on dispose. Dispose the
/// server that uses it first: declare it after this, so that <c>using</c> disposes it before.
/// </summary>
public sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory(string purpose) =>
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"kbpathways-{purpose}-{Guid.NewGuid().ToString("N")[..8]}");

    public string Path { get; }

    /// <summary>Where a host run in this directory keeps its development signing key (KBPATHWAYS_DEV_KEY_FILE).</summary>
    public string KeyFile => System.IO.Path.Combine(Path + "-key", "key");

    /// <summary>
    /// Makes hosts in this process keep their development key in <see cref="KeyFile"/>. The setting is process-wide and a
    /// host reads it when it first needs its key, so set it once per process (the bench; the test run's
    /// <c>DevelopmentKeyForTests</c>), not per test.
    /// </summary>
    public ScratchDirectory WithDevelopmentKey()
    {
        Environment.SetEnvironmentVariable("KBPATHWAYS_DEV_KEY_FILE", KeyFile);
        return this;
    }

    /// <summary>
    /// A head file of its own for one host start: in the development key's folder when there is one (removed with it),
    /// else in the temporary folder. Two clusters of one run may get the same port in turn, so a head is never shared
    /// by connection string.
    /// </summary>
    public static string NewAccessLogHeadFile()
    {
        var keyFile = Environment.GetEnvironmentVariable("KBPATHWAYS_DEV_KEY_FILE");
        var folder = keyFile is null ? System.IO.Path.GetTempPath() : System.IO.Path.Combine(System.IO.Path.GetDirectoryName(keyFile)!, "heads");
        return System.IO.Path.Combine(folder, $"kbpathways-access-log-head-{Guid.NewGuid():N}.json");
    }

    public void Dispose()
    {
        foreach (var directory in new[] { Path, Path + "-key" })
            try
            {
                if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A server that is still shutting down may hold a file for a moment; the folder is temporary anyway.
            }
    }
}
