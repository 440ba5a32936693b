using static Microsoft.Playwright.Assertions;

namespace Ingest.Dashboard.Tests;

/// <summary>A worker that has seen nothing yet: every view says what to send, and what arrives later is announced.</summary>
public sealed class DashboardEmptyStateTests(ServedDashboard worker, ITestOutputHelper output) : IClassFixture<ServedDashboard>
{
    [Theory]
    [InlineData("crashes", "#crashes-empty", "No crashes in this range", "panic: boom")]
    [InlineData("dumps", "#dumps-empty", "No goroutine dumps yet", "kill -QUIT")]
    [InlineData("leaks", "#leaks", "No leak suspects", "debug/pprof/goroutine?debug=2")]
    [InlineData("gc", "#gc-empty", "No GC cycles yet", "GODEBUG=gctrace=1")]
    [InlineData("incidents", "#incidents", "No incidents yet", "panic: boom")]
    [InlineData("graph", "#graph-empty", "No dependency graph yet", "otlp_spans")]
    public async Task An_empty_view_says_what_to_send(string view, string box, string message, string send)
    {
        await using var b = await Browser.Launch();
        await b.Open(worker.Base, "#" + view, view);
        var empty = b.Page.Locator(box + " .empty");
        await Expect(empty).ToContainTextAsync(message);
        await Expect(empty).ToContainTextAsync(send);
        await b.Screenshot("empty-" + view, output);
        await b.AssertInert();
    }

    [Fact]
    public async Task Crashes_stored_after_the_page_was_drawn_are_announced_not_silently_shown()
    {
        await using var b = await Browser.Launch();
        var page = b.Page;
        await b.Open(worker.Base, "#crashes?service=late", "crashes");
        await Expect(page.Locator("#crashes-empty .empty")).ToBeVisibleAsync();
        await Expect(page.Locator("#new-items")).ToBeHiddenAsync();

        worker.Produce("late-pod", (await File.ReadAllTextAsync(ServedDashboard.Corpus("01-nil-pointer-dereference.txt"))).TrimEnd('\n').Split('\n'),
            new Dictionary<string, string> { ["service"] = "late", ["host"] = "late-host" });
        var banner = page.Locator("#new-items");
        await Expect(banner).ToHaveTextAsync("1 new since you looked — show");
        await Expect(page.Locator("#crashes tbody tr")).ToHaveCountAsync(0);
        await b.Screenshot("new-since-you-looked", output);
        await banner.ClickAsync();
        await Expect(page.Locator("#crashes tbody tr")).ToHaveCountAsync(1);
        await Expect(banner).ToBeHiddenAsync();
        await b.AssertInert();
    }
}
