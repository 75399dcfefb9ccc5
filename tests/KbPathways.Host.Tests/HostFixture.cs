using System.Net.Http.Json;
using System.Text.Json;
using KbPathways.Projections.Database;
using KbPathways.Host.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using KbPathways.Testing;

namespace KbPathways.Host.Tests;

/// <summary>
/// One real host per test collection, on 127.0.0.1 with a random port, backed by a private PostgreSQL cluster
/// started from the installed binaries. Tests isolate themselves by using their own practice id.
/// </summary>
public sealed class HostFixture : IAsyncLifetime
{
    public static readonly string RepoRoot = FindRoot();
    private readonly ScratchDirectory scratch = new("host");
    private EmbeddedPostgres? postgres;
    private WebApplication? app;

    public Uri BaseAddress { get; private set; } = null!;
    public string ConnectionString => postgres!.ConnectionString;
    /// <summary>A superuser: for tests that play the database administrator.</summary>
    public string AdminConnectionString => postgres!.AdminConnectionString;
    public IServiceProvider Services => app!.Services;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KbPathways.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("KbPathways.sln not found");
    }

    public async Task InitializeAsync()
    {
        postgres = await EmbeddedPostgres.StartAsync(scratch.Path);
        (app, BaseAddress) = await TestHost.StartAsync(postgres.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (app is not null) await app.DisposeAsync();
        if (postgres is not null) await postgres.StopAsync();
        scratch.Dispose();
    }

    public string Token(string practice, params string[] roles) =>
        KbClaims.CreateToken(Services.GetRequiredService<AuthOptions>(), "user-" + roles.FirstOrDefault(), "Test", roles, practice, TimeSpan.FromHours(1));

    public HttpClient Client(string practice, params string[] roles) => app!.Client(BaseAddress, practice, roles);

    public static string NewPractice() => "praktijk-" + Guid.NewGuid().ToString("N")[..10];
}

[CollectionDefinition(Name)]
public sealed class HostCollection : ICollectionFixture<HostFixture>
{
    public const string Name = "host";
}

public static class Json
{
    public static async Task<JsonElement> Body(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    public static Task<HttpResponseMessage> Fire(this HttpClient client, string id, object body, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/trajectories/{id}/fire") { Content = JsonContent.Create(body) };
        if (key is not null) request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }

    public static async Task<string> Start(this HttpClient client, string pathway = "solk", string patient = "patient-1")
    {
        var response = await client.PostAsJsonAsync("/api/trajectories", new { patientId = patient, pathway });
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Body()).GetProperty("id").GetString()!;
    }

    public static string[] Strings(this JsonElement element, string property) =>
        [.. element.GetProperty(property).EnumerateArray().Select(e => e.GetString()!)];
}
