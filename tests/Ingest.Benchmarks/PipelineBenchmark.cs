using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Ingest.Pipeline.Sources.Kafka;

namespace Ingest.Benchmarks;

/// <summary>
/// Whole pipeline against a bare Confluent.Kafka consumer on the same topic, same run: raw one-line messages
/// from many interleaved streams, through decode → assembly → analysis → SQLite. Reports lines/s of both,
/// the ratio, events stored and the peak working set during the pipeline phase.
/// </summary>
public static class PipelineBenchmark
{
    public static int Run(int lines, int streams, int partitions, int rounds = 3)
    {
        using var cluster = new MockKafkaCluster(brokers: 1);
        cluster.CreateTopic("bench", partitions);
        Console.WriteLine($"producing {lines:N0} lines from {streams:N0} streams into {partitions} partitions...");
        var sw = Stopwatch.StartNew();
        Produce(cluster.BootstrapServers, lines, streams);
        Console.WriteLine($"produced in {sw.Elapsed.TotalSeconds:0.0} s");

        // Rounds alternate bare and pipeline, each with a fresh consumer group reading the whole topic, so a
        // noisy neighbour slows both alike; the medians are compared.
        var bareRates = new List<double>();
        var pipelineRates = new List<double>();
        for (int round = 1; round <= rounds; round++)
        {
            var cpu = new ThreadCpu();
            var bare = Bare(cluster.BootstrapServers, lines, "bare-" + round);
            if (bare == TimeSpan.MaxValue)
            {
                Console.Error.WriteLine("bare consumer did not see every message: the mock broker evicted some (about 5 MB per partition); use more partitions");
                return 1;
            }
            bareRates.Add(lines / bare.TotalSeconds);
            Console.WriteLine($"round {round} bare consumer: {lines / bare.TotalSeconds:N0} lines/s ({bare.TotalSeconds:0.00} s); cores by thread: {cpu.Report()}");
            double? rate = Pipeline(cluster.BootstrapServers, lines, "pipeline-" + round, round);
            if (rate is null) return 1;
            pipelineRates.Add(rate.Value);
        }
        double bareMedian = Median(bareRates), pipelineMedian = Median(pipelineRates);
        Console.WriteLine($"median of {rounds}: bare {bareMedian:N0} lines/s, pipeline {pipelineMedian:N0} lines/s, ratio {pipelineMedian / bareMedian:P0}");
        return 0;
    }

    private static double Median(List<double> xs)
    {
        var sorted = xs.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static double? Pipeline(string bootstrap, int lines, string group, int round)
    {
        using var worker = new BenchWorker(bootstrap, group, "bench");
        var source = worker.Source;
        long peak = 0;
        GC.Collect();
        var cpu = new ThreadCpu();
        var sw = Stopwatch.StartNew();
        worker.Start();
        using var proc = Process.GetCurrentProcess();
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (source.MessagesConsumed < lines)
        {
            if (DateTime.UtcNow > deadline)
            {
                // The mock broker keeps about 5 MB / 100,000 messages per partition and drops older data:
                // spread the lines over more partitions or streams.
                Console.Error.WriteLine($"gave up: {source.MessagesConsumed:N0} of {lines:N0} consumed (messages evicted by the mock broker?)");
                worker.Stop();
                return null;
            }
            Thread.Sleep(50);
            proc.Refresh();
            peak = Math.Max(peak, proc.WorkingSet64);
        }
        var consumed = sw.Elapsed;
        string cores = cpu.Report();
        while (worker.Sink.Pending > 0) Thread.Sleep(10); // polling for the sink to drain
        var stored = sw.Elapsed;
        worker.Stop();
        double rate = lines / consumed.TotalSeconds;
        Console.WriteLine($"round {round} pipeline: {rate:N0} lines/s consumed ({consumed.TotalSeconds:0.00} s), all events stored at {stored.TotalSeconds:0.00} s; " +
                          $"{worker.Store.Count():N0} events; peak working set {peak / 1e6:0} MB; cores by thread: {cores}");
        return rate;
    }

    private static void Produce(string bootstrap, int lines, int streams)
    {
        using var p = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 50, BatchSize = 1_000_000, QueueBufferingMaxMessages = 1_000_000 }).Build();
        var rng = new Random(1);
        for (int i = 0; i < lines; i++)
        {
            string key = "pod-" + (i % streams).ToString(CultureInfo.InvariantCulture);
            string line = (i % 500) switch
            {
                0 => $"gc {i / 500} @{i / 1000.0:0.000}s 2%: 0.02+1.1+0.01 ms clock, 0.1+0.2/0.3/0.1+0.04 ms cpu, 40->41->20 MB, 42 MB goal, 0 MB stacks, 0 MB globals, 4 P",
                _ => $"time=2024-05-01T10:00:{i % 60:00}.{i % 1000:000}Z level=info msg=\"request served\" path=/orders/{rng.Next(100000)} status=200 duration_ms={rng.Next(900)} pod={key}",
            };
            BenchWorker.Produce(p, "bench", key, Encoding.UTF8.GetBytes(line));
        }
        p.Flush(TimeSpan.FromMinutes(5));
    }

    private static TimeSpan Bare(string bootstrap, int lines, string group)
    {
        // The worker's consumer settings, from the same composition root, so the comparison is like for like.
        using var c = new ConsumerBuilder<byte[], byte[]>(BenchWorker.ConsumerConfig(bootstrap, group, "bench")).Build();
        c.Subscribe("bench");
        var sw = Stopwatch.StartNew();
        long n = 0, bytes = 0;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (n < lines)
        {
            if (DateTime.UtcNow > deadline) return TimeSpan.MaxValue;
            var r = c.Consume(TimeSpan.FromMilliseconds(100));
            if (r?.Message is null) continue;
            n++;
            bytes += r.Message.Value.Length;
        }
        var elapsed = sw.Elapsed;
        c.Close();
        return elapsed;
    }
}
