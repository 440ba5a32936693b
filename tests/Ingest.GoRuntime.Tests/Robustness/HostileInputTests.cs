using System.Text;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;
using Ingest.Pipeline.Analysis;

namespace Ingest.GoRuntime.Tests.Robustness;

/// <summary>
/// Log text is attacker-controlled. Truncated, mutated, binary and enormous inputs must never throw, hang,
/// or allocate without bound. Seeds are fixed so a failure reproduces.
/// </summary>
public sealed class HostileInputTests
{
    public static TheoryData<string> CorpusFiles()
    {
        var data = new TheoryData<string>();
        foreach (string f in Corpus.Files("shared/panicparse").Concat(Corpus.Files("shared/go119-extra")).Concat(Corpus.Files("shared/go119-misc"))
                     .Concat(Corpus.Files("constructed")).Concat(Corpus.Files("go1.19")))
        {
            data.Add(f);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Random_truncations_and_mutations_never_throw(string file)
    {
        byte[] original = File.ReadAllBytes(Corpus.PathOf(file));
        var rng = new Random(file.GetHashCode(StringComparison.Ordinal) & 0x7fff);
        for (int round = 0; round < 25; round++)
        {
            byte[] input = round % 2 == 0 ? original[..rng.Next(original.Length + 1)] : Mutate(original, rng);
            var events = Run(input, new AnalyzerOptions());
            int lines = input.Count(b => b == (byte)'\n') + 1;
            Assert.True(events.Count <= lines, $"{events.Count} events from {lines} lines");
            _ = EventJson.Serialize(events); // every event must also serialise
        }
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Events_do_not_depend_on_how_reads_split_the_input(string file)
    {
        byte[] data = File.ReadAllBytes(Corpus.PathOf(file));
        string whole = EventJson.Serialize(Run(data, new AnalyzerOptions()));
        foreach (int chunk in new[] { 1, 2, 3, 7, 64 })
        {
            var events = new List<RuntimeEvent>();
            StreamAnalyzer.Analyze(new TrickleStream(data, chunk), "fuzz", new AnalyzerOptions(), events.Add);
            Assert.Equal(whole, EventJson.Serialize(events));
        }
    }

    [Fact]
    public void Binary_garbage_is_survived_with_bounded_allocation()
    {
        var rng = new Random(42);
        byte[] garbage = new byte[4 * 1024 * 1024];
        rng.NextBytes(garbage);
        Run(garbage[..1024], new AnalyzerOptions()); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        var events = Run(garbage, new AnalyzerOptions());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Empty(events);
        Assert.True(allocated < 4L * garbage.Length, $"allocated {allocated} bytes for {garbage.Length} bytes of garbage");
    }

    [Fact]
    public void A_one_megabyte_line_is_cut_and_the_crash_after_it_is_still_found()
    {
        var sb = new StringBuilder();
        sb.Append('x', 1024 * 1024).Append('\n');
        sb.Append("panic: ").Append('v', 1024 * 1024).Append('\n');
        sb.Append("\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:3 +0x1d\n");
        var options = new AnalyzerOptions();
        var crash = Assert.Single(Corpus.AnalyzeText(sb.ToString(), options).OfType<CrashEvent>());
        Assert.True(crash.Message.Length <= options.MaxLineBytes);
        Assert.Equal("main.main", crash.RootCause!.Function);
        Assert.Equal(2, crash.Line);
    }

    [Fact]
    public void Pathological_lines_are_linear()
    {
        // Backtracking parsers die on these; ours scan each byte a bounded number of times.
        string[] lines =
        [
            new string('(', 200_000) + ")",
            "goroutine " + new string('1', 200_000) + " [running]:",
            "goroutine 1 [" + string.Concat(Enumerable.Repeat("a, ", 60_000)) + "]:",
            "gc 1 @" + new string('9', 100_000) + "s",
            "[" + string.Concat(Enumerable.Repeat("app:", 50_000)) + "]",
            "\t" + string.Concat(Enumerable.Repeat("/a:1", 50_000)),
            "http: panic serving " + new string(':', 100_000),
        ];
        var events = Corpus.AnalyzeText(string.Join("\n", lines), new AnalyzerOptions { MaxLineBytes = 1024 * 1024 });
        Assert.DoesNotContain(events, e => e is CrashEvent { GoroutineCount: > 0 });
    }

    [Fact]
    public void A_dump_that_never_ends_is_capped_and_marked_truncated()
    {
        var sb = new StringBuilder();
        for (int i = 1; i <= 5000; i++) sb.Append("goroutine ").Append(i).Append(" [select]:\nmain.loop()\n\t/src/main.go:9 +0x1\n\n");
        var options = new AnalyzerOptions { MaxEventLines = 1000 };
        var dumps = Corpus.AnalyzeText(sb.ToString(), options).OfType<GoroutineDumpEvent>().ToList();
        Assert.True(dumps[0].Truncated);
        Assert.True(dumps[0].LineCount <= 1000);
        Assert.Equal(5000, dumps.Sum(d => d.GoroutineCount));
    }

    [Fact]
    public void Raw_text_retention_is_bounded_but_the_hash_covers_everything()
    {
        var sb = new StringBuilder("panic: boom\n\ngoroutine 1 [running]:\n");
        for (int i = 0; i < 2000; i++) sb.Append("main.f").Append(i).Append("()\n\t/src/main.go:").Append(i + 1).Append(" +0x1\n");
        var options = new AnalyzerOptions { RawTextLimitBytes = 4096 };
        var crash = Assert.Single(Corpus.AnalyzeText(sb.ToString(), options).OfType<CrashEvent>());
        Assert.True(crash.RawTextTruncated);
        Assert.True(crash.RawText.Length <= 4096);
        Assert.Equal(2000, crash.CrashingGoroutine!.Frames.Length);
        var full = Corpus.AnalyzeText(sb.ToString()).OfType<CrashEvent>().Single();
        Assert.Equal(full.RawTextHash, crash.RawTextHash);
        Assert.Equal("xxh128:" + Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash(Encoding.UTF8.GetBytes(full.RawText))), full.RawTextHash);
    }

    private static List<RuntimeEvent> Run(byte[] input, AnalyzerOptions options)
    {
        var events = new List<RuntimeEvent>();
        using var ms = new MemoryStream(input);
        StreamAnalyzer.Analyze(ms, "fuzz", options, events.Add);
        return events;
    }

    private static byte[] Mutate(byte[] original, Random rng)
    {
        var list = new List<byte>(original);
        int edits = 1 + rng.Next(20);
        for (int i = 0; i < edits && list.Count > 0; i++)
        {
            int at = rng.Next(list.Count);
            switch (rng.Next(5))
            {
                case 0: list[at] = (byte)rng.Next(256); break;
                case 1: list.RemoveRange(at, Math.Min(rng.Next(64), list.Count - at)); break;
                case 2: list.InsertRange(at, Encoding.UTF8.GetBytes(Pick(rng))); break;
                case 3: list.Insert(at, (byte)'\n'); break;
                default:
                    // Duplicate a slice: repeated headers and frames.
                    int len = Math.Min(rng.Next(400), list.Count - at);
                    list.InsertRange(rng.Next(list.Count), list.GetRange(at, len));
                    break;
            }
        }
        return [.. list];
    }

    private static string Pick(Random rng) => rng.Next(8) switch
    {
        0 => "\npanic: ",
        1 => "\ngoroutine 1 [running]:\n",
        2 => "\nfatal error: ",
        3 => "\n\t/x.go:",
        4 => "\ncreated by ",
        5 => "\nSIGQUIT: quit\n",
        6 => "\xff\xfe\0",
        _ => "\n",
    };
}
