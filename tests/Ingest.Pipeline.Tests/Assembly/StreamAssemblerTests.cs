using System.Text;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Model;

using Ingest.Pipeline.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ingest.Pipeline.Tests.Assembly;

public sealed class StreamAssemblerTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);

    private static LogRecord Line(string source, string text, long offset, DateTimeOffset messageTime, int partition = 0) =>
        new(new StreamKey("logs", partition, source), Encoding.UTF8.GetBytes(text), offset, 0, messageTime, new SourceMetadata { Pod = source }, messageTime);

    [Fact]
    public void Interleaved_streams_never_mix()
    {
        var events = new List<IndexedEvent>();
        var a = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions(), new FakeTimeProvider(), events.Add);
        string[] crash = ["panic: boom", "", "goroutine 1 [running]:", "main.main()", "\t/src/main.go:3 +0x1d"];
        string[] other = ["panic: other", "", "goroutine 9 [running]:", "main.other()", "\t/src/other.go:7 +0x1d"];
        long offset = 0;
        for (int i = 0; i < crash.Length; i++)
        {
            a.Push(Line("pod-a", crash[i], offset++, T0));
            a.Push(Line("pod-b", other[i], offset++, T0));
        }
        a.FlushAll();
        var crashes = events.Select(e => (e.Stream.Source, Crash: (CrashEvent)e.Event)).OrderBy(x => x.Source).ToList();
        Assert.Equal(2, crashes.Count);
        Assert.Equal(("pod-a", "boom", "main.main"), (crashes[0].Source, crashes[0].Crash.Message, crashes[0].Crash.RootCause!.Function));
        Assert.Equal(("pod-b", "other", "main.other"), (crashes[1].Source, crashes[1].Crash.Message, crashes[1].Crash.RootCause!.Function));
        Assert.Equal("crash:logs:0:0:0", events.Single(e => e.Stream.Source == "pod-a").Id);
        Assert.Equal(0, events.Single(e => e.Stream.Source == "pod-a").FirstOffset);
    }

    [Fact]
    public void A_stream_is_idle_by_its_partitions_message_clock_even_when_read_fast()
    {
        var events = new List<IndexedEvent>();
        var time = new FakeTimeProvider();
        var a = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions { IdleFlush = TimeSpan.FromSeconds(1) }, time, events.Add);
        a.Push(Line("pod-a", "goroutine 1 [select]:", 0, T0));
        a.Push(Line("pod-a", "main.loop()", 1, T0));
        a.Push(Line("pod-a", "\t/src/main.go:9 +0x1", 2, T0));
        // Another stream of the same partition, written 2 s later: pod-a's dump was over by then.
        a.Push(Line("pod-b", "level=info msg=later", 3, T0.AddSeconds(2)));
        time.Advance(TimeSpan.FromMilliseconds(200)); // a backlog is read fast: little wall time passes
        a.FlushExpired(caughtUp: (_, _) => false);
        Assert.Single(events.Select(e => e.Event).OfType<GoroutineDumpEvent>());
    }

    [Fact]
    public void A_stream_is_not_cut_while_the_consumer_stalls_behind_the_log_end()
    {
        var events = new List<IndexedEvent>();
        var time = new FakeTimeProvider();
        var a = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions { IdleFlush = TimeSpan.FromSeconds(1) }, time, events.Add);
        a.Push(Line("pod-a", "goroutine 1 [select]:", 0, T0));
        a.Push(Line("pod-a", "main.loop()", 1, T0));
        time.Advance(TimeSpan.FromMilliseconds(10_000)); // ten seconds of wall time, e.g. a rebalance, with more to read
        a.FlushExpired(caughtUp: (_, _) => false);
        Assert.Empty(events);
        time.Advance(TimeSpan.FromMilliseconds(200)); // sweeps run at most ten times per idle period
        a.FlushExpired(caughtUp: (_, _) => true); // read to the end and still quiet: complete
        Assert.Single(events);
    }

    [Fact]
    public void Lines_below_a_resume_watermark_are_skipped()
    {
        var events = new List<IndexedEvent>();
        var a = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions(), new FakeTimeProvider(), events.Add);
        // pod-a's crash ending at offset 4 is already stored: re-reading from offset 2 must not start a partial one.
        a.SetWatermarks("logs", 0, new Dictionary<string, long> { ["pod-a"] = new LogRecord(default, default, 4, 0, T0, SourceMetadata.Empty, T0).Position });
        a.Push(Line("pod-a", "goroutine 1 [running]:", 2, T0));
        a.Push(Line("pod-a", "main.main()", 3, T0));
        a.Push(Line("pod-a", "\t/src/main.go:3 +0x1d", 4, T0));
        a.Push(Line("pod-a", "panic: next", 5, T0));
        a.FlushAll();
        Assert.Equal(3, a.SkippedLines);
        var crash = Assert.IsType<CrashEvent>(Assert.Single(events).Event);
        Assert.Equal("next", crash.Message);
    }

    [Fact]
    public void Past_the_stream_cap_the_least_recently_active_streams_are_flushed_and_dropped()
    {
        var events = new List<IndexedEvent>();
        var time = new FakeTimeProvider();
        var a = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions { MaxOpenStreams = 10 }, time, events.Add);
        a.Push(Line("old", "goroutine 1 [select]:", 0, T0));
        a.Push(Line("old", "main.loop()", 1, T0));
        for (int i = 0; i < 10; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            a.Push(Line($"s{i}", "level=info", 2 + i, T0));
        }
        Assert.True(a.OpenStreams <= 10);
        Assert.Single(events.Select(e => e.Event).OfType<GoroutineDumpEvent>()); // "old" was completed, not dropped silently
    }

    [Fact]
    public void A_leak_suspect_held_back_keeps_its_snapshots_uncommitted_and_a_restart_derives_it_again()
    {
        // Real Go output: four dumps of one process with a growing creation site.
        var lines = File.ReadAllText(Path.Combine(CorpusFeed.Dir, "29-goroutine-leak-4-snapshots.txt")).TrimEnd('\n').Split('\n');
        var first = new List<IndexedEvent>();
        var a = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions(), new FakeTimeProvider(), first.Add);
        for (int i = 0; i < lines.Length; i++) a.Push(Line("pod-a", lines[i], i, T0));
        // All four dumps are out, the suspect is still held back (it may grow): the offsets from its first
        // snapshot on must stay uncommitted.
        Assert.Equal(4, first.Count(e => e.Event is GoroutineDumpEvent));
        Assert.DoesNotContain(first, e => e.Event is LeakSuspectEvent);
        long firstDump = first.First(e => e.Event is GoroutineDumpEvent).FirstOffset;
        Assert.Equal(firstDump, a.OldestOpenOffset("logs", 0));

        // The worker dies here with the dumps stored. The next owner re-reads from the committed offset with
        // the stored dumps as the stream's watermark: no dump twice, and the suspect is derived again.
        long storedThrough = first.Where(e => e.Event is GoroutineDumpEvent).Max(e => e.Event.EndLine);
        var second = new List<IndexedEvent>();
        var b = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions(), new FakeTimeProvider(), second.Add);
        b.SetWatermarks("logs", 0, new Dictionary<string, long> { [new SourceMetadata { Pod = "pod-a" }.Identity("p")] = storedThrough });
        for (int i = (int)firstDump; i < lines.Length; i++) b.Push(Line("pod-a", lines[i], i, T0));
        b.FlushAll();
        Assert.DoesNotContain(second, e => e.Event is GoroutineDumpEvent);
        Assert.Single(second, e => e.Event is LeakSuspectEvent);
        Assert.True(b.ReplayedEvents >= 4);
        Assert.Null(b.OldestOpenOffset("logs", 0));
    }

    [Fact]
    public void A_leak_series_restored_from_its_stored_dumps_goes_on_as_without_a_restart()
    {
        var lines = File.ReadAllText(Path.Combine(CorpusFeed.Dir, "29-goroutine-leak-4-snapshots.txt")).TrimEnd('\n').Split('\n');
        int third = Array.FindIndex(lines, 200, l => l.Contains("fetching goroutine profile", StringComparison.Ordinal));
        var whole = new List<IndexedEvent>();
        var reference = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions(), new FakeTimeProvider(), whole.Add);
        for (int i = 0; i < lines.Length; i++) reference.Push(Line("pod-a", lines[i], i, T0));
        reference.FlushAll();

        // The first run stores two dumps and commits past them; the next one restores them from their documents.
        var first = new List<IndexedEvent>();
        var a = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions(), new FakeTimeProvider(), first.Add);
        for (int i = 0; i < third; i++) a.Push(Line("pod-a", lines[i], i, T0));
        a.FlushAll();
        var stored = first.Where(e => e.Event is GoroutineDumpEvent).ToList();
        Assert.Equal(2, stored.Count);
        Assert.DoesNotContain(first, e => e.Event is LeakSuspectEvent);
        var documents = new Ingest.Pipeline.Sinks.EventDocument();
        var snapshots = stored.Select(e => Ingest.Pipeline.Delivery.StoredDocuments.LeakSnapshot(System.Text.Json.JsonDocument.Parse(documents.Serialize(e)).RootElement)).ToList();

        var second = new List<IndexedEvent>();
        var b = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions(), new FakeTimeProvider(), second.Add);
        b.RestoreLeakHistory("logs", 0, new Dictionary<string, IReadOnlyList<LeakSnapshot>> { [stored[0].Stream.Source] = snapshots });
        for (int i = third; i < lines.Length; i++) b.Push(Line("pod-a", lines[i], i, T0));
        // The restored dumps are stored: only the dumps read since hold offsets back (the third starts after its log line).
        Assert.Equal(third + 1, b.OldestOpenOffset("logs", 0));
        b.FlushAll();
        var expected = (LeakSuspectEvent)Assert.Single(whole, e => e.Event is LeakSuspectEvent).Event;
        var restored = (LeakSuspectEvent)Assert.Single(second, e => e.Event is LeakSuspectEvent).Event;
        Assert.Equal((expected.CreatedBy, expected.TopFunction), (restored.CreatedBy, restored.TopFunction));
        Assert.Equal(expected.SnapshotLines, restored.SnapshotLines);
        Assert.Equal(expected.Counts, restored.Counts);
        Assert.Equal(4, restored.Counts.Count);
    }
}

public sealed class TagWindowTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Tags_in_earlier_kafka_messages_follow_the_crash_of_the_stream()
    {
        // One line per message: positions step by 2^20, the window counts lines.
        var events = new List<IndexedEvent>();
        var a = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions(), new Microsoft.Extensions.Time.Testing.FakeTimeProvider(), events.Add);
        string[] lines =
        [
            "[app:read:3f2b6c1e-8a7d-4c59-9e1f-2b7d9c0a1e55] GET /orders/42",
            "level=info msg=between",
            "[dao:read:aaaaaaaa-8a7d-4c59-9e1f-2b7d9c0a1e56] loading order 42",
            "panic: boom", "", "goroutine 1 [running]:", "main.main()", "\t/src/main.go:9 +0x1d", "exit status 2",
        ];
        for (int i = 0; i < lines.Length; i++)
        {
            a.Push(new LogRecord(new StreamKey("logs", 0, "pod-a"), Encoding.UTF8.GetBytes(lines[i]), 100 + i, 0, T0, new SourceMetadata { Pod = "pod-a" }, T0));
        }
        a.FlushAll();
        var crash = Assert.Single(events.Select(e => e.Event).OfType<CrashEvent>());
        Assert.Equal(["3f2b6c1e-8a7d-4c59-9e1f-2b7d9c0a1e55", "aaaaaaaa-8a7d-4c59-9e1f-2b7d9c0a1e56"], crash.FrameIds);
    }
}
