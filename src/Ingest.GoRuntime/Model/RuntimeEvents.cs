namespace Ingest.GoRuntime.Model;

public enum RuntimeEventType
{
    Crash,
    GoroutineDump,
    Gc,
    GcScavenge,
    TaggedLog,
    LeakSuspect,
    GcAlert,
    Incident,
    DependencyGraph,
    BuildInfo,
}

/// <summary>An event defined outside this assembly (correlation's incidents) that writes its own JSON fields.</summary>
public interface ISelfWritingEvent
{
    void WriteFields(System.Text.Json.Utf8JsonWriter w);
}

/// <summary>Base of everything the scanner emits. Positions are whatever the caller passed with each line (line numbers, Kafka offsets).</summary>
public abstract class RuntimeEvent
{
    public abstract RuntimeEventType Type { get; }
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
    public override RuntimeEventType Type => RuntimeEventType.Crash;
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
    public override RuntimeEventType Type => RuntimeEventType.GoroutineDump;
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
    public override RuntimeEventType Type => RuntimeEventType.Gc;
    public required GcCycle Cycle { get; init; }
    public GcPacer? Pacer { get; init; }
    /// <summary>Set by GC analytics, which knows the instance's previous cycles: interval, CPU fraction, rates.</summary>
    public Ingest.GoRuntime.Analysis.Gc.GcSample? Derived { get; set; }
    /// <summary>Set by GC analytics: what the detectors found on this cycle.</summary>
    public IReadOnlyList<Ingest.GoRuntime.Analysis.Gc.GcAnomaly> Anomalies { get; set; } = [];
}

/// <summary>
/// One GC anomaly episode of one instance: opened by the first anomalous cycle, updated while the anomaly
/// persists (one document, not one per cycle), resolved by the first cycle without it or when the instance
/// goes quiet. <see cref="RuntimeEvent.Line"/> is the position of the cycle that opened it.
/// </summary>
public sealed class GcAlertEvent : RuntimeEvent
{
    public override RuntimeEventType Type => RuntimeEventType.GcAlert;
    public required string Service { get; init; }
    public required string Instance { get; init; }
    /// <summary>pause_outlier, pause_slo, pacer_overshoot, gc_thrash, heap_growth.</summary>
    public required string Kind { get; init; }
    /// <summary>Stable per (service, instance, kind): what Alertmanager and postmortems group by.</summary>
    public required string Fingerprint { get; init; }
    public required string Status { get; set; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset LastSeenAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public required int FirstCycle { get; init; }
    public required int LastCycle { get; set; }
    /// <summary>Anomalous cycles in the episode.</summary>
    public required int Cycles { get; set; }
    public required double Value { get; set; }
    public required double Threshold { get; set; }
    public required double PeakValue { get; set; }
    public required string Reason { get; set; }

    public const string Firing = "firing";
    public const string Resolved = "resolved";
}

public sealed class GcScavengeEvent : RuntimeEvent
{
    public override RuntimeEventType Type => RuntimeEventType.GcScavenge;
    public required GcScavenge Scavenge { get; init; }
}

public sealed class TaggedLogEvent : RuntimeEvent
{
    public override RuntimeEventType Type => RuntimeEventType.TaggedLog;
    public required string Layer { get; init; }
    public required string Intent { get; init; }
    public required string FrameId { get; init; }
    public bool Inferred { get; init; }
    public required string Message { get; init; }
    public string? Timestamp { get; init; }
}

public sealed class LeakSuspectEvent : RuntimeEvent
{
    public override RuntimeEventType Type => RuntimeEventType.LeakSuspect;
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
    public override RuntimeEventType Type => RuntimeEventType.BuildInfo;
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
