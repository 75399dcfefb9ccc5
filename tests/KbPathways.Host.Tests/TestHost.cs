using System.Net.Http.Headers;
using KbPathways.Host.Hosting;
using KbPathways.Host.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace KbPathways.Host.Tests;

/// <summary>Starts the real host on 127.0.0.1 with a random port against a given PostgreSQL.</summary>
public static class TestHost
{
    public static async Task<(WebApplication App, Uri Address)> StartAsync(string connectionString, string[]? args = null,
        Action<IServiceCollection>? services = null, bool quiet = true)
    {
        var app = await KbPathwaysApp.BuildAsync(["--environment", "Development", .. args ?? []], builder =>
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Configuration["ConnectionStrings:Postgres"] = connectionString;
            if (!(args ?? []).Any(a => a.StartsWith("--Pathways:Path=", StringComparison.Ordinal)))
                builder.Configuration["Pathways:Path"] = Path.Combine(HostFixture.RepoRoot, "pathways");
            builder.Configuration["AccessLog:HeadFile"] = KbPathways.Testing.ScratchDirectory.NewAccessLogHeadFile();
            if (quiet) builder.Configuration["Logging:LogLevel:Default"] = "Warning";
            services?.Invoke(builder.Services);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }

    public static HttpClient Client(this WebApplication app, Uri address, string practice, params string[] roles)
    {
        var client = new HttpClient { BaseAddress = address };
        if (roles.Length > 0)
        {
            var token = KbClaims.CreateToken(app.Services.GetRequiredService<AuthOptions>(), "user-" + roles[0], "Test", roles, practice, TimeSpan.FromHours(1));
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }
}
