using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Ingest.Pipeline.Sources.Kafka;

namespace Ingest.Benchmarks;

/// <summary>
/// Memory over a long run: a producer writes LINES lines from STREAMS interleaved streams at a fixed rate while
/// the worker consumes them (the mock broker keeps only about 5 MB per partition, so the backlog must stay
/// small). Prints the working set every 5 s and the minimum and maximum after the first million lines.
/// </summary>
public static class PipelineSoak
{
    public static int Run(long lines, int streams, int partitions, int ratePerSecond)
    {
        using var cluster = new MockKafkaCluster(brokers: 1);
        cluster.CreateTopic("soak", partitions);
        using var worker = new BenchWorker(cluster.BootstrapServers, "soak", "soak");
        var source = worker.Source;
        var store = worker.Store;
        worker.Start();

        var producer = new Thread(() =>
        {
            using var p = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 20 }).Build();
            var rng = new Random(2);
            var sw = Stopwatch.StartNew();
            for (long i = 0; i < lines; i++)
            {
                // Hold the rate, and never run more than ~1,000 lines per partition ahead of the consumer.
                while (i > sw.Elapsed.TotalSeconds * ratePerSecond || i - source.MessagesConsumed > 1000L * partitions) Thread.Sleep(1);
                string key = "pod-" + (i % streams).ToString(CultureInfo.InvariantCulture);
                string line = (i % 997) switch
                {
                    0 => $"gc {i / 997} @{i / 1000.0:0.000}s 2%: 0.02+1.1+0.01 ms clock, 0.1+0.2/0.3/0.1+0.04 ms cpu, 40->41->20 MB, 42 MB goal, 0 MB stacks, 0 MB globals, 4 P",
                    1 => "panic: runtime error: index out of range [3] with length 2",
                    2 => "",
                    3 => "goroutine 1 [running]:",
                    4 => "main.main()",
                    5 => "\t/src/main.go:12 +0x1d",
                    _ => $"time=2024-05-01T10:00:00Z level=info msg=\"request served\" path=/orders/{rng.Next(100000)} status=200 pod={key}",
                };
                BenchWorker.Produce(p, "soak", key, Encoding.UTF8.GetBytes(line));
            }
            p.Flush(TimeSpan.FromMinutes(1));
        });
        producer.Start();

        using var proc = Process.GetCurrentProcess();
        long min = long.MaxValue, max = 0, heapMin = long.MaxValue, heapMax = 0;
        var clock = Stopwatch.StartNew();
        var next = TimeSpan.FromSeconds(5);
        while (source.MessagesConsumed < lines)
        {
            Thread.Sleep(200); // sampling interval for the working set
            if (clock.Elapsed < next) continue;
            next += TimeSpan.FromSeconds(5);
            proc.Refresh();
            long ws = proc.WorkingSet64;
            // The managed heap is the pipeline's; the rest of the working set includes the mock broker's log.
            long heap = GC.GetGCMemoryInfo().HeapSizeBytes;
            if (source.MessagesConsumed > 1_000_000)
            {
                min = Math.Min(min, ws);
                max = Math.Max(max, ws);
                heapMin = Math.Min(heapMin, heap);
                heapMax = Math.Max(heapMax, heap);
            }
            Console.WriteLine($"{clock.Elapsed.TotalSeconds,6:0}s consumed {source.MessagesConsumed,12:N0} working set {ws / 1e6,6:0} MB managed heap {heap / 1e6,5:0} MB open streams {source.OpenStreams} events {store.Count():N0}");
        }
        producer.Join();
        worker.Stop();
        Console.WriteLine($"done: {lines:N0} lines in {clock.Elapsed.TotalSeconds:0} s ({lines / clock.Elapsed.TotalSeconds:N0} lines/s, rate-limited to {ratePerSecond:N0}); after the first million lines: " +
            (max == 0 ? "not sampled (run more than a million lines)" : $"working set {min / 1e6:0}-{max / 1e6:0} MB, managed heap {heapMin / 1e6:0}-{heapMax / 1e6:0} MB") +
            $"; events stored {store.Count():N0}");
        return 0;
    }
}
