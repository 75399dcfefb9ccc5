using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace KbPathways.Projections.Database;

/// <summary>
/// A private PostgreSQL cluster run from the machine's installed binaries, for when no connection string is
/// configured: initialised on first use, started on a free loopback port, reused on the next start, stopped on
/// dispose. PostgreSQL refuses to run as root, so as root it runs as the <c>postgres</c> user. The database belongs to
/// an ordinary login role (<see cref="AppRole"/>), which is what <see cref="ConnectionString"/> uses: the application
/// never runs as a superuser, and the access log (<see cref="AuditSchema"/>) is provisioned so that it cannot alter it.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    public const string Database = "kbpathways";
    public const string AppRole = "kbpathways_app";
    private const string Superuser = "kb";

    private readonly string binaries;
    private readonly bool asPostgresUser;

    public string DataDirectory { get; }
    public int Port { get; private set; }

    /// <summary>Whether this process started the server: only then does it stop it. A command run beside a running
    /// host uses the host's server and leaves it running.</summary>
    public bool StartedHere { get; private set; }
    private string appUser = Superuser;

    /// <summary>The application's connection: the database owner, an ordinary role (a data directory made before
    /// that role existed keeps its superuser owner).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username={appUser};Database={Database};Pooling=true;Maximum Pool Size=64";

    /// <summary>The superuser, for provisioning and for tests that play a database administrator.</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username={Superuser};Database={Database};Pooling=false";

    private EmbeddedPostgres(string dataDirectory, string binaries)
    {
        DataDirectory = Path.GetFullPath(dataDirectory);
        this.binaries = binaries;
        asPostgresUser = Environment.UserName == "root";
    }

    public static string DefaultDataDirectory() => Environment.UserName == "root"
        ? "/var/lib/kbpathways/postgres" // /root is closed to the postgres user
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "kbpathways", "postgres");

    public static async Task<EmbeddedPostgres> StartAsync(string dataDirectory, CancellationToken cancellation = default)
    {
        var server = new EmbeddedPostgres(dataDirectory, FindBinaries());
        await server.StartAsync(cancellation);
        return server;
    }

    private static string FindBinaries()
    {
        var fromEnv = Environment.GetEnvironmentVariable("KBPATHWAYS_PG_BIN");
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        var installed = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            : null;
        return installed ?? throw new InvalidOperationException(
            "No PostgreSQL server binaries found (looked in /usr/lib/postgresql/*/bin and $KBPATHWAYS_PG_BIN). " +
            "Install them (Debian: apt-get install postgresql) or configure ConnectionStrings:Postgres.");
    }

    private async Task StartAsync(CancellationToken cancellation)
    {
        Directory.CreateDirectory(DataDirectory);
        if (asPostgresUser) await Run("chown", cancellation, "-R", "postgres:postgres", DataDirectory);
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
            await Pg("initdb", cancellation, "-D", DataDirectory, "-U", Superuser, "--auth=trust", "-E", "UTF8", "--no-locale");

        if (RunningPort() is { } running) Port = running;
        else await StartServer(FreePort(), cancellation);
        await CreateDatabase(cancellation);
    }

    private async Task StartServer(int port, CancellationToken cancellation)
    {
        Port = port;
        StartedHere = true;
        await Pg("pg_ctl", cancellation, "-D", DataDirectory, "-l", Path.Combine(DataDirectory, "server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200", "start");
    }

    /// <summary>Stops the server and starts it again on the same port (as a database fail-over or restart would).</summary>
    public async Task RestartAsync(TimeSpan down, CancellationToken cancellation = default)
    {
        await StopAsync();
        await Task.Delay(down, cancellation);
        await StartServer(Port, cancellation);
    }

    /// <summary>The port of a server already running on this data directory (postmaster.pid line 4), if any.</summary>
    private int? RunningPort()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile)) return null;
        var lines = File.ReadAllLines(pidFile);
        if (lines.Length < 4 || !int.TryParse(lines[0], out var pid) || !int.TryParse(lines[3], out var port)) return null;
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited ? null : port;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private async Task CreateDatabase(CancellationToken cancellation)
    {
        await using var connection = new Npgsql.NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username={Superuser};Database=postgres;Pooling=false");
        await connection.OpenAsync(cancellation);
        await using (var role = new Npgsql.NpgsqlCommand($"""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{AppRole}') THEN CREATE ROLE {AppRole} LOGIN; END IF;
            END $$;
            """, connection))
            await role.ExecuteNonQueryAsync(cancellation);
        await using var owner = new Npgsql.NpgsqlCommand($"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{Database}'", connection);
        if (await owner.ExecuteScalarAsync(cancellation) is string existing) appUser = existing;
        else
        {
            await using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {Database} OWNER {AppRole}", connection);
            await create.ExecuteNonQueryAsync(cancellation);
            appUser = AppRole;
        }
        await using var admin = new Npgsql.NpgsqlConnection(AdminConnectionString);
        await admin.OpenAsync(cancellation);
        await using var provision = new Npgsql.NpgsqlCommand(AuditSchema.Provision(appUser), admin);
        await provision.ExecuteNonQueryAsync(cancellation);
    }

    /// <summary>
    /// Stops the server if this process started it; a no-op when it did not, or when it is not running (stopped before,
    /// or its directory removed).
    /// </summary>
    public async Task StopAsync()
    {
        if (!StartedHere || !File.Exists(Path.Combine(DataDirectory, "postmaster.pid"))) return;
        await Pg("pg_ctl", CancellationToken.None, "-D", DataDirectory, "-m", "fast", "-w", "stop");
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Task Pg(string tool, CancellationToken cancellation, params string[] args) =>
        asPostgresUser
            ? Run("runuser", cancellation, ["-u", "postgres", "--", Path.Combine(binaries, tool), .. args])
            : Run(Path.Combine(binaries, tool), cancellation, args);

    private static async Task Run(string file, CancellationToken cancellation, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync(cancellation);
        var error = process.StandardError.ReadToEndAsync(cancellation);
        await process.WaitForExitAsync(cancellation);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args.Take(3))} failed ({process.ExitCode}): {await error}{await output}");
    }
}
