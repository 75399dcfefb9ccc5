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

    /// <summary>A database of its own, empty: what a command did to it shows.</summary>
    private async Task<string> EmptyDatabase()
    {
        var name = "leeg_" + Guid.NewGuid().ToString("N")[..8];
        await using var admin = new Npgsql.NpgsqlConnection(host.AdminConnectionString);
        await admin.OpenAsync();
        await new Npgsql.NpgsqlCommand($"CREATE DATABASE {name} OWNER {KbPathways.Projections.Database.EmbeddedPostgres.AppRole}", admin).ExecuteNonQueryAsync();
        return host.ConnectionString.Replace("Database=kbpathways", $"Database={name}");
    }

    private static async Task<long> Tables(string connection)
    {
        await using var db = new Npgsql.NpgsqlConnection(connection);
        await db.OpenAsync();
        return (long)(await new Npgsql.NpgsqlCommand(
            "select count(*) from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')", db).ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Given_help_of_every_command_Then_each_answers_and_nothing_starts()
    {
        var empty = await EmptyDatabase();
        var database = $"--ConnectionStrings:Postgres={empty}";

        var (exit, output) = await Run("--help", database);
        exit.ShouldBe(0, output);
        foreach (var command in (string[])["run", "pathways", "token", "rebuild", "whatif", "access-log", "db-apply", "db-assert", "db-patch", "check-env", "projections"])
            output.ShouldContain(command);
        output.ShouldNotContain("describe"); // it would print the secrets among the settings
        output.ShouldContain("With no command the host starts");

        foreach (var command in (string[])["run", "pathways", "token", "rebuild", "whatif", "access-log", "db-patch", "db-assert", "projections"])
        {
            (exit, output) = await Run(command, "--help", database);
            exit.ShouldBe(0, output);
            output.ShouldContain($"{command} - ", customMessage: command); // the command's usage
            output.ShouldNotContain("embedded PostgreSQL");
            output.ShouldNotContain("Now listening");
        }
        (exit, output) = await Run("help", "whatif", database);
        exit.ShouldBe(0);
        output.ShouldContain("--candidate");

        (await Tables(empty)).ShouldBe(0); // no command built the host, so none made a table
    }

    [Fact]
    public async Task Given_a_typo_or_a_value_that_cannot_be_read_Then_one_clear_line_exit_1_and_nothing_starts()
    {
        var empty = await EmptyDatabase();
        var database = $"--ConnectionStrings:Postgres={empty}";

        var (exit, output) = await Run("rebuidl", database);
        exit.ShouldBe(1);
        output.ShouldContain("'rebuidl' is not a command");
        output.ShouldContain("db-patch"); // the list follows

        (exit, output) = await Run("access-log", database);
        exit.ShouldBe(1);
        output.ShouldContain("access-log <action>");

        (exit, output) = await Run("access-log", "veriffy", database);
        exit.ShouldBe(1);
        output.ShouldContain("unknown access-log command 'veriffy'; use: access-log verify");

        (exit, output) = await Run("token", "--user", "u1", "--role", "poh", "--practice", "p", "--hours", "abc");
        exit.ShouldBe(1);
        output.ShouldContain("token: the command line could not be read: The input string 'abc' was not in a correct format.");
        output.ShouldNotContain("   at ");

        (exit, output) = await Run("rebuild", "--log-level", "Loud", database);
        exit.ShouldBe(1);
        output.ShouldContain("rebuild: the command line could not be read");
        output.ShouldNotContain("   at ");

        (exit, output) = await Run("pathways", "valdate");
        exit.ShouldBe(1);
        output.ShouldContain("unknown pathways command 'valdate'; use validate, test, graph or docs");

        (await Tables(empty)).ShouldBe(0);
    }

    [Fact]
    public async Task Given_an_empty_database_When_a_DBA_asks_for_the_SQL_Then_db_patch_writes_it_and_db_assert_tells_before_and_after()
    {
        var empty = await EmptyDatabase();
        string[] settings = [$"--ConnectionStrings:Postgres={empty}", $"--Pathways:Path={Path.Combine(HostFixture.RepoRoot, "pathways")}"];
        using var scratch = new KbPathways.Testing.ScratchDirectory("patch");
        Directory.CreateDirectory(scratch.Path);
        var patch = Path.Combine(scratch.Path, "kbpathways.sql");

        var (exit, output) = await Run(["db-assert", .. settings]);
        exit.ShouldBe(1, output); // nothing there yet
        output.ShouldNotContain("   at ");

        (exit, output) = await Run(["db-patch", patch, "-d", "marten://store/", .. settings]);
        exit.ShouldBe(0, output);
        var sql = await File.ReadAllTextAsync(patch);
        sql.ShouldContain("CREATE TABLE IF NOT EXISTS kbpathways.mt_events");
        sql.ShouldContain("mt_doc_trajectorysummary");
        (await Tables(empty)).ShouldBe(0); // a patch is written, not applied (and the host built for it made nothing)

        // The DBA runs it (here as the owner), and the host's check agrees.
        await using (var db = new Npgsql.NpgsqlConnection(empty))
        {
            await db.OpenAsync();
            await new Npgsql.NpgsqlCommand(sql, db).ExecuteNonQueryAsync();
        }
        (exit, output) = await Run(["db-patch", patch + ".again", "-d", "marten://store/", .. settings]);
        exit.ShouldBe(0, output);
        output.ShouldContain("No differences were detected");

        (exit, output) = await Run(["access-log", "sql", "--role", "kbpathways_app"]);
        exit.ShouldBe(0, output);
        output.ShouldContain("GRANT SELECT, INSERT ON kbpathways_audit.access_log, kbpathways_audit.access_log_seal TO \"kbpathways_app\"");
    }

    [Fact]
    public async Task Given_a_host_on_the_embedded_database_When_commands_run_beside_it_Then_it_stays_healthy_and_stops_its_own_cluster()
    {
        using var scratch = new KbPathways.Testing.ScratchDirectory("embedded");
        var data = Path.Combine(scratch.Path, "postgres");
        string[] shared = [$"--Embedded:DataDirectory={data}", "--environment", "Development",
            $"--Pathways:Path={Path.Combine(HostFixture.RepoRoot, "pathways")}"];
        var running = await KbPathways.Testing.HostProcess.StartAsync(null, Path.Combine(HostFixture.RepoRoot, "pathways"),
            Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), [$"--Embedded:DataDirectory={data}"], TimeSpan.FromSeconds(120));
        try
        {
            var candidate = Path.Combine(scratch.Path, "kandidaat.yaml");
            await File.WriteAllTextAsync(candidate, "extends: proactieve-ouderenzorg\nsettings:\n  gfiDrempel: 10\n");

            var (exit, output) = await Run(["rebuild", "--help", .. shared]);
            exit.ShouldBe(0, output);
            (exit, output) = await Run(["whatif", "--practice", "praktijk-x", "--candidate", candidate, .. shared]);
            exit.ShouldBe(0, output);
            output.ShouldContain("0 of 0 trajectories would differ");
            (exit, output) = await Run(["db-assert", .. shared]);
            exit.ShouldBe(0, output); // the host made the schema; the command found it as it should be

            using var client = new HttpClient { BaseAddress = running.Address };
            (await client.GetAsync("/health/ready")).StatusCode.ShouldBe(HttpStatusCode.OK);
            File.Exists(Path.Combine(data, "postmaster.pid")).ShouldBeTrue();

            (await running.TerminateAsync(TimeSpan.FromSeconds(60))).ShouldBe(0, running.Output);
            File.Exists(Path.Combine(data, "postmaster.pid")).ShouldBeFalse(); // the host stopped the cluster it started
        }
        finally
        {
            await running.DisposeAsync();
            if (File.Exists(Path.Combine(data, "postmaster.pid")))
                using (var stop = Process.Start("runuser", ["-u", "postgres", "--", "pg_ctl", "-D", data, "-m", "immediate", "stop"]))
                    await stop.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Given_a_host_started_from_another_folder_without_a_pathways_setting_Then_it_finds_the_shipped_pathways_beside_itself()
    {
        using var scratch = new KbPathways.Testing.ScratchDirectory("elsewhere");
        Directory.CreateDirectory(scratch.Path);
        await using var running = await KbPathways.Testing.HostProcess.StartAsync(host.ConnectionString, pathways: null,
            Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), ["--Logging:LogLevel:KbPathways=Information"],
            workingDirectory: scratch.Path);
        using var client = new HttpClient { BaseAddress = running.Address };
        var ready = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/health/ready")).RootElement;
        var shipped = KbPathways.Domain.Pathways.Loading.PathwayLoader.Load(
            KbPathways.Host.Pathways.PathwayFiles.Read(Path.Combine(HostFixture.RepoRoot, "pathways"))).Definitions.Count;
        ready.GetProperty("checks").GetProperty("pathways").GetProperty("description").GetString().ShouldBe($"{shipped} loaded");
        for (var i = 0; i < 50 && !running.Output.Contains("pathways   "); i++) await Task.Delay(100);
        running.Output.ShouldContain($"pathways   {Path.Combine(AppContext.BaseDirectory, "pathways")} ({shipped} loaded)"); // the start-up block says where from
    }

    [Fact]
    public async Task Given_Production_without_a_connection_string_Then_the_host_stops_with_a_message_and_starts_no_cluster()
    {
        using var scratch = new KbPathways.Testing.ScratchDirectory("production");
        var data = Path.Combine(scratch.Path, "postgres");
        var (exit, output) = await Run("--environment", "Production", "--Auth:AllowDevelopmentKey=true", $"--Embedded:DataDirectory={data}",
            $"--Pathways:Path={Path.Combine(HostFixture.RepoRoot, "pathways")}");
        exit.ShouldBe(1, output);
        output.ShouldContain("KbPathways could not start: no ConnectionStrings:Postgres configured, and the embedded PostgreSQL is off in Production");
        output.ShouldContain("Embedded:Enabled=true");
        Directory.Exists(data).ShouldBeFalse();
    }

    [Fact]
    public async Task Given_the_pathways_command_Then_it_validates_tests_and_draws_with_exit_codes_for_scripts()
    {
        var pathways = Path.Combine(HostFixture.RepoRoot, "pathways");
        var output = new StringWriter();
        (await KbPathways.Host.Cli.KbCommandLine.RunAsync(["pathways", "validate", pathways], output, output)).ShouldBe(0, output.ToString());
        output.ToString().ShouldContain("scenario file(s) valid, 0 warning(s)");

        output = new StringWriter();
        (await KbPathways.Host.Cli.KbCommandLine.RunAsync(["pathways", "graph", "solk", "--format", "dot", "--path", pathways], output, output)).ShouldBe(0, output.ToString());
        output.ToString().ShouldStartWith("digraph \"solk\"");

        using var scratch = new KbPathways.Testing.ScratchDirectory("broken");
        Directory.CreateDirectory(scratch.Path);
        var broken = Path.Combine(scratch.Path, "kapot.yaml");
        await File.WriteAllTextAsync(broken, (await File.ReadAllTextAsync(Path.Combine(pathways, "solk.yaml"))).Replace("initial:", "initail:"));
        output = new StringWriter();
        (await KbPathways.Host.Cli.KbCommandLine.RunAsync(["pathways", "validate", broken], output, output)).ShouldBe(1);
        output.ToString().ShouldContain("kapot.yaml:");

        output = new StringWriter();
        (await KbPathways.Host.Cli.KbCommandLine.RunAsync(["pathways", "graph", "--format", "svg", "solk"], output, output)).ShouldBe(1);
        output.ToString().ShouldContain("unknown format 'svg'; use mermaid or dot");
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
                     ("--Worklist:DueSoon=een week", "Worklist:DueSoon"), ("--Idempotency:Retention=PT1H", "Idempotency:Retention"), ("--Practices:gc-noord:DueSoon=3", "Practices:gc-noord:DueSoon"),
                     ("--Limits:Burst=0", "Limits:Burst"), ("--Limits:MaxBodyBytes=veel", "Limits:MaxBodyBytes"), ("--Trajectories:CachedStates=-1", "Trajectories:CachedStates"),
                     ("--AccessLog:VerifyEvery=00:00:00", "AccessLog:VerifyEvery") })
        {
            (exit, output) = await Run(database, pathways, "--environment", "Development", setting);
            exit.ShouldBe(1, output);
            output.ShouldContain("KbPathways could not start:");
            output.ShouldContain(key, customMessage: setting);
            output.ShouldNotContain("   at ");
        }

        // Two at once: both named in the one line. A command is checked the same way, before it touches the database.
        var empty = await EmptyDatabase();
        (exit, output) = await Run("rebuild", $"--ConnectionStrings:Postgres={empty}", pathways, "--Trajectories:CachedStates=-1", "--Quality:TimeZone=Mars/Olympus");
        exit.ShouldBe(1, output);
        output.ShouldContain("rebuild: ");
        output.ShouldContain("Trajectories:CachedStates '-1' must be a whole number of at least 0; Quality:TimeZone 'Mars/Olympus' is not a known time zone");
        (await Tables(empty)).ShouldBe(0);
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
        var output = new StringWriter();
        var exit = await KbPathways.Host.Cli.KbCommandLine.RunAsync(["rebuild", $"--ConnectionStrings:Postgres={await EmptyDatabase()}",
            $"--Pathways:Path={Path.Combine(HostFixture.RepoRoot, "pathways")}"], output, output);
        exit.ShouldBe(0, output.ToString());
        output.ToString().ShouldContain("rebuilt 0 trajectory summaries from 0 events");
    }
}
