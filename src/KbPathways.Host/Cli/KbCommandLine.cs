using JasperFx.CommandLine;
using JasperFx.CommandLine.Help;
using KbPathways.Host.Hosting;
using KbPathways.Projections.Database;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Spectre.Console;

namespace KbPathways.Host.Cli;

/// <summary>
/// The host's command line on JasperFx, as Marten and Wolverine hosts have it: <c>help</c>, <c>run</c> (the default),
/// <c>check-env</c>, Marten's <c>db-apply|db-assert|db-patch|db-dump</c> and <c>projections</c>,
/// and ours (<c>pathways</c>, <c>token</c>, <c>rebuild</c>, <c>whatif</c>, <c>migrate</c>, <c>access-log</c>). Three things differ from
/// <c>RunJasperFxCommands</c>, each for the newcomer:
/// <list type="bullet">
/// <item>the host is built only by a command that needs it (<see cref="KbHostBuilder"/>): <c>help</c>, a typo,
/// <c>pathways</c> and <c>token</c> start no database and create no tables;</item>
/// <item>host settings in ASP.NET Core's form (<c>--Section:Key=value</c>, <c>--urls URL</c>) may follow any command;</item>
/// <item>a failure is one line and exit code 1, never a stack trace, and an embedded PostgreSQL this process started
/// is stopped again.</item>
/// </list>
/// Exit codes: 0 done; 1 failed, refused or misused (the usage is printed).
/// </summary>
public static partial class KbCommandLine
{
    public const string Preface = """
        KbPathways — the care-pathway engine and its host.

        usage: dotnet run --project src/KbPathways.Host [-- <command>] [flags] [--Section:Key=value ...]

        With no command the host starts ('run'): the pages and the API on http://127.0.0.1:5080 (add --demo for demo
        patients). Settings (README.md, 'Configuration') may follow any command as --Section:Key=value.
        'help <command>' or '<command> --help' says more about each.
        """;

    /// <summary>
    /// The commands: JasperFx's standard ones an operator of a Marten host knows, and ours. Named one by one rather
    /// than scanned from every Critter Stack assembly: a scan also offers Wolverine's messaging and event-modelling
    /// tools (storage, clear-handled, scaffold, …) that do nothing useful here, and prints what it searched. JasperFx's
    /// <c>describe</c> is left out on purpose: it prints every configuration value, the signing keys and the database
    /// password among them, to a console whose output ends up in tickets.
    /// </summary>
    private static readonly Type[] Commands =
    [
        typeof(HelpCommand), typeof(JasperFx.CommandLine.Commands.CheckEnvironmentCommand),
        typeof(Weasel.CommandLine.ApplyCommand), typeof(Weasel.Core.CommandLine.AssertCommand), typeof(Weasel.Core.CommandLine.PatchCommand),
        typeof(Weasel.Core.CommandLine.DumpCommand), typeof(Weasel.Core.CommandLine.ListCommand), typeof(JasperFx.Events.CommandLine.ProjectionsCommand),
        typeof(RunCommand), typeof(PathwaysCommand), typeof(TokenCommand), typeof(RebuildCommand), typeof(WhatIfCommand), typeof(MigrateCommand), typeof(AccessLogCommand),
    ];

    private static readonly string[] HelpFlags = ["--help", "-h", "-?"];

    /// <param name="output">where our commands write (standard output unless a test captures it); JasperFx's own
    /// commands (help, describe, db-*) write to the console.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? errors = null)
    {
        output ??= Console.Out;
        errors ??= Console.Error;
        var (command, settings) = Split(args);
        var hosts = new List<KbHostBuilder>();

        var factory = new CommandFactory();
        foreach (var type in Commands) factory.RegisterCommand(type);
        factory.SetAppName("dotnet run --project src/KbPathways.Host --");
        factory.ConfigureRun = run =>
        {
            if (run.Input is IHostBuilderInput input)
            {
                var host = new KbHostBuilder(settings);
                hosts.Add(host);
                input.HostBuilder = host;
            }
            if (run.Command is IWritesText writes)
            {
                writes.Output = output;
                writes.Errors = errors;
            }
        };

        var run = Parse(factory, command, name: command[0], errors);
        var name = command[0];
        if (run is { Command: HelpCommand, Input: HelpInput { Name: null or "", Usage: null, InvalidCommandName: false } })
            output.WriteLine(Preface);
        try
        {
            var done = await run.Execute();
            // JasperFx's help answers 1 when it shows one command's usage; asked for, it is an answer, not a failure.
            return done || run is { Command: HelpCommand, Input: HelpInput { InvalidCommandName: false } } && command is ["help", ..] ? 0 : 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            errors.WriteLine(name == "run" ? $"KbPathways could not start: {Describe(e)}" : $"{name}: {Describe(e)}");
            return 1;
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    /// <summary>
    /// The command's input as JasperFx reads it. A value it cannot convert (<c>--hours abc</c>, <c>--log-level Loud</c>)
    /// JasperFx reports with the exception's stack; here it is one line (the usage follows when the run executes).
    /// </summary>
    private static CommandRun Parse(CommandFactory factory, string[] command, string name, TextWriter errors)
    {
        var console = AnsiConsole.Console;
        var captured = new StringWriter();
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(captured), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors,
        });
        try
        {
            return factory.BuildRun(command);
        }
        finally
        {
            AnsiConsole.Console = console;
            var said = captured.ToString();
            if (said.Contains("Error parsing input", StringComparison.Ordinal))
            {
                var reason = said.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => ExceptionLine().IsMatch(l)) is { } line
                    ? ExceptionLine().Match(line).Groups["message"].Value : "";
                errors.WriteLine($"{name}: the command line could not be read: {reason}");
            }
            else errors.Write(said);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[\w.]+Exception: (?<message>.*)$")]
    private static partial System.Text.RegularExpressions.Regex ExceptionLine();

    /// <summary>
    /// The command and its flags for JasperFx; ASP.NET Core settings (<c>--Key=value</c>, <c>--urls URL</c>) for the
    /// host. No command (or a first flag) is <c>run</c>; <c>--help</c> anywhere is <c>help [command]</c>.
    /// </summary>
    public static (string[] Command, string[] Settings) Split(string[] args)
    {
        var command = new List<string>();
        var settings = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains('=')) settings.Add(arg);
            else if (arg is "--urls" && i + 1 < args.Length) settings.AddRange([arg, args[++i]]);
            else command.Add(arg);
        }
        if (command.Any(HelpFlags.Contains))
        {
            var asked = command.TakeWhile(a => !a.StartsWith('-')).Take(1).ToList();
            return (["help", .. asked], [.. settings]);
        }
        if (command is [] || command[0].StartsWith('-')) command.Insert(0, "run");
        return ([.. command], [.. settings]);
    }

    private static string Describe(Exception e) => e switch
    {
        IOException { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse } }
            or IOException when e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) =>
            "the address is already in use (is another KbPathways running? set another with --urls http://127.0.0.1:PORT)",
        Npgsql.NpgsqlException => $"the database cannot be reached ({e.Message.Split('\n')[0]}); check ConnectionStrings:Postgres",
        Microsoft.Extensions.Options.OptionsValidationException v => string.Join("; ", v.Failures),
        AggregateException a => string.Join("; ", a.InnerExceptions.Select(Describe)),
        _ => e.Message,
    };
}

/// <summary>A command of ours: it writes where the runner says (a test reads it without touching the console).</summary>
public interface IWritesText
{
    TextWriter Output { get; set; }
    TextWriter Errors { get; set; }
}

/// <summary>The base of our commands: the writers, and a usage failure as one line.</summary>
public abstract class KbCommand<TInput> : JasperFxAsyncCommand<TInput>, IWritesText
{
    public TextWriter Output { get; set; } = Console.Out;
    public TextWriter Errors { get; set; } = Console.Error;

    protected bool Fail(string message)
    {
        Errors.WriteLine(message);
        return false;
    }
}

/// <summary>
/// The host as JasperFx's <see cref="NetCoreInput"/> builds it, made by <see cref="KbPathwaysApp.BuildAsync"/> only
/// when a command asks for it. Flags JasperFx turns into host configuration (<c>--environment</c>,
/// <c>--config:Key value</c>) and services (<c>--log-level</c>) are applied; the embedded PostgreSQL it may start is
/// stopped when the command ends (and only then: the cluster is this process's own).
/// </summary>
public sealed class KbHostBuilder(string[] settings) : IHostBuilder, IAsyncDisposable
{
    private readonly List<Action<IConfigurationBuilder>> hostConfiguration = [];
    private readonly List<Action<HostBuilderContext, IConfigurationBuilder>> appConfiguration = [];
    private readonly List<Action<HostBuilderContext, IServiceCollection>> services = [];
    private Microsoft.AspNetCore.Builder.WebApplication? built;
    private EmbeddedPostgres? embedded;

    public IDictionary<object, object> Properties { get; } = new Dictionary<object, object>();

    /// <summary>The host serves HTTP (<c>run</c>): production keys are required, and start-up logs stay on.</summary>
    public bool Serving { get; set; }

    public bool Demo { get; set; }

    public IHost Build() => BuildAsync().GetAwaiter().GetResult();

    public async Task<Microsoft.AspNetCore.Builder.WebApplication> BuildAsync()
    {
        var given = new ConfigurationBuilder();
        foreach (var configure in hostConfiguration) configure(given);
        var context = new HostBuilderContext(Properties) { Configuration = given.Build() };
        foreach (var configure in appConfiguration) configure(context, given);
        var flags = given.Build().AsEnumerable().Where(p => p.Value is not null).Select(p => $"--{p.Key}={p.Value}");
        // Quiet unless asked otherwise (a later --Logging:LogLevel:…=… wins): a command's own output is what matters, and
        // the generic host's start-up failure log is a stack trace the runner replaces with one line.
        string[] quiet = Serving ? ["--Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host=None"] : ["--Logging:LogLevel:Default=Warning"];
        built = await KbPathwaysApp.BuildAsync([.. quiet, .. flags, .. settings, .. Demo ? ["--demo"] : Array.Empty<string>()], builder =>
        {
            var hostContext = new HostBuilderContext(Properties) { Configuration = builder.Configuration, HostingEnvironment = builder.Environment };
            foreach (var configure in services) configure(hostContext, builder.Services);
        }, serving: Serving);
        embedded = built.Services.GetService<EmbeddedPostgres>();
        return built;
    }

    public IHostBuilder ConfigureHostConfiguration(Action<IConfigurationBuilder> configureDelegate)
    {
        hostConfiguration.Add(configureDelegate);
        return this;
    }

    public IHostBuilder ConfigureAppConfiguration(Action<HostBuilderContext, IConfigurationBuilder> configureDelegate)
    {
        appConfiguration.Add(configureDelegate);
        return this;
    }

    public IHostBuilder ConfigureServices(Action<HostBuilderContext, IServiceCollection> configureDelegate)
    {
        services.Add(configureDelegate);
        return this;
    }

    public IHostBuilder UseServiceProviderFactory<TContainerBuilder>(IServiceProviderFactory<TContainerBuilder> factory) where TContainerBuilder : notnull =>
        throw new NotSupportedException("KbPathways uses the default service provider");

    public IHostBuilder UseServiceProviderFactory<TContainerBuilder>(Func<HostBuilderContext, IServiceProviderFactory<TContainerBuilder>> factory) where TContainerBuilder : notnull =>
        throw new NotSupportedException("KbPathways uses the default service provider");

    public IHostBuilder ConfigureContainer<TContainerBuilder>(Action<HostBuilderContext, TContainerBuilder> configureDelegate) =>
        throw new NotSupportedException("KbPathways uses the default service provider");

    public async ValueTask DisposeAsync()
    {
        if (built is not null)
        {
            try { await built.DisposeAsync(); }
            catch (ObjectDisposedException) { /* a command disposed it already */ }
        }
        if (embedded is not null) await embedded.StopAsync();
    }
}
