using System.Globalization;
using System.Text.Json;
using Ingest.Commands;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ingest.Dashboard.Tests;

/// <summary>
/// Real Go output in the worker: crashes, a gctrace replayed in one burst and one backfilled with its own times, a
/// mutex convoy dump and a leak over four dumps, with markup in every field a view shows (panic message, service and
/// host, function names, file paths, goroutine states), so the incidents they form carry it too.
/// </summary>
public sealed class DashboardData : ServedDashboard
{
    /// <summary>Function names cannot hold spaces: a shorter payload there.</summary>
    public const string FunctionPayload = "<svg/onload=window.__xss=3>";

    /// <summary>When the backfilled gctrace's process started.</summary>
    public static readonly DateTimeOffset BackfillStart = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-2).AddHours(10);

    public string XssCrashId { get; private set; } = "";
    public string ConvoyDumpId { get; private set; } = "";
    public string IncidentId { get; private set; } = "";
    public string NilFingerprint { get; private set; } = "";
    public string DeadlockCrashId { get; private set; } = "";
    public string RacingCrashId { get; private set; } = "";
    public string LongWaitDumpId { get; private set; } = "";

    public static readonly Dictionary<string, string> XssHeaders = new() { ["service"] = Payload, ["host"] = Payload };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Assert.Equal(0, ReplayCommand.Run([Corpus("01-nil-pointer-dereference.txt"), Corpus("21-http-panic-serving.txt"), Corpus("31-gctrace.txt"), Corpus("13-deadlock.txt"), Corpus("racing-throwers-1.txt")],
            "logs", Bootstrap, null, TextWriter.Null));
        // Goroutines parked for 42 minutes: long waits.
        string longWait = (await File.ReadAllTextAsync(Corpus("26-sigquit-dump.txt"))).Replace("[chan receive]:", "[chan receive, 42 minutes]:", StringComparison.Ordinal);
        Produce("long-wait", longWait.TrimEnd('\n').Split('\n'));

        string convoy = (await File.ReadAllTextAsync(Corpus("30-mutex-convoy-sigquit.txt")))
            .Replace("internal/store.(*Cache)", "internal/store.(*Cache" + FunctionPayload + ")", StringComparison.Ordinal)
            .Replace("/internal/store/cache.go", "/internal/" + Payload.Split('>')[0] + ">/cache.go", StringComparison.Ordinal)
            .Replace("[chan receive]", "[chan <b>receive</b>]", StringComparison.Ordinal);
        Produce("xss-convoy", convoy.TrimEnd('\n').Split('\n'), XssHeaders);
        string leak = (await File.ReadAllTextAsync(Corpus("29-goroutine-leak-4-snapshots.txt")))
            .Replace("(*Notifier).Subscribe", "(*Notifier" + FunctionPayload + ").Subscribe", StringComparison.Ordinal);
        Produce("xss-leak", leak.TrimEnd('\n').Split('\n'), XssHeaders);
        var panic = (await File.ReadAllTextAsync(Corpus("01-nil-pointer-dereference.txt"))).TrimEnd('\n').Split('\n');
        panic[0] = "panic: " + Payload;
        Produce("xss-crash", panic, XssHeaders);
        // A backfill: each cycle at the time its process logged it (the message time), two days ago.
        Produce("stamped-pod", (await File.ReadAllTextAsync(Corpus("31-gctrace.txt"))).TrimEnd('\n').Split('\n'),
            new Dictionary<string, string> { ["service"] = "stamped", ["host"] = Payload }, line => BackfillStart.AddSeconds(AtSeconds(line)));

        await Until(async () => (await GetJson("/api/v1/crashes")).GetArrayLength() == 6, "six crashes stored");
        JsonElement dumps = default;
        await Until(async () => (dumps = await GetJson("/api/v1/goroutine-dumps")).GetArrayLength() == 6, "six dumps stored",
            () => string.Join(", ", dumps.EnumerateArray().Select(d => Str(d, "pod") + " " + Str(d, "id"))));
        await Until(async () => (await GetJson("/api/v1/leak-suspects")).GetArrayLength() == 1, "the leak suspect stored");
        await Until(async () => (await GetJson("/api/v1/events/gc?limit=1000&service=stamped")).GetArrayLength() == 135, "backfilled gc cycles stored");
        await Until(async () => (await GetJson("/api/v1/events/gc?limit=1000&service=unknown")).GetArrayLength() == 135, "replayed gc cycles stored");
        JsonElement incident = default;
        await Until(async () =>
        {
            var list = await GetJson("/api/v1/incidents");
            incident = list.EnumerateArray().FirstOrDefault(i => Str(i, "service") == Payload && i.GetProperty("event").GetProperty("event_count").GetInt32() == 2);
            return incident.ValueKind == JsonValueKind.Object;
        }, "the incident of the payload service, with its crash and its dump");
        IncidentId = incident.GetProperty("id").GetString()!;
        var crashes = await GetJson("/api/v1/crashes");
        XssCrashId = crashes.EnumerateArray().Single(c => Str(c, "service") == Payload).GetProperty("id").GetString()!;
        NilFingerprint = crashes.EnumerateArray().First(c => Str(c, "pod") == "01-nil-pointer-dereference.txt").GetProperty("event").GetProperty("fingerprint").GetString()!;
        DeadlockCrashId = crashes.EnumerateArray().Single(c => Str(c, "pod") == "13-deadlock.txt").GetProperty("id").GetString()!;
        RacingCrashId = crashes.EnumerateArray().Single(c => Str(c, "pod") == "racing-throwers-1.txt").GetProperty("id").GetString()!;
        ConvoyDumpId = dumps.EnumerateArray().Single(d => Str(d, "pod") == "xss-convoy").GetProperty("id").GetString()!;
        LongWaitDumpId = dumps.EnumerateArray().Single(d => Str(d, "pod") == "long-wait").GetProperty("id").GetString()!;
    }

    private static string? Str(JsonElement doc, string name) => doc.TryGetProperty(name, out var v) ? v.GetString() : null;

    /// <summary>gctrace's "@1.234s": seconds since the process started.</summary>
    private static double AtSeconds(string line)
    {
        int at = line.IndexOf(" @", StringComparison.Ordinal);
        return at < 0 ? 0 : double.Parse(line.AsSpan(at + 2, line.IndexOf('s', at) - at - 2), CultureInfo.InvariantCulture);
    }
}

/// <summary>Each view in headless Chromium (Debian's, driven by Playwright), reached by its URL, with markup kept inert.</summary>
public sealed class DashboardBrowserTests(DashboardData data, ITestOutputHelper output) : IClassFixture<DashboardData>
{
    private const string Payload = ServedDashboard.Payload;

    private static string Fragment(string view, string id) => "#" + view + "/" + Uri.EscapeDataString(id);

    [Fact]
    public async Task Find_filters_crash_groups_and_crashes_with_the_filters_in_the_url()
    {
        await using var b = await Browser.Launch();
        var page = b.Page;
        var response = await page.GotoAsync(data.Base + "/");
        Assert.Equal(DashboardEndpoints.ContentSecurityPolicy, await response!.HeaderValueAsync("content-security-policy"));
        await b.Ready("crashes");
        // Unfiltered, last 24 h: 01 and the second panic of 21 share a fingerprint; the others are groups of their own.
        await Expect(page.Locator("#crashes tbody tr")).ToHaveCountAsync(6);
        await Expect(page.Locator("#crash-groups tbody tr")).ToHaveCountAsync(5);
        await Expect(page.Locator("#crash-groups canvas.spark")).ToHaveCountAsync(5);
        await b.Screenshot("crashes", output);

        // Category and message text from the form: the filters land in the URL.
        await page.SelectOptionAsync("#f-category", "custom_panic");
        await page.FillAsync("#f-q", "onerror");
        await page.ClickAsync("#f-apply");
        await page.WaitForURLAsync(u => u.Contains("category=custom_panic", StringComparison.Ordinal) && u.Contains("q=onerror", StringComparison.Ordinal));
        await b.Ready("crashes");
        var crashRows = page.Locator("#crashes tbody tr");
        await Expect(crashRows).ToHaveCountAsync(1);
        await Expect(crashRows.Locator("td").Nth(1)).ToHaveTextAsync(Payload);
        await Expect(crashRows.Locator("td").Nth(2)).ToHaveTextAsync(Payload);
        await Expect(crashRows.Locator("td").Nth(4)).ToHaveTextAsync(Payload);
        await Expect(page.Locator("#crash-groups tbody tr td").Nth(5)).ToHaveTextAsync(Payload);
        await Expect(page.Locator("#crash-groups tbody tr td").Nth(6)).ToHaveTextAsync(Payload);
        await b.Screenshot("find", output);

        // The URL alone restores the filters (service and host this time, last 15 min).
        string filtered = "#crashes?service=" + Uri.EscapeDataString(Payload) + "&host=" + Uri.EscapeDataString("onerror") + "&range=15m";
        await b.Open(data.Base, filtered, "crashes");
        await Expect(page.Locator("#f-service")).ToHaveValueAsync(Payload);
        await Expect(page.Locator("#f-range")).ToHaveValueAsync("15m");
        await Expect(page.Locator("#crashes tbody tr")).ToHaveCountAsync(1);

        // A fingerprint prefix: the group of 01 and 21, both crashes.
        await b.Open(data.Base, "#crashes?fingerprint=" + data.NilFingerprint[..8], "crashes");
        await Expect(page.Locator("#crashes tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#crash-groups tbody tr")).ToHaveCountAsync(1);

        // A custom range with nothing in it says so.
        await b.Open(data.Base, "#crashes?range=custom&from=2001-01-01T00:00:00.000Z&to=2001-01-02T00:00:00.000Z", "crashes");
        await Expect(page.Locator("#f-from")).ToBeVisibleAsync();
        await Expect(page.Locator("#crashes tbody tr")).ToHaveCountAsync(0);
        await Expect(page.Locator("#crashes-empty .empty")).ToContainTextAsync("No crash matches these filters");
        await b.AssertInert();
    }

    [Fact]
    public async Task Groups_and_crashes_open_from_their_urls_with_the_root_cause_highlighted()
    {
        await using var b = await Browser.Launch();
        var page = b.Page;
        await b.Open(data.Base, Fragment("crash", data.XssCrashId), "crash");
        await Expect(page.Locator("#crash-detail li.root-cause")).ToContainTextAsync("FindByID");
        await Expect(page.Locator("#crash-detail h3")).ToHaveTextAsync("custom_panic: " + Payload);
        await Expect(page.Locator("#crash-detail p").First).ToContainTextAsync("service " + Payload + ", host " + Payload);
        await b.Screenshot("crash", output);

        // From the crash to its group, then to the other crash of the group.
        await page.Locator("#crash-detail a[href^='#group/']").ClickAsync();
        await b.Ready("group");
        await Expect(page.Locator("#group-crashes tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#group-detail p").First).ToContainTextAsync("services " + Payload + "; hosts " + Payload);

        await b.Open(data.Base, Fragment("group", data.NilFingerprint), "group");
        await Expect(page.Locator("#group-crashes tr")).ToHaveCountAsync(3);
        await Expect(page.Locator("#group-detail li.root-cause").First).ToContainTextAsync("FindByID");
        await b.Screenshot("group", output);
        await page.Locator("#group-crashes a").First.ClickAsync();
        await b.Ready("crash");

        await b.Open(data.Base, Fragment("crash", "crash:nope"), "crash");
        await Expect(page.Locator("#crash-detail .empty")).ToContainTextAsync("No crash crash:nope");
        await b.AssertInert();
    }

    [Fact]
    public async Task A_goroutine_dump_shows_states_findings_with_the_holder_and_buckets_by_wait_site()
    {
        await using var b = await Browser.Launch();
        var page = b.Page;
        await b.Open(data.Base, "#dumps", "dumps");
        await Expect(page.Locator("#dumps tbody tr")).ToHaveCountAsync(6);
        var convoy = page.Locator("#dumps tbody tr").Filter(new LocatorFilterOptions { Has = page.Locator(".finding-tag.finding-contention") });
        await Expect(convoy).ToHaveCountAsync(1);
        await Expect(convoy.Locator("td").Nth(1)).ToHaveTextAsync(Payload);
        await Expect(convoy.Locator("td").Nth(4)).ToContainTextAsync("1 chan <b>receive</b>");
        await b.Screenshot("dumps", output);
        await convoy.Locator("a").ClickAsync();
        await b.Ready("dump");
        Assert.EndsWith(Fragment("dump", data.ConvoyDumpId).Replace("%3A", ":", StringComparison.Ordinal), page.Url, StringComparison.Ordinal);

        await Expect(page.Locator("#dump-detail h2")).ToHaveTextAsync("Goroutine dump: 208 goroutines (SIGQUIT)");
        await Expect(page.Locator("#dump-detail .states li").First).ToHaveTextAsync("200 semacquire");
        await Expect(page.Locator("#dump-detail .states")).ToContainTextAsync("1 chan <b>receive</b>");
        var finding = page.Locator("#dump-detail .finding.finding-contention");
        await Expect(finding).ToHaveCountAsync(1);
        await Expect(finding.Locator(".holder")).ToContainTextAsync("suspected holder: goroutine 7 [chan <b>receive</b>] in example.com/shop/internal/store.(*Cache" + DashboardData.FunctionPayload + ").Refresh");
        string site = "example.com/shop/internal/store.(*Cache" + DashboardData.FunctionPayload + ").Get (/home/dev/src/shop/internal/<img src=x onerror=\"window.__xss=1\">/cache.go:25)";
        await Expect(finding).ToContainTextAsync("wait site: " + site);
        // The convoy is the largest wait site; its bucket opens to the stack with the wait-site frame marked.
        var top = page.Locator("#dump-detail .wait-site").First;
        await Expect(top.Locator("h4")).ToHaveTextAsync("200 goroutines at " + site);
        var bucket = top.Locator("details.bucket").First;
        await Expect(bucket.Locator("li.wait-site")).ToBeHiddenAsync();
        await bucket.Locator("summary").ClickAsync();
        await Expect(bucket.Locator("li.wait-site")).ToBeVisibleAsync();
        await Expect(bucket.Locator("li.wait-site")).ToContainTextAsync("(*Cache" + DashboardData.FunctionPayload + ").Get");
        await b.Screenshot("dump", output);

        await b.Open(data.Base, Fragment("dump", "goroutine_dump:nope"), "dump");
        await Expect(page.Locator("#dump-detail .empty")).ToContainTextAsync("No goroutine dump goroutine_dump:nope");
        await b.AssertInert();
    }

    [Fact]
    public async Task Long_waits_deadlocks_and_racing_throwers_are_highlighted_where_they_were_found()
    {
        await using var b = await Browser.Launch();
        var page = b.Page;
        await b.Open(data.Base, Fragment("dump", data.LongWaitDumpId), "dump");
        var waits = page.Locator("#dump-detail .finding.finding-long_wait");
        await Expect(waits).ToHaveCountAsync(3);
        await Expect(waits.First).ToContainTextAsync("2 goroutines in [chan receive] for up to 42 minutes");
        await Expect(page.Locator("#dump-detail details.bucket summary").Filter(new LocatorFilterOptions { HasText = "[chan receive]" }).First).ToContainTextAsync("waiting 42 min");
        await b.Screenshot("dump-long-waits", output);

        await b.Open(data.Base, Fragment("crash", data.DeadlockCrashId), "crash");
        await Expect(page.Locator("#crash-detail .finding.finding-deadlock")).ToContainTextAsync("all goroutines are asleep");
        await b.Screenshot("crash-deadlock", output);

        await b.Open(data.Base, Fragment("crash", data.RacingCrashId), "crash");
        await Expect(page.Locator("#crash-detail .finding.finding-racing_throwers strong")).ToHaveTextAsync("racing throwers");
        await Expect(page.Locator("#crash-detail .finding.finding-racing_throwers")).ToContainTextAsync("2 goroutines threw \"concurrent map writes\" at once");
        await b.AssertInert();
    }

    [Fact]
    public async Task Leak_suspects_chart_the_counts_across_dumps_and_link_the_dumps()
    {
        await using var b = await Browser.Launch();
        var page = b.Page;
        await b.Open(data.Base, "#leaks", "leaks");
        var leak = page.Locator("#leaks .leak");
        await Expect(leak).ToHaveCountAsync(1);
        await Expect(leak.Locator("h3")).ToHaveTextAsync("created by example.com/shop/internal/service.(*Notifier" + DashboardData.FunctionPayload + ").Subscribe");
        await Expect(leak.Locator("p")).ToContainTextAsync("service " + Payload + ", host " + Payload + "; +10 goroutines per dump");
        await Expect(leak.Locator("canvas.leak-chart")).ToHaveAttributeAsync("data-counts", "10,20,30,40");
        Assert.True(await page.EvaluateAsync<bool>("() => Chart.getChart(document.querySelector('canvas.leak-chart')).data.datasets[0].data.join() === '10,20,30,40'"));
        var dumps = leak.Locator(".snapshots a");
        await Expect(dumps).ToHaveCountAsync(4);
        await b.Screenshot("leaks", output);
        // Every snapshot is a stored dump: the last one has the 40 leaked goroutines (49 in all).
        await dumps.Nth(3).ClickAsync();
        await b.Ready("dump");
        await Expect(page.Locator("#dump-detail h2")).ToContainTextAsync("Goroutine dump: 49 goroutines");
        await Expect(page.Locator("#dump-detail .wait-site h4").First).ToContainTextAsync("(*Notifier" + DashboardData.FunctionPayload + ").Subscribe");
        await b.AssertInert();
    }

    [Fact]
    public async Task The_gc_chart_puts_cycles_on_their_own_timeline()
    {
        await using var b = await Browser.Launch();
        var page = b.Page;
        // Replayed in one burst: the stored times pile up, so the @Ns offsets place the cycles (1.495 s apart end to end).
        await b.Open(data.Base, "#gc?service=unknown", "gc");
        var canvas = page.Locator("#gc-chart");
        await Expect(canvas).ToHaveAttributeAsync("data-points", "135");
        await Expect(canvas).ToHaveAttributeAsync("data-span-ms", "1495");
        await Expect(page.Locator("#gc-clocks li")).ToHaveAttributeAsync("data-clock", "gctrace @ offsets from the first cycle");

        // Backfilled with each line's own time: the stream's timestamps, two days ago.
        await page.SelectOptionAsync("#gc-service", "stamped");
        await page.WaitForURLAsync(u => u.EndsWith("#gc?service=stamped", StringComparison.Ordinal));
        await b.Ready("gc");
        await Expect(canvas).ToHaveAttributeAsync("data-points", "135");
        var clock = page.Locator("#gc-clocks li");
        await Expect(clock).ToHaveAttributeAsync("data-clock", "stream timestamps");
        await Expect(clock).ToHaveTextAsync(Payload + ": 135 cycles on stream timestamps");
        double first = await page.EvaluateAsync<double>("() => Chart.getChart(document.getElementById('gc-chart')).data.datasets[0].data[0].x");
        Assert.Equal(DashboardData.BackfillStart.AddSeconds(0.015).ToUnixTimeMilliseconds(), (long)first);
        await b.Screenshot("gc", output);
        await b.AssertInert();
    }

    [Fact]
    public async Task An_incident_links_its_crash_and_dump_and_renders_its_postmortem_in_both_languages()
    {
        await using var b = await Browser.Launch();
        var page = b.Page;
        await b.Open(data.Base, "#incidents", "incidents");
        var box = page.Locator("#incidents .incident").Filter(new LocatorFilterOptions { HasText = "root cause: " + Payload });
        await Expect(box).ToHaveCountAsync(1);
        await box.Locator("h3 a").ClickAsync();
        await b.Ready("incident");

        var detail = page.Locator("#incident-detail");
        await Expect(detail.Locator("h2")).ToContainTextAsync("root cause: " + Payload + " ");
        await Expect(detail.Locator("a[href^='#crash/']")).ToHaveCountAsync(1);
        await Expect(detail.Locator("a[href^='#dump/']")).ToHaveCountAsync(1);
        await Expect(detail.Locator("tr").Nth(1).Locator("td").Nth(3)).ToHaveTextAsync(Payload);

        // The draft as a document: headings, lists and tables, the payload as text, no Markdown syntax left.
        var article = page.Locator("#postmortem");
        await Expect(article.Locator("h1")).ToHaveTextAsync("Postmortem draft: " + data.IncidentId);
        await Expect(article.Locator("h2").First).ToHaveTextAsync("Summary");
        await Expect(article.Locator("table").First).ToBeVisibleAsync();
        await Expect(article).ToContainTextAsync("Affected services: " + Payload);
        // The code reference is a link to a javascript: URL in the Markdown: the page keeps its text, not its target.
        await Expect(article.Locator("a")).ToHaveTextAsync("internal/store/order_repo.go:65");
        Assert.Null(await article.Locator("a").GetAttributeAsync("href"));
        Assert.DoesNotContain("## ", await article.InnerTextAsync(), StringComparison.Ordinal);
        await b.Screenshot("incident", output);

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#pm-download"));
        Assert.Equal("postmortem-" + data.IncidentId.Replace(':', '_') + "-en.md", download.SuggestedFilename);
        string saved = Path.Combine(Browser.ScreenshotDir, download.SuggestedFilename);
        await download.SaveAsAsync(saved);
        Assert.Equal(await data.Http.GetStringAsync("/api/v1/incidents/" + Uri.EscapeDataString(data.IncidentId) + "/postmortem?lang=en"), await File.ReadAllTextAsync(saved));

        await page.ClickAsync("#pm-zh");
        await b.Ready("incident");
        await Expect(article.Locator("h1")).ToHaveTextAsync("事故复盘草稿: " + data.IncidentId);
        await Expect(article).ToContainTextAsync("受影响服务: " + Payload);
        await b.Screenshot("incident-zh", output);

        // The incident's dump and crash open from it.
        await detail.Locator("a[href^='#dump/']").ClickAsync();
        await b.Ready("dump");
        await Expect(page.Locator("#dump-detail .finding-contention")).ToHaveCountAsync(1);
        await page.GoBackAsync();
        await b.Ready("incident");
        await detail.Locator("a[href^='#crash/']").ClickAsync();
        await b.Ready("crash");
        await Expect(page.Locator("#crash-detail h3")).ToHaveTextAsync("custom_panic: " + Payload);
        await b.AssertInert();
    }
}
