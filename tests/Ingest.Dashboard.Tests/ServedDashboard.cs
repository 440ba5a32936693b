using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Commands;
using Ingest.Pipeline.Sources.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Ingest.Dashboard.Tests;

/// <summary>`ingest serve` on its defaults (the embedded cluster and store) on a free port, in this process.</summary>
public class ServedDashboard : IAsyncLifetime
{
    /// <summary>Markup in log content: it must stay text everywhere.</summary>
    public const string Payload = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>";

    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-dashboard-").FullName;
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private int _port;
    private string? _bootstrap;

    public string Base => $"http://127.0.0.1:{_port}";

    public string Bootstrap => _bootstrap!;

    public HttpClient Http { get; private set; } = null!;

    public static string Corpus(string name) => Path.Combine(AppContext.BaseDirectory, "Corpus", name);

    public virtual async Task InitializeAsync()
    {
        _port = FreePort();
        string config = Path.Combine(_dir, "appsettings.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Serve = new { DataDirectory = Path.Combine(_dir, "data"), Urls = Base },
            // Long enough that a producer stalled mid-file on a busy machine does not cut a dump in two.
            Assembly = new { IdleFlush = "00:00:02" },
            Correlation = new { ReorderWindow = "00:00:10", MinHold = "00:00:05" },
            // Code references in postmortem drafts become links to this "repository": the page must drop them.
            Postmortem = new { RepositoryUrl = "javascript:window.__xss=5//", Revision = "main", SourceRoot = "/home/dev/src/shop/" },
        }));
        _thread = new Thread(() => ServeCommand.Run(config, [], _stop.Token, app => _bootstrap = app.Services.GetRequiredService<KafkaSourceOptions>().BootstrapServers));
        _thread.Start();
        await Until(() => Task.FromResult(_bootstrap is not null), "serve started");
        Http = new HttpClient { BaseAddress = new Uri(Base) };
    }

    public Task DisposeAsync()
    {
        Http.Dispose();
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

    /// <summary>Lines as raw messages of one stream, with shipper headers and, when given, each line's own time.</summary>
    public void Produce(string key, IEnumerable<string> lines, IReadOnlyDictionary<string, string>? headers = null, Func<string, DateTimeOffset?>? time = null)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = Bootstrap, LingerMs = 5 }).Build();
        foreach (string line in lines)
        {
            var message = new Message<string, byte[]> { Key = key, Value = Encoding.UTF8.GetBytes(line) };
            if (headers is not null)
            {
                message.Headers = [];
                foreach (var (name, value) in headers) message.Headers.Add(name, Encoding.UTF8.GetBytes(value));
            }
            if (time?.Invoke(line) is { } at) message.Timestamp = new Timestamp(at.UtcDateTime, TimestampType.CreateTime);
            producer.Produce("logs", message);
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    public async Task<JsonElement> GetJson(string path) => JsonDocument.Parse(await Http.GetStringAsync(path)).RootElement;

    public static async Task Until(Func<Task<bool>> condition, string what, Func<string>? seen = null)
    {
        var end = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            if (DateTime.UtcNow > end) throw new TimeoutException("timed out waiting for: " + what + (seen is null ? "" : "; saw " + seen()));
            await Task.Delay(50); // polling interval while waiting for the condition
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>Debian's Chromium driven by Playwright, with page errors and dialogs collected and screenshots saved for review.</summary>
public sealed class Browser : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    public IPage Page { get; }

    public List<string> Errors { get; } = [];

    /// <summary>Screenshots of every view, for review: the test output folder's screenshots/.</summary>
    public static string ScreenshotDir { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;

    private Browser(IPlaywright playwright, IBrowser browser, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Page = page;
        page.PageError += (_, e) => Errors.Add(e);
        page.Dialog += async (_, d) => { Errors.Add("dialog: " + d.Message); await d.DismissAsync(); };
    }

    public static async Task<Browser> Launch()
    {
        Assertions.SetDefaultExpectTimeout(30_000);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath(), Headless = true, Args = ["--no-sandbox", "--disable-gpu"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 }, AcceptDownloads = true });
        return new Browser(playwright, browser, page);
    }

    /// <summary>Opens a fragment of the dashboard and waits until its view has drawn.</summary>
    public async Task Open(string baseUrl, string fragment, string view)
    {
        await Page.GotoAsync(baseUrl + "/" + fragment);
        await Ready(view);
    }

    public Task Ready(string view) => Page.WaitForSelectorAsync($"body[data-ready='{view}']");

    public async Task<string> Screenshot(string name, ITestOutputHelper output)
    {
        string path = Path.Combine(ScreenshotDir, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine("screenshot: " + path);
        return path;
    }

    /// <summary>No payload ran, and none became an element: the page's own two scripts and one SVG are all there is.</summary>
    public async Task AssertInert()
    {
        Assert.Equal("undefined", await Page.EvaluateAsync<string>("() => typeof window.__xss"));
        Assert.Equal(0, await Page.Locator("img, b, script:not([src]), svg:not(#graph-svg), [onerror], [onload]").CountAsync());
        Assert.Empty(Errors);
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    private static string ChromiumPath() =>
        new[] { Environment.GetEnvironmentVariable("INGEST_TEST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => p is not null && File.Exists(p))
        ?? throw new InvalidOperationException("Chromium not found: install Debian's chromium (the CI script does) or set INGEST_TEST_CHROMIUM");
}
