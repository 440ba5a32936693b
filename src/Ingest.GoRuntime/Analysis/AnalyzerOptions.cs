namespace Ingest.GoRuntime.Analysis;

/// <summary>Knobs of the scanner and analysers. Defaults suit a production cluster.</summary>
public sealed class AnalyzerOptions
{
    public const string SectionName = "Analysis";

    /// <summary>Module prefixes of the service's own code ("example.com/shop"). Empty: inferred per crash.</summary>
    public IList<string> Modules { get; set; } = [];

    /// <summary>Line cap of one multi-line event; large enough for a 100,000-goroutine dump (~1.3M lines).</summary>
    public int MaxEventLines { get; set; } = 4_000_000;

    /// <summary>Byte cap of one multi-line event.</summary>
    public long MaxEventBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Raw text kept per event (the rest is hashed but not kept).</summary>
    public int RawTextLimitBytes { get; set; } = 1024 * 1024;

    /// <summary>Lines longer than this are cut before parsing (a 1 MB panic value stays a bounded cost).</summary>
    public int MaxLineBytes { get; set; } = 64 * 1024;

    /// <summary>Goroutines waiting on one primitive before it is reported as contention.</summary>
    public int ContentionThreshold { get; set; } = 5;

    /// <summary>Waits of at least this many minutes are reported.</summary>
    public int LongWaitMinutes { get; set; } = 10;

    /// <summary>Consecutive growing snapshots before a creation site is a leak suspect.</summary>
    public int LeakMinSnapshots { get; set; } = 3;

    /// <summary>Minimum total growth over those snapshots (ignores +1 jitter).</summary>
    public int LeakMinGrowth { get; set; } = 3;

    /// <summary>Tags seen within this many lines of the stream before a crash are attached to it.</summary>
    public long TagWindow { get; set; } = 10_000;

    public FrameSemanticsOptions Semantics { get; set; } = new();

    /// <summary>Field names of structured log records that carry a Go stack (zap, logrus, slog, ECS by default).</summary>
    public Ingest.GoRuntime.Parsing.Logs.LoggedStackFields LoggedStacks { get; set; } = new();
}
