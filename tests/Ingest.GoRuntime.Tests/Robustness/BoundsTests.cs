using System.Text;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Robustness;

/// <summary>Floods of repeated headers collapse; output cut anywhere inside a stack is flagged truncated.</summary>
public sealed class BoundsTests
{
    [Fact]
    public void A_flood_of_identical_one_goroutine_headers_is_one_event_with_a_count()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 200_000; i++) text.Append("goroutine 1 [running]:\n");
        var events = Corpus.AnalyzeText(text.ToString());
        var dump = Assert.IsType<GoroutineDumpEvent>(Assert.Single(events));
        Assert.Equal(200_000, dump.Repeats);
        Assert.Equal((1, 200_000), (dump.Line, dump.EndLine));
        Assert.Equal(200_000, dump.LineCount);
        Assert.Equal(1, dump.GoroutineCount);
    }

    [Fact]
    public void Repeated_stacks_collapse_only_back_to_back_and_only_when_identical()
    {
        // Complete stacks (they reach main.main), so an ordinary line after one ends it rather than interleaving.
        const string stack = "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x1d\n";
        const string other = "goroutine 1 [running]:\nmain.other()\n\t/src/main.go:12 +0x1d\nmain.main()\n\t/src/main.go:9 +0x1d\n";
        var events = Corpus.AnalyzeText(stack + stack + stack + "level=info msg=tick\n" + stack + other + other + stack);
        var dumps = events.Cast<GoroutineDumpEvent>().ToList();
        Assert.Equal([3, 1, 2, 1], dumps.Select(d => d.Repeats));
        Assert.Equal([1L, 11, 14, 24], dumps.Select(d => d.Line));
        Assert.Equal([9L, 13, 23, 26], dumps.Select(d => d.EndLine));
        Assert.All(dumps, d => Assert.False(d.Truncated));
    }

    [Fact]
    public void Short_lines_skip_the_recognisers_but_still_end_runs_and_preambles()
    {
        const string stack = "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x1d\n";
        // A short line ends a run of repeats as any other line does.
        var dumps = Corpus.AnalyzeText(stack + stack + "ok\n" + stack).Cast<GoroutineDumpEvent>().ToList();
        Assert.Equal([2, 1], dumps.Select(d => d.Repeats));
        Assert.Equal([1L, 8], dumps.Select(d => d.Line));
        // ...and a preamble: the fatal error after it starts at its own line, as after a long ordinary line.
        const string preamble = "runtime: goroutine stack exceeds 1000000000-byte limit\n";
        const string fatal = "fatal error: stack overflow\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x1d\n";
        foreach (string between in new[] { "x\n", "level=info msg=an-ordinary-line\n" })
        {
            var crash = Assert.IsType<CrashEvent>(Assert.Single(Corpus.AnalyzeText(preamble + between + fatal)));
            Assert.Equal(3, crash.Line);
            Assert.Empty(crash.Preamble);
        }
        Assert.Equal(1, Assert.IsType<CrashEvent>(Assert.Single(Corpus.AnalyzeText(preamble + fatal))).Line);
        // The shortest header there is, "panic: " with no value, is still one.
        var bare = Assert.IsType<CrashEvent>(Assert.Single(Corpus.AnalyzeText("ok\npanic: \n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:3 +0x1d\n")));
        Assert.Equal((2L, "panic"), (bare.Line, bare.Kind));
        Assert.Equal(Ingest.GoRuntime.Scanning.RuntimeOutputScanner.MinEventLineLength, "panic: ".Length);
    }

    [Fact]
    public void Identical_full_dumps_stay_separate_snapshots()
    {
        // Leak detection compares successive dumps: only one-goroutine repetitions collapse.
        const string dump = "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x1d\n\ngoroutine 7 [chan receive]:\nmain.worker()\n\t/src/main.go:20 +0x1d\n";
        var events = Corpus.AnalyzeText(dump + "\n" + dump + "\n" + dump);
        Assert.Equal([1, 1, 1], events.Cast<GoroutineDumpEvent>().Select(d => d.Repeats));
    }

    public static TheoryData<string, string, bool> Endings() => new()
    {
        { "complete", "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x1d\n", false },
        { "function line without its file line", "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x1d\n\ngoroutine 7 [chan receive]:\nmain.worker(0xc000012345)\n", true },
        { "created by without its location", "goroutine 7 [chan receive]:\nmain.worker()\n\t/src/main.go:20 +0x1d\ncreated by main.main\n", true },
        { "header without a frame", "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x1d\n\ngoroutine 7 [chan receive]:\n", true },
        { "crash cut mid-frame", "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n", true },
        { "crash complete", "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:3 +0x1d\nexit status 2\n", false },
        { "stack unavailable", "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x1d\n\ngoroutine 7 [running]:\n\tgoroutine running on other thread; stack unavailable\n", false },
    };

    [Theory]
    [MemberData(nameof(Endings))]
    public void Output_cut_before_a_frame_is_complete_is_flagged_truncated(string name, string text, bool truncated)
    {
        var e = Assert.IsAssignableFrom<MultiLineEvent>(Assert.Single(Corpus.AnalyzeText(text)));
        Assert.Equal((name, truncated), (name, e.Truncated));
    }

    [Fact]
    public void A_line_cut_by_the_line_cap_flags_its_event()
    {
        var options = new AnalyzerOptions { MaxLineBytes = 1024 };
        string longFrame = "main.main(" + new string('a', 4000) + ")";
        var crash = Assert.IsType<CrashEvent>(Assert.Single(Corpus.AnalyzeText($"panic: boom\n\ngoroutine 1 [running]:\n{longFrame}\n\t/src/main.go:3 +0x1d\n", options)));
        Assert.True(crash.Truncated);
        var whole = Assert.IsType<CrashEvent>(Assert.Single(Corpus.AnalyzeText("panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:3 +0x1d\n", options)));
        Assert.False(whole.Truncated);
    }
}
