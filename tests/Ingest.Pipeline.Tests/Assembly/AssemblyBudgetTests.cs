using System.Text;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ingest.Pipeline.Tests.Assembly;

/// <summary>
/// Floods of keys against the assembly memory budget. The managed heap is measured after a full collection
/// (not estimated), and every event the budget closes is emitted, flagged truncated: nothing is dropped.
/// </summary>
public sealed class AssemblyBudgetTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly SourceMetadata s_metadata = new() { Pod = "pod" };

    private static LogRecord Line(int key, string text, long offset) =>
        new(new StreamKey("logs", key % 8, "pod-" + key), Encoding.UTF8.GetBytes(text), offset, 0, T0, s_metadata, T0);

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    [Fact]
    public void A_flood_of_one_line_events_on_100k_keys_stays_inside_the_budget()
    {
        const int keys = 100_000;
        var options = new AssemblerOptions { MaxOpenBytes = 16L << 20, MaxOpenStreams = 20_000 };
        int emitted = 0, truncated = 0, closedReported = 0;
        var assembler = new StreamAssembler(new AnalyzerOptions(), options, new FakeTimeProvider(), e =>
        {
            emitted++;
            if (((MultiLineEvent)e.Event).Truncated) truncated++;
        }, closedAtBudget: _ => closedReported++);
        long before = Heap();
        long maxAccounted = 0;
        for (int k = 0; k < keys; k++)
        {
            assembler.Push(Line(k, "goroutine 1 [running]:", k));
            maxAccounted = Math.Max(maxAccounted, assembler.OpenBytes);
        }
        long held = Heap() - before;
        Assert.True(maxAccounted <= options.MaxOpenBytes, $"accounted {maxAccounted} over the budget");
        // The open events' budget plus the idle streams (measured 928 B each, docs/operations.md) and slack.
        long bound = options.MaxOpenBytes + options.MaxOpenStreams * 2048L + (8L << 20);
        Assert.True(held < bound, $"held {held / 1e6:0.0} MB, bound {bound / 1e6:0.0} MB");
        Assert.True(assembler.BudgetClosed > 0);
        Assert.Equal(assembler.BudgetClosed, closedReported);
        assembler.FlushAll();
        // Each key's event came out once: closed at the budget, evicted with its stream, or flushed at the end.
        Assert.Equal(keys, emitted);
        Assert.Equal(keys, truncated); // a header with no frame after it is cut output either way
        GC.KeepAlive(assembler);
    }

    [Fact]
    public void Twenty_thousand_dumps_in_progress_stay_inside_the_budget()
    {
        const int keys = 20_000, frames = 40;
        var options = new AssemblerOptions { MaxOpenBytes = 24L << 20 };
        // Only counts are kept of what comes out, so the heap measures the assembler alone.
        int emitted = 0, truncated = 0;
        var sources = new HashSet<string>(StringComparer.Ordinal);
        var assembler = new StreamAssembler(new AnalyzerOptions(), options, new FakeTimeProvider(), e =>
        {
            emitted++;
            if (((MultiLineEvent)e.Event).Truncated) truncated++;
            sources.Add(e.Stream.Source);
        });
        long before = Heap();
        long offset = 0, maxAccounted = 0;
        for (int k = 0; k < keys; k++) assembler.Push(Line(k, "goroutine 1 [running]:", offset++));
        for (int f = 0; f < frames; f++)
        {
            for (int k = 0; k < keys; k++)
            {
                assembler.Push(Line(k, $"main.worker{f}(0xc000{k:x6}, 0x{f:x})", offset++));
                assembler.Push(Line(k, $"\t/src/shop/internal/worker{f}.go:{40 + f} +0x{k % 4096:x}", offset++));
                maxAccounted = Math.Max(maxAccounted, assembler.OpenBytes);
            }
        }
        long held = Heap() - before;
        Assert.True(maxAccounted <= options.MaxOpenBytes, $"accounted {maxAccounted} over the budget");
        Assert.True(held < options.MaxOpenBytes + options.MaxOpenStreams * 2048L + (8L << 20), $"held {held / 1e6:0.0} MB");
        // 20,000 dumps of 40 frames need about 100 MB: the budget closed the largest as truncated events.
        Assert.True(assembler.BudgetClosed > 0);
        Assert.Equal(assembler.BudgetClosed, emitted);
        Assert.Equal(emitted, truncated);
        assembler.FlushAll();
        // Every key's dump was emitted, whole or in truncated parts; none lost.
        Assert.Equal(keys, sources.Count);
        Assert.Equal(0, assembler.OpenBytes);
        Assert.Equal(0, assembler.OpenEvents);
    }

    [Fact]
    public void Over_the_count_cap_the_least_recently_active_events_close_first_and_release_their_offsets()
    {
        var options = new AssemblerOptions { MaxOpenEvents = 100 };
        var events = new List<IndexedEvent>();
        var time = new FakeTimeProvider();
        var assembler = new StreamAssembler(new AnalyzerOptions(), options, time, events.Add);
        // Keys 0..100 open a dump each, in order; the clock moves between them.
        for (int k = 0; k <= 100; k++)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            assembler.Push(Line(k, "goroutine 1 [running]:", 2 * k));
            assembler.Push(Line(k, "main.main()", 2 * k + 1));
        }
        // At the 101st open event the cap closed the least recently active down to three quarters: keys 0 to 25.
        Assert.Equal(Enumerable.Range(0, 26).Select(k => "pod-" + k), events.Select(e => e.Stream.Source));
        Assert.All(events, e => Assert.True(((MultiLineEvent)e.Event).Truncated));
        Assert.Equal(75, assembler.OpenEvents);
        // Their offsets are released: partition 0's oldest open event is now key 32's (keys 0, 8, 16, 24 closed).
        Assert.Equal(64, assembler.OldestOpenOffset("logs", 0));
    }
}
