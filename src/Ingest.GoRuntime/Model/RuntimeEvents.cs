namespace Ingest.GoRuntime.Model;

/// <summary>
/// An event at a position in a stream: what the scanner emits. Stages downstream extend it with documents of their
/// own, in their own assemblies; this one knows only runtime output.
/// </summary>
public abstract class RuntimeEvent
{
    /// <summary>The JSON <c>type</c> of the event ("crash", "gc"...); the pipeline's registry is keyed by it.</summary>
    public abstract string TypeName { get; }
    /// <summary>Positions are whatever the caller passed with each line (line numbers, Kafka offsets).</summary>
    public required string Stream { get; init; }
    /// <summary>Position of the first line of the event.</summary>
    public required long Line { get; init; }
    public long EndLine { get; set; }
}

public sealed record SignalInfo(string Name, string? Code, string? Addr, string? Pc);

public sealed record FrameRef(string Function, string File, int Line);

/// <summary>Layer/intent of a frame or log line: declared by a tag, or inferred from names.</summary>
public sealed record SemanticLabel(string Layer, string Intent, bool Inferred);

public abstract class MultiLineEvent : RuntimeEvent
{
    public int LineCount { get; set; }
    public long ByteCount { get; set; }
    /// <summary>Raw text of the event, up to the configured retention; see <see cref="RawTextTruncated"/>.</summary>
    public string RawText { get; set; } = string.Empty;
    public bool RawTextTruncated { get; set; }
    /// <summary>"xxh128:" + XxHash128 of the complete raw text (all lines, '\n'-joined), hex.</summary>
    public string RawTextHash { get; set; } = string.Empty;
    /// <summary>The event hit a size cap or was cut by end of input/timeout before it was complete.</summary>
    public bool Truncated { get; set; }
    /// <summary>Lines inside the event that were not runtime output (another writer interleaved on the same stream).</summary>
    public int InterleavedLines { get; set; }
    public required List<GoroutineBucket> Buckets { get; init; }
    public required Dictionary<string, int> States { get; init; }
    public int GoroutineCount { get; set; }
    /// <summary>The first goroutine printed (for a crash, the one that crashed).</summary>
    public Goroutine? FirstGoroutine { get; set; }
    public List<BlockingFinding> Findings { get; } = [];
    /// <summary>Module prefixes treated as the service's own code (configured or inferred).</summary>
    public IReadOnlyList<string> Modules { get; set; } = [];
}

public sealed class CrashEvent : MultiLineEvent
{
    public override string TypeName => "crash";
    /// <summary>"panic", "fatal error", "signal", "http panic" (recovered by net/http), "data race", "logged_stack".</summary>
    public required string Kind { get; init; }
    public string Category { get; set; } = CrashCategory.Other;
    public bool Recoverable { get; set; }
    /// <summary>True when the process survived because the panic was recovered (net/http's handler recovery).</summary>
    public bool Recovered { get; set; }
    public string Message => Panics.Count == 0 ? string.Empty : Panics[^1];
    public List<string> Panics { get; } = [];
    public SignalInfo? Signal { get; set; }
    public Goroutine? CrashingGoroutine { get; set; }
    /// <summary>Other goroutines that threw the same fatal error at the same time, with the stacks printed last.</summary>
    public List<Goroutine> RacingThrowers { get; } = [];
    public List<StackFrame> RuntimeStack { get; } = [];
    public List<string> Preamble { get; } = [];
    public FrameRef? RootCause { get; set; }
    public string Fingerprint { get; set; } = string.Empty;
    public int? ExitStatus { get; set; }
    /// <summary>Frame ids of semantic tags seen on the stream shortly before the crash.</summary>
    public List<string> FrameIds { get; } = [];
    /// <summary>The record's own message for a logged stack ("payment failed"); the error text is the panic value.</summary>
    public string? LogMessage { get; set; }
    /// <summary>"10.0.0.1:1234" for net/http panics.</summary>
    public string? RemoteAddr { get; set; }
}

public sealed class GoroutineDumpEvent : MultiLineEvent
{
    public override string TypeName => "goroutine_dump";
    public string? Signal { get; set; }
    public string? Pc { get; set; }

    /// <summary>
    /// How many identical one-goroutine dumps in a row this event stands for (a stack printed in a loop, a
    /// flood of one header line): one document with a count, not one per repetition. <c>EndLine</c> is the last's.
    /// </summary>
    public int Repeats { get; set; } = 1;
}

public sealed class GcCycleEvent : RuntimeEvent
{
    public override string TypeName => "gc";
    public required GcCycle Cycle { get; init; }
    public GcPacer? Pacer { get; init; }
    /// <summary>Set by GC analytics, which knows the instance's previous cycles: interval, CPU fraction, rates.</summary>
    public Ingest.GoRuntime.Analysis.Gc.GcSample? Derived { get; set; }
    /// <summary>Set by GC analytics: what the detectors found on this cycle.</summary>
    public IReadOnlyList<Ingest.GoRuntime.Analysis.Gc.GcAnomaly> Anomalies { get; set; } = [];
}

public sealed class GcScavengeEvent : RuntimeEvent
{
    public override string TypeName => "gc_scavenge";
    public required GcScavenge Scavenge { get; init; }
}

public sealed class TaggedLogEvent : RuntimeEvent
{
    public override string TypeName => "tagged_log";
    public required string Layer { get; init; }
    public required string Intent { get; init; }
    public required string FrameId { get; init; }
    public bool Inferred { get; init; }
    public required string Message { get; init; }
    public string? Timestamp { get; init; }
}

public sealed class LeakSuspectEvent : RuntimeEvent
{
    public override string TypeName => "leak_suspect";
    public required string CreatedBy { get; init; }
    public required string TopFunction { get; init; }
    public required IReadOnlyList<int> Counts { get; init; }
    /// <summary>Average growth per snapshot over the counts.</summary>
    public double GrowthPerSnapshot { get; init; }
    public required IReadOnlyList<long> SnapshotLines { get; init; }
}

/// <summary>
/// A Go binary's build information as it appears in logs: <c>go version -m</c> output or
/// <c>debug.ReadBuildInfo().String()</c> printed at start-up. What postmortems need for "which build crashed".
/// </summary>
public sealed class BuildInfoEvent : RuntimeEvent
{
    public override string TypeName => "build_info";
    /// <summary>The binary path (<c>go version -m</c> form only).</summary>
    public string? Binary { get; set; }
    public required string GoVersion { get; set; }
    public string? Path { get; set; }
    public string? MainModule { get; set; }
    public string? MainVersion { get; set; }
    public List<(string Path, string Version)> Dependencies { get; } = [];
    /// <summary>build key=value settings: -compiler, GOOS, vcs.revision, vcs.time, vcs.modified...</summary>
    public List<(string Key, string Value)> Settings { get; } = [];
    public string? Setting(string key) => Settings.FirstOrDefault(s => s.Key == key).Value;

    public const int MaxDependencies = 2000;
}
