using KbPathways.Host.Cli;
using KbPathways.Host.Hosting;

switch (args)
{
    case ["pathways", .. var rest]:
        return PathwaysCommand.Run(rest, Console.Out, Console.Error);
    case ["token", .. var rest]:
        return TokenCommand.Run(rest, Console.Out, Console.Error);
    case ["rebuild" or "whatif" or "access-log", ..]:
        return await StoreCommand.RunAsync(args, Console.Out, Console.Error);
    default:
        var app = await KbPathwaysApp.BuildAsync(args);
        await app.RunAsync();
        return 0;
}
