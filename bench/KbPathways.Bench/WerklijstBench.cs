using System.Net.Http.Headers;
using System.Net.Http.Json;
using KbPathways.Host.Identity;
using KbPathways.Testing;

namespace KbPathways.Bench;

/// <summary>
/// The werklijst as a POH opens it, with 300 open items of their role: a real headless Chromium signs in on the
/// development page and loads <c>/werkplek</c> five times; per load the time from navigation to the rendered list
/// (the page's <c>kb-ready</c> mark) and the bytes the page loaded (document, script, style, API answers).
/// </summary>
public static class WerklijstBench
{
    public const string Practice = "bench-werklijst";

    public static async Task<(double MedianMs, double MaxMs, long Bytes, int Items)?> RunAsync(Uri address, AuthOptions auth, int open = 300)
    {
        if (!File.Exists("/usr/bin/chromium")) return null;
        using var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            KbClaims.CreateToken(auth, "bench-werklijst", "Bench", ["huisarts"], Practice, TimeSpan.FromHours(1)));
        await Parallel.ForEachAsync(Enumerable.Range(0, open), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            (await client.PostAsJsonAsync("/api/trajectories", new { patientId = $"wl-{i:000}", pathway = "solk" }, ct)).EnsureSuccessStatusCode());

        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync($"{address}aanmelden");
        await browser.EvaluateAsync($"document.querySelector('#praktijk').value = '{Practice}'; document.querySelector('button[value=\"demo-huisarts\"]').click(); true");
        await browser.WaitForAsync("location.pathname === '/werkplek' && document.body?.dataset.ready === 'true'");
        var times = new List<double>();
        long bytes = 0;
        var items = 0;
        for (var run = 0; run < 5; run++)
        {
            await browser.NavigateAsync($"{address}werkplek");
            times.Add((await browser.EvaluateAsync("performance.getEntriesByName('kb-ready')[0].startTime")).GetDouble());
            bytes = (long)(await browser.EvaluateAsync("""
                performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).reduce((n, e) => n + (e.encodedBodySize || 0), 0)
                """)).GetDouble();
            items = (await browser.EvaluateAsync("Number(document.querySelector('.pager span').textContent.match(/· (\\d+)/)[1])")).GetInt32();
        }
        times.Sort();
        return (times[times.Count / 2], times[^1], bytes, items);
    }
}
