using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace KbPathways.Host.Identity;

/// <summary>
/// Token settings. In production <c>Auth:SigningKey</c> (base64, at least 32 bytes) and <c>Auth:Issuer</c> come from
/// configuration. Without them the host and the <c>token</c> command share a development key, created once in the
/// user's data folder — never use that one with real patients.
/// </summary>
public sealed class AuthOptions
{
    public const string DevelopmentIssuer = "kbpathways-development";

    public string Issuer { get; set; } = DevelopmentIssuer;
    public string? SigningKey { get; set; }
    public string Audience { get; set; } = "kbpathways";

    private byte[]? key;

    public bool IsDevelopmentKey => string.IsNullOrEmpty(SigningKey);

    /// <summary>Resolved once: the host validates and its tokens are signed with one key for its whole life.</summary>
    public SymmetricSecurityKey Key() => new(key ??= IsDevelopmentKey ? DevelopmentKey() : Convert.FromBase64String(SigningKey!));

    public static string DevelopmentKeyFile => Path.Combine(
        Environment.UserName == "root" ? "/var/lib/kbpathways" : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "kbpathways"),
        "development-signing-key");

    private static byte[] DevelopmentKey()
    {
        var file = Environment.GetEnvironmentVariable("KBPATHWAYS_DEV_KEY_FILE") ?? DevelopmentKeyFile;
        if (!File.Exists(file))
        {
            // Written aside and moved into place, so a process starting at the same moment never reads a half-written key.
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var aside = $"{file}.{Guid.NewGuid():N}.tmp";
            File.WriteAllBytes(aside, RandomNumberGenerator.GetBytes(32));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(aside, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            try
            {
                File.Move(aside, file, overwrite: false);
            }
            catch (IOException) when (File.Exists(file))
            {
                File.Delete(aside); // another process put its key there first: use theirs
            }
        }
        return File.ReadAllBytes(file);
    }
}
