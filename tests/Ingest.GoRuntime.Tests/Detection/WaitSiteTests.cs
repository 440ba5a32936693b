using System.Text.Json;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Detection;

/// <summary>Buckets and findings say where goroutines wait in the service's code, not runtime.gopark.</summary>
public sealed class WaitSiteTests
{
    [Fact]
    public void Every_bucket_of_a_sigquit_dump_has_its_wait_site_in_json()
    {
        var events = Corpus.Analyze("go1.19/26-sigquit-dump.txt");
        var dump = Assert.Single(events.OfType<GoroutineDumpEvent>());
        Assert.All(dump.Buckets, b => Assert.NotNull(b.WaitSite));
        var mutex = dump.Buckets[0];
        Assert.Equal("runtime.gopark", mutex.TopFunction);
        Assert.Equal(new FrameRef("example.com/shop/internal/store.(*Cache).Get", "/home/dev/src/shop/internal/store/cache.go", 25), mutex.WaitSite);
        // Runtime-only goroutines fall back to their first frame; a stack outside the service to its first frame outside the runtime.
        Assert.Equal("runtime.gopark", dump.Buckets.Single(b => b.State == "force gc (idle)").WaitSite!.Function);
        Assert.Equal("net.(*netFD).Read", dump.Buckets.Single(b => b.State == "IO wait" && b.WaitSite!.Function.StartsWith("net.", StringComparison.Ordinal)).WaitSite!.Function);

        using var doc = JsonDocument.Parse(EventJson.Serialize(events.Where(e => e is GoroutineDumpEvent)));
        var buckets = doc.RootElement[0].GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal(dump.Buckets.Count, buckets.Count);
        var site = buckets[0].GetProperty("wait_site");
        Assert.Equal("example.com/shop/internal/store.(*Cache).Get", site.GetProperty("function").GetString());
        Assert.Equal("/home/dev/src/shop/internal/store/cache.go", site.GetProperty("file").GetString());
        Assert.Equal(25, site.GetProperty("line").GetInt32());
        Assert.All(buckets, b => Assert.Equal(JsonValueKind.Object, b.GetProperty("wait_site").ValueKind));
    }

    [Fact]
    public void Long_waits_and_deadlocks_name_the_wait_site()
    {
        var dump = Assert.Single(Corpus.Analyze("constructed/contention-holder.txt").OfType<GoroutineDumpEvent>());
        var longWait = dump.Findings.Single(f => f.Kind == "long_wait");
        Assert.Equal("example.com/shop/internal/store.(*Cache).Get", longWait.WaitSite!.Function);
        Assert.Equal(longWait.WaitSite.Function, longWait.Caller);
        Assert.EndsWith($"at example.com/shop/internal/store.(*Cache).Get:{longWait.WaitSite.Line}", longWait.Summary, StringComparison.Ordinal);

        var crash = Assert.Single(Corpus.Analyze("go1.19/13-deadlock.txt").OfType<CrashEvent>());
        var deadlock = crash.Findings.Single(f => f.Kind == "deadlock");
        Assert.Contains("at example.com/shop/internal/service.(*Batch).Wait:", deadlock.Summary, StringComparison.Ordinal);
    }
}
