using JasperFx.CommandLine;

namespace KbPathways.Host.Cli;

public class RunInput : NetCoreInput
{
    [Description("Add demo patients (a practice 'demo-praktijk' with patients in every pathway)")]
    public bool DemoFlag { get; set; }
}

/// <summary><c>run</c>, the default: the host, its pages and its API, until Ctrl+C or SIGTERM.</summary>
[Description("Start the host: the pages and the API (the default command)", Name = "run")]
public class RunCommand : KbCommand<RunInput>
{
    public override async Task<bool> Execute(RunInput input)
    {
        var builder = (KbHostBuilder)input.HostBuilder;
        builder.Serving = true;
        builder.Demo = input.DemoFlag;
        input.ApplyHostBuilderInput();
        await using var app = await builder.BuildAsync();
        await app.RunAsync();
        return true;
    }
}
