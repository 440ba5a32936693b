using System.Text.Json;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Detection;

/// <summary>
/// Real Go 1.19 output with GODEBUG=tracebackancestors=10 (tools/corpus-gen/regen-detection.sh, scenario
/// ancestors): goroutine 8 (the handler, nil dereference of 01) was created by goroutine 6 (the acceptor), itself
/// created by main; goroutine 7 is a pool worker the acceptor started. Each goroutine's own "created by" comes
/// first, then one "[originating from goroutine N]:" section per creator with its own "created by".
/// </summary>
public sealed class TracebackAncestorsTests
{
    private const string Main = "/home/dev/src/shop/cmd/shopd/main.go";

    [Fact]
    public void Own_created_by_is_kept_and_ancestors_form_a_chain()
    {
        var events = Corpus.Analyze("go1.19-detection/traceback-ancestors.txt");
        var crash = Assert.IsType<CrashEvent>(Assert.Single(events));
        Assert.Equal(CrashCategory.NilPointerDereference, crash.Category);
        Assert.Equal(4, crash.GoroutineCount);
        Assert.Equal(new FrameRef("example.com/shop/internal/store.(*OrderRepo).FindByID", "/home/dev/src/shop/internal/store/order_repo.go", 65), crash.RootCause);
        // Ancestor frames never reach the crashing stack, so the fingerprint is 01's: same bug.
        Assert.Equal(Assert.Single(Corpus.Analyze("go1.19/01-nil-pointer-dereference.txt").OfType<CrashEvent>()).Fingerprint, crash.Fingerprint);

        var g = crash.CrashingGoroutine!;
        Assert.Equal(8, g.Id);
        Assert.Equal(("main.ancestors.func1", Main, 479), (g.CreatedBy!.Value.Function, g.CreatedBy.Value.File, g.CreatedBy.Value.Line));
        Assert.Equal("main.ancestors.func1.1", g.Frames[^1].Function);
        Assert.Equal([6, 1], g.Ancestors.Select(a => a.Id));
        Assert.Equal(["main.ancestors.func1"], g.Ancestors[0].Frames.Select(f => f.Function));
        Assert.Equal(("main.ancestors", 477), (g.Ancestors[0].CreatedBy!.Value.Function, g.Ancestors[0].CreatedBy!.Value.Line));
        Assert.Equal(["main.ancestors", "main.main"], g.Ancestors[1].Frames.Select(f => f.Function));
        Assert.Null(g.Ancestors[1].CreatedBy);

        var worker = crash.Buckets.Single(b => b.Ids.SequenceEqual([7L])).Representative;
        Assert.Equal("example.com/shop/internal/service.NewPool", worker.CreatedBy!.Value.Function);
        Assert.Equal("example.com/shop/internal/service.(*Pool).worker", Assert.Single(worker.Frames).Function);
        Assert.Equal([6, 1], worker.Ancestors.Select(a => a.Id));
        Assert.Equal(["example.com/shop/internal/service.NewPool", "main.ancestors.func1"], worker.Ancestors[0].Frames.Select(f => f.Function));
        Assert.Empty(crash.Buckets.Single(b => b.Ids.SequenceEqual([1L])).Representative.Ancestors);

        using var doc = JsonDocument.Parse(EventJson.Serialize(events));
        var json = doc.RootElement[0].GetProperty("crashing_goroutine");
        Assert.Equal("main.ancestors.func1", json.GetProperty("created_by").GetProperty("function").GetString());
        var chain = json.GetProperty("ancestors").EnumerateArray().ToList();
        Assert.Equal([6, 1], chain.Select(a => a.GetProperty("id").GetInt64()));
        Assert.Equal("main.ancestors", chain[0].GetProperty("created_by").GetProperty("function").GetString());
        Assert.Equal("main.ancestors.func1", chain[0].GetProperty("frames")[0].GetProperty("function").GetString());
        Assert.Equal(JsonValueKind.Null, chain[1].GetProperty("created_by").ValueKind);
    }
}
