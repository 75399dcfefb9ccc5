using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace KbPathways.Testing;

/// <summary>
/// A real headless Chromium driven over the DevTools protocol (one page, flattened session): navigate, wait for the
/// page to say it is ready, evaluate script, take a screenshot. Flags as in shared/environment.md.
/// </summary>
public sealed partial class HeadlessChromium : IAsyncDisposable
{
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
    private readonly Process process;
    private readonly string profile;
    private readonly ClientWebSocket socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> pending = new();
    private readonly CancellationTokenSource stop = new();
    private string session = "";
    private int nextId;

    private HeadlessChromium(Process process, string profile)
    {
        this.process = process;
        this.profile = profile;
    }

    public static async Task<HeadlessChromium> StartAsync(int width = 1366, int height = 1800)
    {
        var executable = Candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("No Chromium found at /usr/bin/chromium: install it with apt-get install chromium (.ci/run does).");
        var profile = Path.Combine(Path.GetTempPath(), "kbpathways-chromium-" + Guid.NewGuid().ToString("N")[..8]);
        var start = new ProcessStartInfo(executable) { RedirectStandardError = true, RedirectStandardOutput = true };
        // A Dutch practice's browser: dates in inputs as dd-mm-jjjj.
        start.Environment["LANG"] = "nl_NL.UTF-8";
        start.Environment["LANGUAGE"] = "nl_NL:nl";
        foreach (var flag in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--lang=nl-NL", "--remote-debugging-port=0", $"--user-data-dir={profile}", "about:blank" })
            start.ArgumentList.Add(flag);
        var browser = new HeadlessChromium(Process.Start(start)!, profile);
        var url = await browser.DevToolsUrl().WaitAsync(TimeSpan.FromSeconds(30));
        await browser.socket.ConnectAsync(new Uri(url), CancellationToken.None);
        _ = browser.Receive();
        var target = await browser.Send("Target.createTarget", new { url = "about:blank" }, browserLevel: true);
        var attached = await browser.Send("Target.attachToTarget", new { targetId = target.GetProperty("targetId").GetString(), flatten = true }, browserLevel: true);
        browser.session = attached.GetProperty("sessionId").GetString()!;
        await browser.Send("Emulation.setDeviceMetricsOverride", new { width, height, deviceScaleFactor = 1, mobile = false });
        await browser.Send("Page.enable", new { });
        await browser.Send("Emulation.setLocaleOverride", new { locale = "nl-NL" }); // as a Dutch practice's browser
        return browser;
    }

    private async Task<string> DevToolsUrl()
    {
        while (await process.StandardError.ReadLineAsync() is { } line)
            if (DevToolsLine().Match(line) is { Success: true } m) return m.Groups[1].Value;
        throw new InvalidOperationException("Chromium exited before it listened for DevTools");
    }

    [GeneratedRegex(@"DevTools listening on (ws://\S+)")]
    private static partial Regex DevToolsLine();

    /// <summary>Loads <paramref name="url"/> afresh (via about:blank, so a change of fragment only still reloads) and waits for it.</summary>
    public async Task NavigateAsync(string url, TimeSpan? timeout = null)
    {
        await Send("Page.navigate", new { url = "about:blank" });
        await Send("Page.navigate", new { url });
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        await Task.Delay(200);
        while (await EvaluateAsync("document.readyState === 'complete' && document.body.dataset.ready === 'true'") is not { ValueKind: JsonValueKind.True })
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{url} did not become ready");
            await Task.Delay(100);
        }
    }

    /// <summary>Evaluates a JavaScript expression in the page and returns its value (by value, as JSON).</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await Send("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true });
        if (result.TryGetProperty("exceptionDetails", out var error)) throw new InvalidOperationException($"script failed: {error}");
        return result.GetProperty("result").TryGetProperty("value", out var value) ? value : default;
    }

    /// <summary>
    /// Waits until the JavaScript <paramref name="condition"/> is true. A page that is navigating away (a form post and
    /// its redirect) cannot answer for a moment: that is "not yet", not a failure.
    /// </summary>
    public async Task WaitForAsync(string condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (await Holds(condition) is not true)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not true within the time: {condition}");
            await Task.Delay(50);
        }
    }

    private async Task<bool> Holds(string condition)
    {
        try
        {
            return await EvaluateAsync($"!!({condition})") is { ValueKind: JsonValueKind.True };
        }
        catch (InvalidOperationException e) when (e.Message.Contains("navigated or closed") || e.Message.Contains("context was destroyed")
                                                   || e.Message.Contains("Cannot find context"))
        {
            return false;
        }
    }

    /// <summary>Sets the window's width and height (laptop, tablet or phone).</summary>
    public Task SetViewportAsync(int width, int height, bool mobile = false) =>
        Send("Emulation.setDeviceMetricsOverride", new { width, height, deviceScaleFactor = 1, mobile });

    public async Task<byte[]> ScreenshotAsync() =>
        Convert.FromBase64String((await Send("Page.captureScreenshot", new { format = "png", captureBeyondViewport = true })).GetProperty("data").GetString()!);

    private async Task<JsonElement> Send(string method, object parameters, bool browserLevel = false)
    {
        var id = Interlocked.Increment(ref nextId);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = reply;
        var message = browserLevel
            ? JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters })
            : JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters, sessionId = session });
        await socket.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);
        return await reply.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task Receive()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var part = await socket.ReceiveAsync(buffer, stop.Token);
                if (part.MessageType == WebSocketMessageType.Close) return;
                message.Write(buffer, 0, part.Count);
                if (!part.EndOfMessage) continue;
                var json = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
                message.SetLength(0);
                if (!json.TryGetProperty("id", out var idProperty) || !pending.TryRemove(idProperty.GetInt32(), out var reply)) continue;
                if (json.TryGetProperty("error", out var error)) reply.SetException(new InvalidOperationException($"DevTools: {error}"));
                else reply.SetResult(json.GetProperty("result"));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        socket.Dispose();
        try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        await process.WaitForExitAsync();
        process.Dispose();
        try { Directory.Delete(profile, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
