using KbPathways.Host.Cli;
using KbPathways.Host.Hosting;
using KbPathways.Projections.Database;

const string Help = """
    KbPathways — the care-pathway engine and its host.

    usage: dotnet run --project src/KbPathways.Host [-- <command>] [--Setting:Key=value ...]

    With no command the host starts: the pages and the API on http://127.0.0.1:5080 (add --demo for demo patients).

    commands:
      pathways validate|test|graph|docs   check, test, draw or document the pathway files
      token                               print a development token
      rebuild                             rebuild the trajectory summaries from the events (hosts stopped)
      whatif                              replay a practice's trajectories against a candidate pathway
      access-log verify                   verify the access log's chain, signatures and signed head
      help                                this text

    '<command> --help' says more about each. Settings: README.md, 'Configuration'.
    """;

switch (args)
{
    case [] or ["--demo", ..] or [['-', '-', ..], ..] when !args.Contains("--help") && !args.Contains("-h"):
        return await Serve(args);
    case ["help" or "--help" or "-h", ..]:
        Console.WriteLine(Help);
        return 0;
    case ["pathways", .. var rest]:
        return PathwaysCommand.Run(rest, Console.Out, Console.Error);
    case ["token", .. var rest]:
        return TokenCommand.Run(rest, Console.Out, Console.Error);
    case ["rebuild" or "whatif" or "access-log", ..]:
        return await StoreCommand.RunAsync(args, Console.Out, Console.Error);
    default:
        // A misspelled command starts nothing.
        Console.Error.WriteLine($"unknown command '{args[0]}'\n");
        Console.Error.WriteLine(Help);
        return 2;
}

// The host. A start-up failure (bad settings, a broken pathway file, no database, the port in use) is one clear
// line and exit code 1, not a stack trace; an embedded PostgreSQL this process started is stopped again.
static async Task<int> Serve(string[] args)
{
    EmbeddedPostgres? embedded = null;
    try
    {
        // The generic host's own start-up failure log is a stack trace; this method says what went wrong instead.
        var app = await KbPathwaysApp.BuildAsync(["--Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host=None", .. args]);
        embedded = app.Services.GetService(typeof(EmbeddedPostgres)) as EmbeddedPostgres;
        await app.RunAsync();
        return 0;
    }
    catch (Exception e) when (e is InvalidOperationException or IOException or Npgsql.NpgsqlException or FormatException or ArgumentException
                              or Microsoft.Extensions.Options.OptionsValidationException)
    {
        Console.Error.WriteLine($"KbPathways could not start: {Describe(e)}");
        if (embedded is not null) await embedded.StopAsync();
        return 1;
    }
}

static string Describe(Exception e) => e switch
{
    IOException { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse } }
        or IOException when e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) =>
        "the address is already in use (is another KbPathways running? set another with --urls http://127.0.0.1:PORT)",
    Npgsql.NpgsqlException => $"the database cannot be reached ({e.Message.Split('\n')[0]}); check ConnectionStrings:Postgres",
    _ => e.Message,
};
