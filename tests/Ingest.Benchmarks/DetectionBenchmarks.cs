using BenchmarkDotNet.Attributes;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Scanning;
using Ingest.Pipeline.Analysis;

namespace Ingest.Benchmarks;

/// <summary>
/// Ordinary log lines (no runtime output) through detection. The baseline only splits lines, the least any
/// line-oriented tool must do, measured in the same run so machine noise cancels out.
/// </summary>
[MemoryDiagnoser]
public class DetectionBenchmarks
{
    private byte[] _logs = [];

    [GlobalSetup]
    public void Setup() => _logs = LogGenerator.OrdinaryLogs(64);

    [Benchmark(Baseline = true, Description = "split lines only")]
    public int SplitOnly() => Baseline.SplitLines(_logs);

    [Benchmark(Description = "scanner per line")]
    public int ScannerPerLine()
    {
        int claimed = 0;
        var scanner = new RuntimeOutputScanner("bench", new AnalyzerOptions(), _ => { });
        var s = _logs.AsSpan();
        long pos = 0;
        while (true)
        {
            int nl = s.IndexOf((byte)'\n');
            if (nl < 0) break;
            if (scanner.Push(s[..nl], ++pos)) claimed++;
            s = s[(nl + 1)..];
        }
        scanner.Complete();
        return claimed;
    }

    [Benchmark(Description = "whole stream (LineReader + scanner)")]
    public long WholeStream()
    {
        using var ms = new MemoryStream(_logs, writable: false);
        return StreamAnalyzer.Analyze(ms, "bench", new AnalyzerOptions(), _ => { });
    }

    /// <summary>MB per operation, to turn BenchmarkDotNet's mean into throughput.</summary>
    public static double Megabytes => 64 * 1024 * 1024 / 1e6;
}
