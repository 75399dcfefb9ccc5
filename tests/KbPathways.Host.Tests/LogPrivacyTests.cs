using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text;
using KbPathways.Projections.Database;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using KbPathways.Testing;

namespace KbPathways.Host.Tests;

/// <summary>With the host's own logging configuration (Information and up), no log line names a patient or carries their data.</summary>
public class LogPrivacyTests
{
    private sealed class Capture : ILoggerProvider
    {
        public readonly ConcurrentQueue<string> Lines = new();
        public ILogger CreateLogger(string category) => new Logger(category, Lines);
        public void Dispose() { }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel level) => true;
            public void Log<TState>(LogLevel level, EventId id, TState state, Exception? e, Func<TState, Exception?, string> format) =>
                lines.Enqueue($"{level} {category}: {format(state, e)} {e}");
        }
    }

    [Fact]
    public async Task Given_patient_requests_good_and_bad_When_logged_Then_no_patient_id_or_data_appears()
    {
        using var scratch = new ScratchDirectory("logs");
        await using var postgres = await EmbeddedPostgres.StartAsync(scratch.Path);
        var capture = new Capture();
        var (app, address) = await TestHost.StartAsync(postgres.ConnectionString, services: s => s.AddSingleton<ILoggerProvider>(capture), quiet: false);
        try
        {
            const string patient = "PATIENT-7f3a";
            const string secret = "schuldenlast-bij-deurwaarder";
            var client = app.Client(address, "praktijk-l", "huisarts");
            var id = await client.Start("solk", patient);
            await client.Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = true, scegsNotities = secret } });
            await client.Fire(id, new { trigger = "werkhypotheseVastgelegd", data = new { medischOnderzoekAfgerond = "nee", scegsNotities = secret } });
            await client.PostAsJsonAsync($"/api/patients/{patient}/kb-mark", new { reason = secret });
            await client.PostAsync($"/api/patients/{patient}/kb-mark", new StringContent("null", Encoding.UTF8, "application/json"));
            await client.PostAsync($"/api/patients/{patient}/kb-mark", new StringContent("{\"reason\":", Encoding.UTF8, "application/json"));
            await client.GetAsync($"/api/patients/{patient}");
            await client.GetAsync($"/api/trajectories?patientId={patient}");

            capture.Lines.ShouldNotBeEmpty();
            capture.Lines.ShouldNotContain(l => l.Contains(patient) || l.Contains(secret));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
