using System.Diagnostics;
using BenchmarkDotNet.Running;
using Ingest.Benchmarks;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;

// Usage:
//   dotnet run -c Release --project tests/Ingest.Benchmarks -- bdn [BenchmarkDotNet args]   micro-benchmarks
//   dotnet run -c Release --project tests/Ingest.Benchmarks -- gen-logs FILE MB               ordinary log lines
//   dotnet run -c Release --project tests/Ingest.Benchmarks -- gen-shapes DIR MB              one file per log shape (LogShapes)
//   dotnet run -c Release --project tests/Ingest.Benchmarks -- gen-dump FILE GOROUTINES       synthetic dump (when Go is absent)
//   dotnet run -c Release --project tests/Ingest.Benchmarks -- measure FILE                   one pass, MB/s, allocations, peak RSS
//   dotnet run -c Release --project tests/Ingest.Benchmarks -- memory SCENARIO KEYS [LINES] [BYTES] [EVENTS]  bytes held per stream by assembly
switch (args.FirstOrDefault())
{
    case "bdn":
        BenchmarkSwitcher.FromAssembly(typeof(DetectionBenchmarks).Assembly).Run(args[1..]);
        return 0;
    case "gen-logs":
        LogGenerator.WriteOrdinaryLogs(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case "gen-shapes":
        // gen-shapes DIR MB: one file per ordinary-log shape (LogShapes.Names), MB each.
        foreach (string shape in LogShapes.Names) LogShapes.Write(shape, Path.Combine(args[1], $"{shape}.log"), int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case "gen-dump":
        LogGenerator.WriteSyntheticDump(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case "measure":
        return Measure(args[1]);
    case "pipeline":
        // pipeline LINES STREAMS PARTITIONS: whole pipeline vs a bare consumer over the mock cluster.
        return PipelineBenchmark.Run(
            int.Parse(args.ElementAtOrDefault(1) ?? "1000000", System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(args.ElementAtOrDefault(2) ?? "10000", System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(args.ElementAtOrDefault(3) ?? "32", System.Globalization.CultureInfo.InvariantCulture));
    case "pipeline-soak":
        // pipeline-soak LINES STREAMS PARTITIONS RATE: memory over a long run with a rate-limited producer.
        return PipelineSoak.Run(
            long.Parse(args.ElementAtOrDefault(1) ?? "10000000", System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(args.ElementAtOrDefault(2) ?? "10000", System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(args.ElementAtOrDefault(3) ?? "64", System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(args.ElementAtOrDefault(4) ?? "100000", System.Globalization.CultureInfo.InvariantCulture));
    case "memory":
        // memory SCENARIO KEYS [LINES_PER_KEY] [MAX_OPEN_BYTES] [MAX_OPEN_EVENTS]: what assembly holds per key (idle | open-one-line | open-dumps), or under a flood on the default settings (flood-one-line | flood-dumps).
        return MemoryProbe.Run(args[1],
            int.Parse(args.ElementAtOrDefault(2) ?? "20000", System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(args.ElementAtOrDefault(3) ?? "0", System.Globalization.CultureInfo.InvariantCulture),
            args.ElementAtOrDefault(4) is { } b ? long.Parse(b, System.Globalization.CultureInfo.InvariantCulture) : null,
            args.ElementAtOrDefault(5) is { } c ? int.Parse(c, System.Globalization.CultureInfo.InvariantCulture) : null);
    case "assembly-probe":
        return AssemblyProbe.Run(300_000, 10_000);
    case "loop":
        // For profilers: N passes over one file.
        for (int i = 0; i < int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture); i++) Run(args[1], out _, out _);
        return 0;
    default:
        Console.Error.WriteLine("usage: bdn | gen-logs FILE MB | gen-dump FILE N | measure FILE");
        return 2;
}

static int Measure(string path)
{
    long bytes;
    using (var probe = File.OpenRead(path)) bytes = probe.Length; // follows symlinks, unlike FileInfo.Length
    // Warm the page cache and the JIT on a first pass, measure the second.
    Run(path, out _, out _);
    GC.Collect();
    long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
    var sw = Stopwatch.StartNew();
    Run(path, out long lines, out var summary);
    sw.Stop();
    long alloc = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
    using var proc = Process.GetCurrentProcess();
    double mbps = bytes / 1e6 / sw.Elapsed.TotalSeconds;
    // Baseline in the same run: only split the file into lines (what any line-oriented tool must do).
    var swBase = Stopwatch.StartNew();
    long baseLines;
    using (var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
    using (var reader = new Ingest.Pipeline.Sources.Files.LineReader(f))
    {
        baseLines = reader.ReadAll(static (_, _, _) => { });
    }
    swBase.Stop();
    Console.WriteLine($"file={path} bytes={bytes} lines={lines} seconds={sw.Elapsed.TotalSeconds:0.000} MB/s={mbps:0.0} baseline_split_only_seconds={swBase.Elapsed.TotalSeconds:0.000} baseline_MB/s={bytes / 1e6 / swBase.Elapsed.TotalSeconds:0.0} allocated_MB={alloc / 1e6:0.0} peak_working_set_MB={proc.PeakWorkingSet64 / 1e6:0.0} {summary}");
    return 0;
}

static void Run(string path, out long lines, out string summary)
{
    int events = 0, goroutines = 0, buckets = 0;
    using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
    lines = StreamAnalyzer.Analyze(f, path, new AnalyzerOptions(), e =>
    {
        events++;
        if (e is MultiLineEvent m)
        {
            goroutines += m.GoroutineCount;
            buckets += m.Buckets.Count;
        }
    });
    summary = $"events={events} goroutines={goroutines} buckets={buckets}";
}
