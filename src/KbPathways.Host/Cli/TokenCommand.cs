using JasperFx.CommandLine;
using KbPathways.Host.Identity;

namespace KbPathways.Host.Cli;

public class TokenInput
{
    [Description("The user's id (the token's sub)")]
    public string UserFlag { get; set; } = "";

    [Description("One or more roles, e.g. --role poh huisarts")]
    public string[] RoleFlag { get; set; } = [];

    [Description("The practice the user works for")]
    public string PracticeFlag { get; set; } = "";

    [Description("The name shown on the pages and in the access log (default: the user id)")]
    public string? NameFlag { get; set; }

    [Description("Hours the token is valid (default 8)"), FlagAlias("hours", true)] // (-h asks for help)
    public int HoursFlag { get; set; } = 8;
}

/// <summary><c>token --user u1 --role huisarts --practice p</c>: a token signed with the development key.</summary>
[Description("Print a development token (signed with the development key)", Name = "token")]
public class TokenCommand : KbCommand<TokenInput>
{
    public override Task<bool> Execute(TokenInput input)
    {
        if (input.UserFlag.Length == 0 || input.PracticeFlag.Length == 0 || input.RoleFlag.Length == 0)
            return Task.FromResult(Fail("token needs --user, --role and --practice, e.g. token --user u1 --role huisarts --practice demo-praktijk"));
        if (input.HoursFlag <= 0) return Task.FromResult(Fail("--hours must be a positive number"));
        Output.WriteLine(KbClaims.CreateToken(new AuthOptions(), input.UserFlag, input.NameFlag ?? input.UserFlag, input.RoleFlag,
            input.PracticeFlag, TimeSpan.FromHours(input.HoursFlag)));
        return Task.FromResult(true);
    }
}
