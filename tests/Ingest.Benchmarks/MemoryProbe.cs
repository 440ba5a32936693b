using System.Text;
using Ingest.GoRuntime.Analysis;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Model;

namespace Ingest.Benchmarks;

/// <summary>
/// Measures (not estimates) what assembly holds per stream: the managed heap after a full collection, before
/// and after N keys each reach a state, divided by N. Feeds the assembler directly (what the consume loop does
/// per line), so the figures are the assembler's and the scanner's own, without Kafka's buffers.
/// </summary>
public static class MemoryProbe
{
    public static int Run(string scenario, int keys, int linesPerKey, long? maxOpenBytes, int? maxOpenEvents)
    {
        // Per-key figures keep every stream; the floods run on the shipped defaults (20,000 streams at most).
        var options = scenario.StartsWith("flood", StringComparison.Ordinal) ? new AssemblerOptions() : new AssemblerOptions { MaxOpenStreams = Math.Max(keys, 1) };
        if (maxOpenBytes is long budget) options.MaxOpenBytes = budget;
        if (maxOpenEvents is int cap) options.MaxOpenEvents = cap;
        int events = 0;
        var assembler = new StreamAssembler(new AnalyzerOptions(), options, TimeProvider.System, _ => events++);
        var metadata = SourceMetadata.Empty;
        var now = DateTimeOffset.UtcNow;
        long offset = 0;
        long baseline = Heap();
        long peak = 0;
        void Push(int key, string line)
        {
            var record = new LogRecord(new StreamKey("probe", key % 64, "pod-" + key), Encoding.UTF8.GetBytes(line), offset++, 0, now, metadata, now);
            assembler.Push(record);
        }
        switch (scenario)
        {
            case "idle":
                for (int k = 0; k < keys; k++) Push(k, "level=info msg=\"request served\" status=200");
                break;
            case "open-one-line":
            case "flood-one-line":
                for (int k = 0; k < keys; k++) Push(k, "goroutine 1 [running]:");
                break;
            case "open-dumps":
            case "flood-dumps":
                // Every key has a dump in progress; lines arrive round-robin, so all are open at once.
                for (int k = 0; k < keys; k++) Push(k, "goroutine 1 [running]:");
                for (int i = 0; i < linesPerKey; i++)
                {
                    for (int k = 0; k < keys; k++)
                    {
                        int g = i / 3;
                        Push(k, (i % 3) switch
                        {
                            0 => $"main.worker{g % 7}(0xc000{g:x6}, 0x{g:x})",
                            1 => $"\t/src/shop/internal/worker{g % 7}.go:{40 + g % 50} +0x{g % 4096:x}",
                            _ => string.Empty,
                        });
                        if (i % 3 == 2) Push(k, $"goroutine {g + 2} [chan receive, {g % 30} minutes]:");
                    }
                    if (i % 300 == 299) peak = Math.Max(peak, Heap());
                }
                break;
            default:
                Console.Error.WriteLine("scenarios: idle | open-one-line | open-dumps | flood-one-line | flood-dumps");
                return 2;
        }
        long after = Heap();
        peak = Math.Max(peak, after);
        Console.WriteLine($"{scenario}: {keys:N0} keys, {offset:N0} lines, budget {options.MaxOpenBytes / (1 << 20):N0} MiB, {options.MaxOpenEvents:N0} open events");
        Console.WriteLine($"  managed heap after full GC: {(after - baseline) / 1e6:0.0} MB held ({(after - baseline) / (double)keys:N0} B per key), peak {(peak - baseline) / 1e6:0.0} MB");
        Console.WriteLine($"  open events {assembler.OpenEvents:N0} ({assembler.OpenBytes / 1e6:0.0} MB accounted), closed at the budget {assembler.BudgetClosed:N0}, emitted {events:N0}");
        Console.WriteLine($"  process peak working set {Environment.WorkingSet / 1e6:0} MB (now), {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:0} MB (peak)");
        GC.KeepAlive(assembler);
        return 0;
    }

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
