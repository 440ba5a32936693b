using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Ingest.Commands;
using Ingest.Dashboard;
using Ingest.Pipeline.Sources.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Ingest.Dashboard.Tests;

/// <summary>
/// `ingest serve` on its defaults, fed real Go output plus a panic whose message is an XSS payload, and the
/// dashboard in headless Chromium (Debian's chromium, driven by Playwright with its executable path).
/// </summary>
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    private const string Payload = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>";
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-dashboard-").FullName;
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private int _port;
    private string? _bootstrap;

    private static string Corpus(string name) => Path.Combine(AppContext.BaseDirectory, "Corpus", name);

    public async Task InitializeAsync()
    {
        _port = FreePort();
        string config = Path.Combine(_dir, "appsettings.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Serve = new { DataDirectory = Path.Combine(_dir, "data"), Urls = $"http://127.0.0.1:{_port}" },
            Assembly = new { IdleFlush = "00:00:00.300" },
        }));
        _thread = new Thread(() => ServeCommand.Run(config, [], _stop.Token, app => _bootstrap = app.Services.GetRequiredService<KafkaSourceOptions>().BootstrapServers));
        _thread.Start();
        await Until(() => Task.FromResult(_bootstrap is not null), "serve started");

        // A panic whose message is markup: it must stay text everywhere.
        string xss = Path.Combine(_dir, "xss.txt");
        var lines = (await File.ReadAllTextAsync(Corpus("01-nil-pointer-dereference.txt"))).Split('\n');
        lines[0] = "panic: " + Payload;
        await File.WriteAllTextAsync(xss, string.Join('\n', lines));
        Assert.Equal(0, ReplayCommand.Run([Corpus("01-nil-pointer-dereference.txt"), Corpus("21-http-panic-serving.txt"), Corpus("31-gctrace.txt"), xss], "logs", _bootstrap!, null, TextWriter.Null));
        using var http = new HttpClient { BaseAddress = new Uri(Base) };
        await Until(async () => JsonDocument.Parse(await http.GetStringAsync("/api/v1/crashes")).RootElement.GetArrayLength() == 4, "four crashes stored");
        await Until(async () => JsonDocument.Parse(await http.GetStringAsync("/api/v1/gc/cycles?service=unknown&from=2000-01-01T00:00:00Z")).RootElement.GetArrayLength() == 135, "gc cycles stored");
    }

    private string Base => $"http://127.0.0.1:{_port}";

    public Task DisposeAsync()
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(60));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
        return Task.CompletedTask;
    }

    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        var end = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > end) throw new TimeoutException("timed out waiting for: " + what);
            await Task.Delay(50); // polling interval while waiting for the condition
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static string ChromiumPath() =>
        new[] { Environment.GetEnvironmentVariable("INGEST_TEST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => p is not null && File.Exists(p))
        ?? throw new InvalidOperationException("Chromium not found: install Debian's chromium (the CI script does) or set INGEST_TEST_CHROMIUM");

    [Fact]
    public async Task The_page_shows_crash_groups_opens_a_crash_draws_the_gc_chart_and_keeps_markup_inert()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath(), Headless = true, Args = ["--no-sandbox", "--disable-gpu"],
        });
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.Dialog += async (_, d) => { errors.Add("dialog: " + d.Message); await d.DismissAsync(); };

        var response = await page.GotoAsync(Base + "/");
        Assert.NotNull(response);
        Assert.Equal(DashboardEndpoints.ContentSecurityPolicy, await response!.HeaderValueAsync("content-security-policy"));
        await page.WaitForSelectorAsync("body[data-ready='crashes']");

        // Crash groups: 01 and the second panic of 21 share a fingerprint; the XSS crash is its own group.
        var rows = page.Locator("#crash-groups tbody tr");
        Assert.Equal(3, await rows.CountAsync());
        var xssRow = rows.Filter(new LocatorFilterOptions { HasText = "<img src=x" });
        Assert.Equal(1, await xssRow.CountAsync());
        Assert.Equal(1, await page.Locator("#crash-groups canvas.spark").First.CountAsync());

        // Open the crash: the crashing goroutine's frames with the root-cause frame highlighted.
        await xssRow.ClickAsync();
        await page.WaitForSelectorAsync("#crash-detail li.root-cause");
        Assert.Contains("FindByID", await page.Locator("#crash-detail li.root-cause").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains(Payload, await page.Locator("#crash-detail h3").InnerTextAsync(), StringComparison.Ordinal);

        // The GC chart draws the real gctrace series.
        await page.GotoAsync(Base + "/#gc");
        await page.WaitForSelectorAsync("body[data-ready='gc']");
        Assert.Equal("135", await page.Locator("#gc-chart").GetAttributeAsync("data-points"));

        // The payload never ran and never became markup.
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.__xss"));
        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.Empty(errors);
    }
}
