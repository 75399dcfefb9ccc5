using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace KbPathways.Host.AccessLog;

/// <summary>
/// The chain head as last signed by a host: the seal at <see cref="Position"/> had <see cref="Hash"/>, and every seal
/// from <see cref="Since"/> on carries a signature. <see cref="Mac"/> signs all of it with the access-log key.
/// </summary>
public sealed record AccessLogHead(long Position, string Hash, long Since, DateTimeOffset At, string Mac);

/// <summary>
/// What anchors the access log outside the database's control: a key (<c>AccessLog:SealKey</c>) that the database and
/// its roles never see, with which every seal is signed (HMAC-SHA256 of its position and hash), and a file outside the
/// database (<c>AccessLog:HeadFile</c>) holding the signed head of the chain. A database superuser can recompute the
/// SHA-256 chain after changing a record, but not the signatures; and can remove the newest records with their seals,
/// but not the head this host last signed. See docs/reliability.md for what this does not protect against.
/// </summary>
public sealed class AccessLogSigning(byte[] key, string headFile)
{
    private readonly Lock writing = new();

    public string HeadFile { get; } = Path.GetFullPath(headFile);

    /// <summary>The signature of the seal at <paramref name="position"/> with chain hash <paramref name="hash"/>.</summary>
    public string Sign(long position, string hash) => Mac($"seal|{position.ToString(CultureInfo.InvariantCulture)}|{hash}");

    public bool IsSigned(long position, string hash, string? mac) =>
        mac is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(position, hash)), Encoding.ASCII.GetBytes(mac));

    /// <summary>The head in the file: null when there is none yet; a head whose signature fails is reported as forged.</summary>
    public (AccessLogHead? Head, string? Problem) ReadHead()
    {
        if (!File.Exists(HeadFile)) return (null, null);
        try
        {
            var head = JsonSerializer.Deserialize<AccessLogHead>(File.ReadAllText(HeadFile), JsonSerializerOptions.Web);
            if (head is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(HeadMac(head)), Encoding.ASCII.GetBytes(head.Mac ?? "")))
                return (null, $"the signed head in {HeadFile} does not carry a valid signature");
            return (head, null);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return (null, $"the signed head in {HeadFile} cannot be read ({e.GetType().Name})");
        }
    }

    /// <summary>
    /// Records that the chain reached <paramref name="position"/> with <paramref name="hash"/>; a head never moves back
    /// (another host's late write of an older position is ignored). Written aside and moved into place.
    /// </summary>
    public void WriteHead(long position, string hash, long since, DateTimeOffset at)
    {
        lock (writing)
        {
            if (ReadHead().Head is { } current && current.Position >= position) return;
            var unsigned = new AccessLogHead(position, hash, since, at, "");
            var head = unsigned with { Mac = HeadMac(unsigned) };
            Directory.CreateDirectory(Path.GetDirectoryName(HeadFile)!);
            var aside = $"{HeadFile}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(aside, JsonSerializer.Serialize(head, JsonSerializerOptions.Web));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(aside, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(aside, HeadFile, overwrite: true);
        }
    }

    private string HeadMac(AccessLogHead head) => Mac(string.Join('|', "head", head.Position.ToString(CultureInfo.InvariantCulture), head.Hash,
        head.Since.ToString(CultureInfo.InvariantCulture), head.At.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)));

    private string Mac(string text) => Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(text)));
}
