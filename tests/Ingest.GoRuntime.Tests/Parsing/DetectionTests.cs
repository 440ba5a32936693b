using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Parsing;

/// <summary>What starts an event and what must not.</summary>
public sealed class DetectionTests
{
    [Theory]
    [InlineData("level=info msg=\"recovered from panic: timeout\"")]
    [InlineData("{\"level\":\"error\",\"msg\":\"panic: something\"}")]
    [InlineData("2024-05-01 worker said: fatal error: disk full")]
    [InlineData("the goroutine 5 [running]: was slow")]
    [InlineData("[INFO] started")]
    [InlineData("[app:unknown:3f2b6c1e-8a7d-4c59-9e1f-2b7d9c0a1e55] not a tag")]
    [InlineData("[app:read:not-a-uuid] not a tag")]
    [InlineData("gc is fine")]
    public void Ordinary_lines_that_mention_panics_are_not_events(string line)
    {
        var events = Corpus.AnalyzeText(line + "\nlevel=info msg=next\n");
        Assert.Empty(events);
    }

    [Fact]
    public void Http_panic_serving_after_a_log_prefix_is_a_recovered_crash()
    {
        string text = """
            2024/05/01 10:00:00 http: panic serving 10.0.0.1:1234: assignment to entry in nil map
            goroutine 5 [running]:
            net/http.(*conn).serve.func1()
            	/usr/lib/go-1.19/src/net/http/server.go:1850 +0xbf
            panic({0x6a8a40, 0x7a41d0})
            	/usr/lib/go-1.19/src/runtime/panic.go:890 +0x262
            example.com/shop/internal/api.(*Handler).SaveOrder(0xc0000a4100)
            	/home/dev/src/shop/internal/api/handler.go:91 +0x1a
            net/http.HandlerFunc.ServeHTTP(0x0?, {0x7b2e28?, 0xc0001c20e0?}, 0x0?)
            	/usr/lib/go-1.19/src/net/http/server.go:2109 +0x2f
            created by net/http.(*Server).Serve
            	/usr/lib/go-1.19/src/net/http/server.go:3102 +0x4db
            2024/05/01 10:00:01 request served
            """;
        var crash = Assert.Single(Corpus.AnalyzeText(text).OfType<CrashEvent>());
        Assert.Equal(CrashCategory.NilMapAssignment, crash.Category);
        Assert.True(crash.Recovered);
        Assert.Equal("10.0.0.1:1234", crash.RemoteAddr);
        Assert.Equal("example.com/shop/internal/api.(*Handler).SaveOrder", crash.RootCause!.Function);
        Assert.Equal(12, crash.EndLine);
    }

    [Fact]
    public void Tagged_lines_are_read_and_their_frame_ids_follow_the_crash()
    {
        string text = """
            2024-05-01T10:00:00.120Z [app:read:3f2b6c1e-8a7d-4c59-9e1f-2b7d9c0a1e55] GET /orders/42
            2024-05-01T10:00:00.121Z [INFO] plain line
            2024-05-01T10:00:00.123Z [dao:read:AAAAAAAA-8a7d-4c59-9e1f-2b7d9c0a1e56] loading order 42
            panic: runtime error: invalid memory address or nil pointer dereference
            [signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x465f22]

            goroutine 1 [running]:
            main.main()
            	/home/dev/src/shop/main.go:9 +0x1d
            exit status 2
            """;
        var events = Corpus.AnalyzeText(text);
        var tags = events.OfType<TaggedLogEvent>().ToList();
        Assert.Equal(2, tags.Count);
        Assert.Equal(("app", "read", false), (tags[0].Layer, tags[0].Intent, tags[0].Inferred));
        Assert.Equal("GET /orders/42", tags[0].Message);
        Assert.Equal("2024-05-01T10:00:00.120Z", tags[0].Timestamp);
        var crash = Assert.Single(events.OfType<CrashEvent>());
        Assert.Equal(["3f2b6c1e-8a7d-4c59-9e1f-2b7d9c0a1e55", "aaaaaaaa-8a7d-4c59-9e1f-2b7d9c0a1e56"], crash.FrameIds);
        Assert.Equal(new SignalInfo("SIGSEGV", "0x1", "0x0", "0x465f22"), crash.Signal);
        Assert.Equal(2, crash.ExitStatus);
    }

    [Fact]
    public void Constructed_go125_shapes_are_read()
    {
        // Constructed input (see Corpus/constructed/README.md): Go 1.21+ headers and markers.
        var crash = Assert.Single(Corpus.Analyze("constructed/go125-repanicked-gp-header.txt").OfType<CrashEvent>());
        Assert.Equal(["order 42 not found"], crash.Panics);
        Assert.Equal(5, crash.GoroutineCount);
        Assert.Equal(18, crash.CrashingGoroutine!.Id);
        Assert.Equal(1, crash.CrashingGoroutine.CreatedByGoroutine);
        Assert.Equal("net/http.(*Server).Serve", crash.CrashingGoroutine.CreatedBy!.Value.Function);
        Assert.Equal(3, crash.CrashingGoroutine.M);
        Assert.Equal("example.com/shop/internal/store.(*OrderRepo).FindByID", crash.RootCause!.Function);
        Assert.Equal(33, crash.RootCause.Line);
        Assert.Equal(["example.com/shop"], crash.Modules);
        var deep = crash.Buckets.Single(b => b.Representative.Id == 40).Representative;
        Assert.True(deep.FramesElided);
        Assert.Equal(2, deep.Frames.Length);
        Assert.True(crash.Buckets.Single(b => b.Representative.Id == 41).Representative.StackUnavailable);
        Assert.Equal(12, crash.Buckets.Single(b => b.State == "sync.Mutex.Lock").MaxWaitMinutes);
        Assert.Equal(2, crash.ExitStatus);
        Assert.Equal(50, crash.EndLine);
    }

    [Fact]
    public void Multi_line_panic_values_are_kept_whole()
    {
        var crash = Assert.Single(Corpus.Analyze("shared/go119-extra/17-multiline-panic-message.txt").OfType<CrashEvent>());
        Assert.Contains("\n", crash.Message, StringComparison.Ordinal);
        Assert.StartsWith("open /etc/app.yaml:", crash.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Interleaved_streams_in_one_file_are_separate_events()
    {
        // Two crashes back to back, a log line between: two events, each with its own lines.
        var events = Corpus.Analyze("shared/panicparse/29-two-snapshots-stream.txt");
        Assert.Equal(2, events.OfType<CrashEvent>().Count());
    }
}
