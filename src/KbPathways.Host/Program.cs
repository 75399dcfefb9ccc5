using KbPathways.Host.Cli;

return args switch
{
    ["pathways", .. var rest] => PathwaysCommand.Run(rest, Console.Out, Console.Error),
    _ => Unknown(),
};

static int Unknown()
{
    Console.Error.WriteLine(PathwaysCommand.Usage);
    return 2;
}
