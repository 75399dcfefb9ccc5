using KbPathways.Host.Api;

namespace KbPathways.Host.Hosting;

/// <summary>
/// GET /dashboard: the practice manager's KB-dashboard page (HTML, script, style from the assembly). The page holds no
/// data: it reads /api/dashboard and /api/quality with the user's token, so those calls are authorised and logged.
/// </summary>
public static class DashboardPage
{
    private static readonly Dictionary<string, (byte[] Body, string Type)> Assets = Load();

    public static void Map(WebApplication app)
    {
        app.MapGet("/dashboard", (HttpContext context) => Serve(context, "index.html")).AllowAnonymous();
        app.MapGet("/dashboard/{asset}", (HttpContext context, string asset) => Serve(context, asset)).AllowAnonymous();
    }

    private static IResult Serve(HttpContext context, string name)
    {
        if (!Assets.TryGetValue(name, out var asset)) return Results.Problem(Problems.NotFound());
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        return Results.Bytes(asset.Body, asset.Type);
    }

    private static Dictionary<string, (byte[], string)> Load()
    {
        var assembly = typeof(DashboardPage).Assembly;
        var assets = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("Dashboard.", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var name = resource["Dashboard.".Length..];
            assets[name] = (copy.ToArray(), Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "application/octet-stream",
            });
        }
        return assets;
    }
}
