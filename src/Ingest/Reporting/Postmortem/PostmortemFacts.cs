namespace Ingest.Reporting.Postmortem;

// The facts of a postmortem, read once from the store: the JSON format is these records (snake_case), and the
// Markdown of both languages is rendered from them, so the two formats cannot disagree.

public sealed record PostmortemFacts
{
    public required string IncidentId { get; init; }
    public required string TemplateVersion { get; init; }
    public required SummaryFacts Summary { get; init; }
    public required ClassificationFacts Classification { get; init; }
    public required ImpactFacts Impact { get; init; }
    public required IReadOnlyList<TimelineEntry> Timeline { get; init; }
    public required IReadOnlyList<PathStep> Path { get; init; }
    public required IReadOnlyList<PanicSemantics> PanicSemantics { get; init; }
    public required GoroutineMatrix GoroutineMatrix { get; init; }
    public required IReadOnlyList<GcImpact> GcImpact { get; init; }
    public required EvidenceFacts Evidence { get; init; }
    public required IReadOnlyList<CodeReference> CodeReferences { get; init; }
    public required VersionFacts Versions { get; init; }
    public Reproduction? Reproduction { get; init; }
}

public sealed record SummaryFacts(string RootId, string RootKind, string RootService, string RootNode, string RootHlc, string Text);

/// <summary><c>branch</c> is the path in the template's tree, top level first (memory_safety/nil_pointer_dereference).</summary>
public sealed record ClassificationFacts(string Category, string Branch);

public sealed record ImpactFacts
{
    /// <summary>Distinct crashes of this incident (crash events, one per panic).</summary>
    public required int Crashes { get; init; }
    /// <summary>Failed requests: the incident's error spans.</summary>
    public required int FailedRequests { get; init; }
    public required IReadOnlyList<string> Services { get; init; }
    public required IReadOnlyList<string> Hosts { get; init; }
    public required string StartedAt { get; init; }
    public required string EndedAt { get; init; }
    public required double DurationSeconds { get; init; }
    /// <summary>Every service on the propagation path served successfully again after its last failure.</summary>
    public required bool Recovered { get; init; }
    /// <summary>When the last of them first served again (RFC 3339), when the correlator saw each recovery.</summary>
    public string? RecoveredAt { get; init; }
    /// <summary>First failure to that recovery.</summary>
    public double? DurationToRecoverySeconds { get; init; }
    public GoroutinePeak? GoroutinePeak { get; init; }
    public HeapSurge? HeapSurge { get; init; }
    public required GcPauses GcPauses { get; init; }
}

/// <summary><c>source</c>: the document the peak was read from (a dump, a crash's goroutine count, a gc cycle's goroutines).</summary>
public sealed record GoroutinePeak(int Count, string Service, string Source);

/// <summary>Peak live heap (gctrace) in the incident window against the median of the hour before.</summary>
public sealed record HeapSurge(string Service, double BeforeMedianMb, double DuringMaxMb, double Factor);

public sealed record GcPauses(PauseStats? Before, PauseStats? During);

public sealed record PauseStats(int Cycles, double P50Ms, double P99Ms, double MaxMs);

public sealed record TimelineEntry(string Id, string Kind, string Service, string Node, string Time, string Hlc, string Summary, bool ClockSkew, bool Late);

public sealed record PathStep(string Service, string FirstFailure, string Node, string Hlc, bool Recovered, string? RecoveredAt = null);

public sealed record PanicSemantics
{
    public required string CrashId { get; init; }
    public required string Service { get; init; }
    public required string Category { get; init; }
    /// <summary>explicit, runtime_check, compiler_check, fatal.</summary>
    public required string Trigger { get; init; }
    /// <summary>runtime.Error, error, value, fatal.</summary>
    public required string ExceptionClass { get; init; }
    public required bool Recoverable { get; init; }
    public required bool Recovered { get; init; }
    public required string Message { get; init; }
    public FrameRef? RootCause { get; init; }
    public required IReadOnlyList<TaggedFrame> Frames { get; init; }
    /// <summary>The panics printed before the last one, oldest first (the <c>[recovered]</c> chain).</summary>
    public required IReadOnlyList<string> RecoveredChain { get; init; }
    /// <summary>Frame ids of the tagged log lines that preceded the crash (explicit tags).</summary>
    public required IReadOnlyList<string> FrameIds { get; init; }
    public GoroutineRef? Goroutine { get; init; }
}

public sealed record FrameRef(string Function, string File, int Line)
{
    /// <summary>file.go:line, the base name: what a reader greps for.</summary>
    public string Location => $"{System.IO.Path.GetFileName(File)}:{Line}";
}

/// <summary>A frame with its semantic tag <c>[layer:intent:frame_id]</c>; <c>inferred</c> when from the token tables.</summary>
public sealed record TaggedFrame(string Function, string File, int Line, bool InApp, string Layer, string Intent, string FrameId, bool Inferred)
{
    public string Tag => $"[{Layer}:{Intent}:{FrameId}]";
}

public sealed record GoroutineRef(long Id, string State, FrameRef? CreatedBy);

public sealed record GoroutineMatrix(IReadOnlyList<MatrixColumn> Columns, IReadOnlyList<MatrixRow> Rows);

/// <summary>A dump in the window: a goroutine_dump, or a crash's own goroutines (kind crash).</summary>
public sealed record MatrixColumn(string Id, string Kind, string Service, string Node, string Time, int GoroutineCount);

/// <summary>
/// A goroutine signature and its count in each column (in column order). <c>growing</c>: strictly rising across
/// two or more goroutine dumps of one node; <c>contention</c>: the address a contention finding names at this wait site;
/// <c>crashing</c>: the crashing goroutine's signature.
/// </summary>
public sealed record MatrixRow(string State, FrameRef? WaitSite, string CreatedBy, IReadOnlyList<int> Counts, bool Growing, string? Contention, bool Crashing);

public sealed record GcImpact(string Service, int Samples, double? RSquared, IReadOnlyList<GcImpactFactor> Factors);

public sealed record GcImpactFactor(string Factor, double? Beta, string? Note);

public sealed record EvidenceFacts(
    IReadOnlyList<string> CiPipelineIds, IReadOnlyList<AlertEvidence> AlertFingerprints, IReadOnlyList<StackHash> StackHashes, IReadOnlyList<string> DocumentIds);

/// <summary>An alert as Alertmanager knows it: its labels and their fingerprint.</summary>
public sealed record AlertEvidence(string AlertId, string Fingerprint, IReadOnlyDictionary<string, string> Labels);

/// <summary>The crash's raw text hash (the stack snapshot) and its grouping fingerprint.</summary>
public sealed record StackHash(string CrashId, string RawHash, string Fingerprint);

public sealed record CodeReference(string Service, string Function, string File, int Line, string Path, string? Url);

public sealed record VersionFacts(IReadOnlyList<string> Commits, IReadOnlyList<BuildFacts> Builds);

public sealed record BuildFacts(string Service, string GoVersion, string? MainModule, string? MainVersion, string? VcsRevision, IReadOnlyList<ModuleVersion> Modules);

public sealed record ModuleVersion(string Path, string Version);

/// <summary>Fix testability: where the root-cause function lives, a test name for it, the command and a skeleton.</summary>
public sealed record Reproduction(string Package, string Function, string TestName, string Command, string Skeleton);
