using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace KbPathways.Host.Tests;

/// <summary>The host's command line as a newcomer meets it: help, a typo, and a start that cannot succeed.</summary>
[Collection(HostCollection.Name)]
public class CommandLineTests(HostFixture host)
{
    private static async Task<(int Exit, string Output)> Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "KbPathways.Host.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return (process.ExitCode, await output + await errors);
    }

    [Fact]
    public async Task Given_help_or_a_typo_Then_the_commands_are_listed_and_nothing_starts()
    {
        var (exit, output) = await Run("--help");
        exit.ShouldBe(0);
        output.ShouldContain("access-log verify");
        output.ShouldNotContain("PostgreSQL");

        (exit, output) = await Run("access-log");
        exit.ShouldBe(2);
        output.ShouldStartWith("access-log needs a command: verify");
        output.ShouldNotContain("PostgreSQL");

        (exit, output) = await Run("access-log", "veriffy");
        exit.ShouldBe(2);

        (exit, output) = await Run("rebuidl");
        exit.ShouldBe(2);
        output.ShouldStartWith("unknown command 'rebuidl'");
        output.ShouldContain("commands:");
    }

    [Fact]
    public async Task Given_the_port_in_use_or_a_broken_setting_When_the_host_starts_Then_one_clear_line_and_exit_1()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var pathways = $"--Pathways:Path={Path.Combine(HostFixture.RepoRoot, "pathways")}";
        var database = $"--ConnectionStrings:Postgres={host.ConnectionString}";

        var (exit, output) = await Run("--urls", $"http://127.0.0.1:{port}", database, pathways, "--environment", "Development",
            $"--AccessLog:HeadFile={KbPathways.Testing.ScratchDirectory.NewAccessLogHeadFile()}");
        exit.ShouldBe(1, output);
        output.ShouldContain("KbPathways could not start: the address is already in use");
        output.ShouldNotContain("   at "); // no stack trace

        foreach (var (setting, key) in new[] { ("--Limits:RequestsPerSecond=abc", "Limits:RequestsPerSecond"), ("--Limits:RequestsPerSecond=0", "Limits:RequestsPerSecond"),
                     ("--Quality:TimeZone=Mars/Olympus", "Quality:TimeZone"), ("--Quality:MdoWindow=6 maanden", "Quality:MdoWindow"),
                     ("--Worklist:DueSoon=een week", "Worklist:DueSoon"), ("--Idempotency:Retention=PT1H", "Idempotency:Retention"), ("--Practices:gc-noord:DueSoon=3", "Practices:gc-noord:DueSoon") })
        {
            (exit, output) = await Run(database, pathways, "--environment", "Development", setting);
            exit.ShouldBe(1, output);
            output.ShouldContain("KbPathways could not start:");
            output.ShouldContain(key, customMessage: setting);
            output.ShouldNotContain("   at ");
        }
    }

    [Fact]
    public async Task Given_json_console_logs_When_the_host_runs_Then_every_line_it_writes_is_one_json_object()
    {
        await using var process = await KbPathways.Testing.HostProcess.StartAsync(host.ConnectionString, Path.Combine(HostFixture.RepoRoot, "pathways"),
            Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["--Logging:Console:FormatterName=json", "--Logging:LogLevel:Default=Information"]);

        var lines = process.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.ShouldNotBeEmpty();
        foreach (var line in lines)
            Should.NotThrow(() => System.Text.Json.JsonDocument.Parse(line), line);
        lines.ShouldContain(l => l.Contains("\"Message\":\"KbPathways is running on"));
    }

    [Fact]
    public async Task Given_an_empty_database_When_rebuilt_Then_nothing_is_rebuilt_and_the_exit_code_is_0()
    {
        var name = "leeg_" + Guid.NewGuid().ToString("N")[..8];
        await using (var admin = new Npgsql.NpgsqlConnection(host.AdminConnectionString))
        {
            await admin.OpenAsync();
            await new Npgsql.NpgsqlCommand($"CREATE DATABASE {name} OWNER {KbPathways.Projections.Database.EmbeddedPostgres.AppRole}", admin).ExecuteNonQueryAsync();
        }
        var output = new StringWriter();
        var exit = await KbPathways.Host.Cli.StoreCommand.RunAsync(["rebuild",
            $"--ConnectionStrings:Postgres={host.ConnectionString.Replace("Database=kbpathways", $"Database={name}")}",
            $"--Pathways:Path={Path.Combine(HostFixture.RepoRoot, "pathways")}"], output, output);
        exit.ShouldBe(0, output.ToString());
        output.ToString().ShouldContain("rebuilt 0 trajectory summaries from 0 events");
    }
}
