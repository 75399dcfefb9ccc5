using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace KbPathways.Host.Identity;

/// <summary>
/// Token settings. In production either <c>Auth:Authority</c> — the practice's OpenID Connect identity provider:
/// its discovery document and signing keys (JWKS) are fetched and refreshed, the issuer and <c>Auth:Audience</c> are
/// checked, and <c>Auth:RoleClaim</c>, <c>Auth:PracticeClaim</c>, <c>Auth:SubjectClaim</c> and <c>Auth:NameClaim</c>
/// say which claims carry the role(s), the practice, the user and the name — or a shared key: <c>Auth:SigningKey</c>
/// (base64, at least 32 bytes) and <c>Auth:Issuer</c>. Without either the host and the <c>token</c> command share a
/// development key, created once in the user's data folder — never use that one with real patients.
/// </summary>
public sealed class AuthOptions
{
    public const string DevelopmentIssuer = "kbpathways-development";

    public string Issuer { get; set; } = DevelopmentIssuer;

    /// <summary>The OpenID Connect provider (its base address); when set, tokens are validated against its keys.</summary>
    public string? Authority { get; set; }

    /// <summary>Whether the provider's metadata must come over HTTPS (only a test provider on the loopback may not).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public string RoleClaim { get; set; } = KbClaims.Role;
    public string PracticeClaim { get; set; } = KbClaims.Practice;
    public string SubjectClaim { get; set; } = KbClaims.Subject;
    public string NameClaim { get; set; } = KbClaims.Name;

    public bool UsesProvider => !string.IsNullOrWhiteSpace(Authority);

    /// <summary>The pages' client at the provider (authorization code flow with PKCE); with it, /aanmelden signs in there.</summary>
    public string? ClientId { get; set; }

    /// <summary>The client's secret, if the provider registered it as a confidential client.</summary>
    public string? ClientSecret { get; set; }

    public bool PagesSignInAtProvider => UsesProvider && !string.IsNullOrWhiteSpace(ClientId);
    public string? SigningKey { get; set; }
    public string Audience { get; set; } = "kbpathways";

    private byte[]? key;

    public bool IsDevelopmentKey => string.IsNullOrEmpty(SigningKey) && !UsesProvider;

    /// <summary>Resolved once: the host validates and its tokens are signed with one key for its whole life.</summary>
    public SymmetricSecurityKey Key() => new(key ??= IsDevelopmentKey ? DevelopmentKey() : Convert.FromBase64String(SigningKey!));

    private static byte[] DevelopmentKey() => DevelopmentKeys.Read(DevelopmentKeys.SigningKeyFile);
}

/// <summary>
/// The development keys (token signing, access-log seals), made once in the user's data folder — or in the folder of
/// <c>KBPATHWAYS_DEV_KEY_FILE</c>, which names the signing key's file — and shared by every process of that user.
/// </summary>
public static class DevelopmentKeys
{
    public static string SigningKeyFile => Environment.GetEnvironmentVariable("KBPATHWAYS_DEV_KEY_FILE") ?? Path.Combine(
        Environment.UserName == "root" ? "/var/lib/kbpathways" : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "kbpathways"),
        "development-signing-key");

    /// <summary>The folder the development keys are kept in.</summary>
    public static string Folder => Path.GetDirectoryName(Path.GetFullPath(SigningKeyFile))!;

    /// <summary>The key in <paramref name="file"/>, made (32 random bytes, readable by this user only) if there is none.</summary>
    public static byte[] Read(string file)
    {
        if (!File.Exists(file))
        {
            // Written aside and moved into place, so a process starting at the same moment never reads a half-written key.
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
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
