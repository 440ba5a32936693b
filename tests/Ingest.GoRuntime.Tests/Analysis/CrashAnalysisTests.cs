using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Analysis;

public sealed class CrashAnalysisTests
{
    [Fact]
    public void Every_crash_in_the_go119_stream_gets_its_category()
    {
        // go119-misc/panics_go1.19.8.txt: one Go 1.19 program crashed many ways, one after another in one stream.
        var crashes = Corpus.Analyze("shared/go119-misc/panics_go1.19.8.txt").OfType<CrashEvent>().ToList();
        string[] expected =
        [
            CrashCategory.IndexOutOfRange, CrashCategory.NilPointerDereference, CrashCategory.SliceBoundsOutOfRange,
            CrashCategory.SliceBoundsOutOfRange, CrashCategory.IntegerDivideByZero, CrashCategory.TypeAssertion,
            CrashCategory.TypeAssertion, CrashCategory.ClosedChannel, CrashCategory.ClosedChannel, CrashCategory.ClosedChannel,
            CrashCategory.NilMapAssignment, CrashCategory.NegativeWaitGroup, CrashCategory.UnlockOfUnlockedMutex,
            CrashCategory.UnlockOfUnlockedMutex, CrashCategory.Deadlock, CrashCategory.Deadlock, CrashCategory.CustomPanic,
            CrashCategory.Deadlock, CrashCategory.Deadlock, CrashCategory.Other, CrashCategory.Other,
        ];
        Assert.Equal(expected, crashes.Select(c => c.Category));
        Assert.All(crashes.Where(c => c.Kind == CrashKinds.Fatal), c => Assert.False(c.Recoverable));
        Assert.All(crashes.Where(c => c.Kind == CrashKinds.Panic), c => Assert.True(c.Recoverable));
        // A fatal error's message is one line: the next "=== " header must not be swallowed.
        Assert.Equal("no goroutines (main called runtime.Goexit) - deadlock!", crashes[17].Message);
    }

    [Theory]
    [InlineData("shared/go119-extra/08-concurrent-map-writes.txt", CrashCategory.ConcurrentMapAccess, false)]
    [InlineData("shared/go119-extra/09-stack-overflow-runtime-stack.txt", CrashCategory.StackOverflow, false)]
    [InlineData("shared/go119-extra/15-cgo-sigsegv.txt", CrashCategory.Cgo, false)]
    [InlineData("shared/go119-misc/oom.txt", CrashCategory.OutOfMemory, false)]
    [InlineData("shared/go119-extra/01-nil-deref-sigsegv.txt", CrashCategory.NilPointerDereference, true)]
    [InlineData("shared/go119-extra/18-go-test-timeout.txt", CrashCategory.TestTimeout, true)]
    [InlineData("shared/panicparse/25-gen-race-live.txt", CrashCategory.DataRace, false)]
    public void Fatal_and_signal_crashes_are_classified(string file, string category, bool recoverable)
    {
        var crash = Corpus.Analyze(file).OfType<CrashEvent>().First();
        Assert.Equal(category, crash.Category);
        Assert.Equal(recoverable, crash.Recoverable);
    }

    [Fact]
    public void Stack_overflow_keeps_its_preamble_and_runtime_stack()
    {
        var crash = Corpus.Analyze("shared/go119-extra/09-stack-overflow-runtime-stack.txt").OfType<CrashEvent>().Single();
        Assert.Equal(1, crash.Line);
        Assert.StartsWith("runtime: goroutine stack exceeds", crash.Preamble[0], StringComparison.Ordinal);
        Assert.Equal(["runtime.throw", "runtime.newstack", "runtime.morestack"], crash.RuntimeStack.Select(f => f.Function));
        Assert.True(crash.CrashingGoroutine!.FramesElided);
        Assert.Equal("main.recurse", crash.RootCause!.Function);
    }

    [Fact]
    public void Root_cause_skips_runtime_and_cgo_glue()
    {
        var crash = Corpus.Analyze("shared/go119-extra/15-cgo-sigsegv.txt").OfType<CrashEvent>().Single();
        Assert.Equal("main.callC", crash.RootCause!.Function);
        Assert.Equal("SIGSEGV", crash.Signal!.Name);
    }

    [Fact]
    public void Root_cause_skips_vendored_and_module_cache_frames()
    {
        var frames = new[]
        {
            Frame("github.com/acme/orm.(*Row).Scan", "/home/dev/src/shop/vendor/github.com/acme/orm/row.go"),
            Frame("github.com/lib/pq.(*conn).query", "/home/dev/go/pkg/mod/github.com/lib/pq@v1.10.9/conn.go"),
            Frame("example.com/shop/internal/store.(*OrderRepo).FindByID", "/home/dev/src/shop/internal/store/orders.go"),
            Frame("main.main", "/home/dev/src/shop/cmd/server/main.go"),
        };
        var own = CodeOwnership.Infer(frames, null);
        Assert.Equal(["example.com/shop"], own.Modules);
        Assert.Equal([false, false, true, true], frames.Select(f => own.IsInApp(f)));
    }

    [Fact]
    public void Module_inference_works_for_trimpath_builds()
    {
        var frames = new[]
        {
            Frame("example.com/shop/internal/store.(*OrderRepo).FindByID", "example.com/shop/internal/store/orders.go"),
            Frame("github.com/acme/orm.(*Row).Scan", "github.com/acme/orm@v1.2.0/row.go"),
            Frame("main.main", "example.com/shop/cmd/server/main.go"),
        };
        var own = CodeOwnership.Infer(frames, null);
        Assert.Equal(["example.com/shop"], own.Modules);
        Assert.Equal([true, false, true], frames.Select(f => own.IsInApp(f)));
    }

    [Fact]
    public void Configured_modules_win_over_inference()
    {
        var own = CodeOwnership.Infer([Frame("example.com/lib/x.F", "/src/lib/x/x.go"), Frame("example.com/shop/y.G", "/src/shop/y/y.go")], ["example.com/shop"]);
        Assert.False(own.IsInApp(Frame("example.com/lib/x.F", "/src/lib/x/x.go")));
        Assert.True(own.IsInApp(Frame("example.com/shop/y.G", "/src/shop/y/y.go")));
    }

    [Theory]
    [InlineData("runtime error: index out of range [5] with length 3", "runtime error: index out of range [N] with length N")]
    [InlineData("order 42 not found at 0xc000123abc", "order N not found at 0x?")]
    [InlineData("user 3f2b6c1e-8a7d-4c59-9e1f-2b7d9c0a1e55 missing", "user N-N-N-N-N missing")]
    [InlineData("go1.19 is old", "go1.N is old")]
    public void Messages_are_normalised_for_fingerprints(string message, string normalised) =>
        Assert.Equal(normalised, Fingerprinter.NormalizeMessage(message));

    [Fact]
    public void Same_bug_different_host_build_and_ids_has_one_fingerprint()
    {
        string a = CrashText("/home/dev/src/shop", goroutine: 1, addr: "0xc000012345", line: 33, value: "order 42 missing");
        string b = CrashText("/srv/build/shop", goroutine: 57, addr: "0xc0009abcde", line: 35, value: "order 7 missing");
        string c = CrashText("example.com/shop", goroutine: 3, addr: "0xc000000010", line: 33, value: "order 42 missing", trimpath: true);
        string fa = Corpus.AnalyzeText(a).OfType<CrashEvent>().Single().Fingerprint;
        Assert.Equal(fa, Corpus.AnalyzeText(b).OfType<CrashEvent>().Single().Fingerprint);
        Assert.Equal(fa, Corpus.AnalyzeText(c).OfType<CrashEvent>().Single().Fingerprint);
        Assert.Matches("^[0-9a-f]{32}$", fa);
    }

    [Fact]
    public void Different_bugs_have_different_fingerprints()
    {
        string baseline = Corpus.AnalyzeText(CrashText("/home/dev/src/shop", 1, "0x1", 33, "order 42 missing")).OfType<CrashEvent>().Single().Fingerprint;
        string otherMessage = Corpus.AnalyzeText(CrashText("/home/dev/src/shop", 1, "0x1", 33, "payment declined")).OfType<CrashEvent>().Single().Fingerprint;
        string otherFunction = Corpus.AnalyzeText(CrashText("/home/dev/src/shop", 1, "0x1", 33, "order 42 missing", function: "FindByName")).OfType<CrashEvent>().Single().Fingerprint;
        string otherCategory = Corpus.AnalyzeText(CrashText("/home/dev/src/shop", 1, "0x1", 33, "runtime error: index out of range [1] with length 0")).OfType<CrashEvent>().Single().Fingerprint;
        Assert.Equal(4, new[] { baseline, otherMessage, otherFunction, otherCategory }.Distinct().Count());
    }

    [Fact]
    public void Every_crash_of_the_shared_corpus_has_a_fingerprint_and_distinct_bugs_differ()
    {
        var crashes = Corpus.Files("shared/go119-extra").SelectMany(f => Corpus.Analyze(f).OfType<CrashEvent>()).ToList();
        Assert.All(crashes, c => Assert.Matches("^[0-9a-f]{32}$", c.Fingerprint));
        // 10-generics and 16-trimpath-generics are the same bug built two ways; every other file is a different bug.
        var groups = crashes.GroupBy(c => c.Fingerprint).Where(g => g.Count() > 1).Select(g => string.Join(",", g.Select(c => Path.GetFileName(c.Stream)).Order())).ToList();
        Assert.Equal(["10-generics.txt,16-trimpath-generics.txt"], groups);
    }

    private static StackFrame Frame(string function, string file) => new(function, -1, file, 1, 0, FrameFlags.None, null);

    private static string CrashText(string root, int goroutine, string addr, int line, string value, bool trimpath = false, string function = "FindByID")
    {
        string store = trimpath ? $"{root}/internal/store/orders.go" : $"{root}/internal/store/orders.go";
        string goroot = trimpath ? "runtime" : "/usr/local/go/src/runtime";
        return $"""
            panic: {value}

            goroutine {goroutine} [running]:
            panic({addr}, {addr})
            	{goroot}/panic.go:884 +0x212
            example.com/shop/internal/store.(*OrderRepo).{function}({addr}, 0x2a)
            	{store}:{line} +0x1a5
            example.com/shop/internal/api.(*Handler).GetOrder({addr})
            	{root}/internal/api/handler.go:{line + 40} +0x88
            main.main()
            	{root}/cmd/server/main.go:12 +0x1d
            exit status 2
            """;
    }
}

public sealed class FrameSemanticsOrderTests
{
    [Theory]
    [InlineData("example.com/shop/internal/servicestore.(*S).GetPrice")]
    [InlineData("example.com/shop/internal/store.(*Store).PriceOf")]
    [InlineData("example.com/shop/api/httpcache.Handler")]
    [InlineData("example.com/shop/app.Run")]
    [InlineData("example.com/shop/internal/repository.(*R).SelectSettings")]
    public void Labels_do_not_depend_on_the_order_of_the_tables(string function)
    {
        var defaults = new Ingest.GoRuntime.Analysis.FrameSemanticsOptions();
        var reversed = new Ingest.GoRuntime.Analysis.FrameSemanticsOptions
        {
            Layers = new(defaults.Layers.Reverse(), StringComparer.OrdinalIgnoreCase),
            Intents = new(defaults.Intents.Reverse(), StringComparer.OrdinalIgnoreCase),
        };
        Assert.Equal(new Ingest.GoRuntime.Analysis.FrameSemantics(defaults).Classify(function), new Ingest.GoRuntime.Analysis.FrameSemantics(reversed).Classify(function));
    }
}
