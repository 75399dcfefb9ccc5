using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace KbPathways.Testing;

/// <summary>
/// The real host as its own operating-system process (<c>dotnet KbPathways.Host.dll</c> from this output folder), on a
/// free loopback port against a given PostgreSQL: for runs with several hosts, and for killing one with SIGKILL.
/// Hosts started with the same signing key accept each other's tokens.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly List<string> output = [];

    public Uri Address { get; }
    public int Id => process.Id;
    public bool HasExited => process.HasExited;

    /// <summary>The process's working set now and its peak, in bytes.</summary>
    public (long Now, long Peak) WorkingSet
    {
        get
        {
            process.Refresh();
            return (process.WorkingSet64, process.PeakWorkingSet64);
        }
    }
    public string Output { get { lock (output) return string.Join('\n', output); } }

    private HostProcess(Process process, Uri address)
    {
        this.process = process;
        Address = address;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <param name="connectionString">null: no connection string, so the host starts (or shares) its embedded PostgreSQL.</param>
    /// <param name="pathways">null: none given, so the host finds its own (from <paramref name="workingDirectory"/> or beside its binary).</param>
    public static async Task<HostProcess> StartAsync(string? connectionString, string? pathways, string signingKey,
        IEnumerable<string>? settings = null, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
            Environment = { ["DOTNET_ENVIRONMENT"] = "Development", ["ASPNETCORE_ENVIRONMENT"] = "Development" },
        };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "KbPathways.Host.dll"), "--urls", $"http://127.0.0.1:{port}",
                     .. connectionString is null ? Array.Empty<string>() : [$"--ConnectionStrings:Postgres={connectionString}"],
                     .. pathways is null ? Array.Empty<string>() : [$"--Pathways:Path={pathways}"], $"--Auth:SigningKey={signingKey}",
                     "--Logging:LogLevel:Default=Warning", $"--AccessLog:HeadFile={ScratchDirectory.NewAccessLogHeadFile()}",
                     .. settings ?? []])
            start.ArgumentList.Add(arg);
        var host = new HostProcess(Process.Start(start)!, new Uri($"http://127.0.0.1:{port}"));
        await host.WaitHealthyAsync(timeout ?? TimeSpan.FromSeconds(60));
        return host;
    }

    /// <summary>Waits until /health answers 200 (the store is reachable and the pathways are loaded).</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (process.HasExited) throw new InvalidOperationException($"host exited with {process.ExitCode}:\n{Output}");
            try
            {
                if ((await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"host not healthy within {timeout}:\n{Output}");
    }

    /// <summary>SIGTERM, as a service manager stops it: the host shuts down in order. Returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!process.HasExited)
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await kill.WaitForExitAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
        return process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing — as a power cut or an OOM kill.</summary>
    public void Kill()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.CompletedTask;
        process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
