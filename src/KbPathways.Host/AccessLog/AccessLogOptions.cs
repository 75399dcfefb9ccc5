using KbPathways.Host.Identity;
using KbPathways.Projections.Database;

namespace KbPathways.Host.AccessLog;

public sealed class AccessLogOptions
{
    /// <summary>[A] who may view the access log of the practice and its verification.</summary>
    public string[] ReaderRoles { get; set; } = ["praktijkmanager"];

    /// <summary>
    /// The key that signs the seals (base64, at least 32 bytes), kept where the database cannot read it. Without it, a
    /// development key in the user's data folder; a Production host refuses to serve with that one.
    /// </summary>
    public string? SealKey { get; set; }

    /// <summary>The file that holds the signed chain head, outside the database. See <see cref="HeadFileFor"/> for the default.</summary>
    public string? HeadFile { get; set; }

    /// <summary>How often the host verifies the whole chain (also once at start-up).</summary>
    public TimeSpan VerifyEvery { get; set; } = TimeSpan.FromMinutes(10);

    public bool IsDevelopmentKey => string.IsNullOrEmpty(SealKey);

    public static string DevelopmentKeyFile => Path.Combine(DevelopmentKeys.Folder, "development-access-log-key");

    /// <summary>The signing key and head file for the log in <paramref name="connection"/>'s database.</summary>
    public AccessLogSigning Signing(string connection, EmbeddedPostgres? embedded)
    {
        byte[] key;
        if (IsDevelopmentKey) key = DevelopmentKeys.Read(DevelopmentKeyFile);
        else
        {
            try
            {
                key = Convert.FromBase64String(SealKey!);
            }
            catch (FormatException)
            {
                throw new InvalidOperationException("AccessLog:SealKey must be base64 (of at least 32 bytes).");
            }
            if (key.Length < 32) throw new InvalidOperationException("AccessLog:SealKey must be at least 32 bytes (44 base64 characters).");
        }
        return new AccessLogSigning(key, HeadFile ?? HeadFileFor(connection, embedded));
    }

    /// <summary>
    /// Without <c>AccessLog:HeadFile</c>: beside the embedded cluster's data directory; for another database, in the
    /// development keys' folder, one file per server and database.
    /// </summary>
    public static string HeadFileFor(string connection, EmbeddedPostgres? embedded)
    {
        if (embedded is not null) return embedded.DataDirectory + ".access-log-head.json";
        var target = new Npgsql.NpgsqlConnectionStringBuilder(connection);
        var name = $"{target.Host}-{target.Port}-{target.Database}";
        var safe = new string([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_')]);
        return Path.Combine(DevelopmentKeys.Folder, "access-log-heads", safe + ".json");
    }
}
