using BenchmarkDotNet.Attributes;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;

namespace Ingest.Benchmarks;

/// <summary>
/// A 100,000-goroutine dump parsed and bucketed. Uses the real Go dump named by INGEST_BENCH_DUMP when set
/// (tools/corpus-gen/gen-bigdump.sh), else the synthetic one. Baseline: splitting the same bytes into lines.
/// </summary>
[MemoryDiagnoser]
public class DumpBenchmarks
{
    private byte[] _dump = [];

    [GlobalSetup]
    public void Setup()
    {
        string? path = Environment.GetEnvironmentVariable("INGEST_BENCH_DUMP");
        _dump = path is not null && File.Exists(path) ? File.ReadAllBytes(path) : LogGenerator.SyntheticDump(100_000);
    }

    [Benchmark(Baseline = true, Description = "split lines only")]
    public int SplitOnly() => Baseline.SplitLines(_dump);

    [Benchmark(Description = "parse + bucket + findings")]
    public int ParseAndBucket()
    {
        int buckets = 0;
        using var ms = new MemoryStream(_dump, writable: false);
        StreamAnalyzer.Analyze(ms, "bench", new AnalyzerOptions(), e =>
        {
            if (e is MultiLineEvent m) buckets += m.Buckets.Count;
        });
        return buckets;
    }
}
