using KbPathways.Host.Identity;

namespace KbPathways.Host.Cli;

/// <summary><c>token --user &lt;id&gt; --role &lt;role&gt;... --practice &lt;id&gt; [--name &lt;name&gt;] [--hours N]</c>: prints a development token.</summary>
public static class TokenCommand
{
    public const string Usage = "usage: token --user <id> --role <role> [--role <role>...] --practice <id> [--name <name>] [--hours <n>]";

    public static int Run(string[] args, TextWriter output, TextWriter errors)
    {
        string? user = null, practice = null, name = null;
        var roles = new List<string>();
        var hours = 8;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--user": user = args[i + 1]; break;
                case "--practice": practice = args[i + 1]; break;
                case "--name": name = args[i + 1]; break;
                case "--role": roles.Add(args[i + 1]); break;
                case "--hours" when int.TryParse(args[i + 1], out var h) && h > 0: hours = h; break;
                default: errors.WriteLine(Usage); return 2;
            }
        }
        if (user is null || practice is null || roles.Count == 0 || args.Length % 2 != 0)
        {
            errors.WriteLine(Usage);
            return 2;
        }
        output.WriteLine(KbClaims.CreateToken(new AuthOptions(), user, name ?? user, roles, practice, TimeSpan.FromHours(hours)));
        return 0;
    }
}
