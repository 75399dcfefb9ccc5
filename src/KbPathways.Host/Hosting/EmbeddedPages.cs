using KbPathways.Host.Api;

namespace KbPathways.Host.Hosting;

/// <summary>
/// The pages the host serves from its assembly, no CDN: <c>/werkplek</c> (the POH's workplace) and <c>/dashboard</c>
/// (the practice manager's KB-dashboard). A page holds no data: it reads the public API with the user's session (or
/// token), so every read is authorised and logged as any client's.
/// </summary>
public static class EmbeddedPages
{
    private static readonly Dictionary<string, (byte[] Body, string Type)> Assets = Load();

    public static void Map(WebApplication app)
    {
        foreach (var page in new[] { "dashboard", "werkplek" })
        {
            var prefix = char.ToUpperInvariant(page[0]) + page[1..] + ".";
            app.MapGet($"/{page}", (HttpContext context) => Serve(context, prefix + "index.html")).AllowAnonymous();
            app.MapGet($"/{page}/{{asset}}", (HttpContext context, string asset) => Serve(context, prefix + asset)).AllowAnonymous();
        }
        // '/' leads a browser to the workplace (which sends a visitor who is not signed in to sign in).
        app.MapGet("/", () => Results.Redirect("/werkplek")).AllowAnonymous();
    }

    /// <summary>The strict headers every page gets: only this host's own scripts, styles and API.</summary>
    public static void SecureHeaders(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
    }

    private static IResult Serve(HttpContext context, string name)
    {
        if (!Assets.TryGetValue(name, out var asset)) return Results.Problem(Problems.NotFound());
        SecureHeaders(context);
        return Results.Bytes(asset.Body, asset.Type);
    }

    private static Dictionary<string, (byte[], string)> Load()
    {
        var assembly = typeof(EmbeddedPages).Assembly;
        var assets = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("Dashboard.", StringComparison.Ordinal) || n.StartsWith("Werkplek.", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            assets[resource] = (copy.ToArray(), Path.GetExtension(resource) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            });
        }
        return assets;
    }
}
