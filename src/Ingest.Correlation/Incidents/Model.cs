using Ingest.Correlation.Clocks;
using Ingest.Correlation.Model;

namespace Ingest.Correlation.Incidents;

public enum FailureKind
{
    Crash,
    ErrorSpan,
    Blocking,
    GcAnomaly,
}

public static class FailureKinds
{
    /// <summary>The kind's name in documents and on the detections topic.</summary>
    public static string Name(FailureKind kind) => kind switch
    {
        FailureKind.Crash => "crash",
        FailureKind.ErrorSpan => "error_span",
        FailureKind.Blocking => "blocking",
        FailureKind.GcAnomaly => "gc_anomaly",
        _ => "unknown",
    };

    private static readonly FailureKind[] s_all = Enum.GetValues<FailureKind>();

    /// <summary>The kind a name stands for (the inverse of <see cref="Name"/>); null for any other text.</summary>
    public static FailureKind? Parse(string? name)
    {
        foreach (var kind in s_all)
        {
            if (Name(kind) == name) return kind;
        }
        return null;
    }
}

/// <summary>A failure a detector found (a crash, an error span, a blocking finding, a GC anomaly) on one node.</summary>
public sealed record DetectedEvent
{
    /// <summary>The service name of events whose source named none.</summary>
    public const string UnknownService = "unknown";

    /// <summary>The document id of the evidence (crash:logs:3:1024:0, an alert id, span:trace:span).</summary>
    public required string Id { get; init; }
    public required FailureKind Kind { get; init; }
    public required string Service { get; init; }
    public required string Node { get; init; }
    /// <summary>When it happened by the node's own clock (Unix nanoseconds).</summary>
    public required long TimeUnixNanos { get; init; }
    public string? TraceId { get; init; }
    public string? SpanId { get; init; }
    /// <summary>The caller's span, when the failure's own span was never exported (a crashed callee).</summary>
    public string? ParentSpanId { get; init; }
    public required string Summary { get; init; }
    public string? Fingerprint { get; init; }
    /// <summary>A stamp the service wrote itself (log field hlc), merged into the node's clock.</summary>
    public HybridTimestamp? Hlc { get; init; }
    /// <summary>The log stream it came from (file, pod): the only identity of a failure whose service is unknown.</summary>
    public string? Stream { get; init; }
    /// <summary>For crashes (and spans carrying one): what the crash parser found.</summary>
    public CrashInfo? Crash { get; init; }

    public bool KnownService => Service.Length > 0 && Service != UnknownService;

    /// <summary>What an untraced failure may be linked by: its service, or when that is unknown its stream and host.</summary>
    public string Identity => KnownService ? "service:" + Service : $"stream:{Stream}@{Node}";
}

/// <summary>An event placed in causal order, with what made its stamp doubtful.</summary>
public sealed record StampedEvent(DetectedEvent Event, NodeStamp Stamp, bool ClockSkew, bool Late);

/// <summary>One hop of how a failure spread: a service, its first failure, and whether it served again after.</summary>
/// <param name="RecoveredAtUnixNanos">When the service first served successfully after its last failure here; null
/// while it has not, or when a later failure elsewhere has since superseded what was seen.</param>
public sealed record PropagationStep(string Service, FailureKind FirstFailure, NodeStamp At, bool Recovered, long? RecoveredAtUnixNanos = null);

/// <summary>Failures linked by trace or by service and time, in causal (HLC) order.</summary>
public sealed record Incident
{
    public required string Id { get; init; }
    public required IReadOnlyList<StampedEvent> Events { get; init; }
    /// <summary>The first failure in causal order.</summary>
    public required StampedEvent RootCause { get; init; }
    /// <summary>The root cause's crash category when it is a crash (or a span carrying one), else its kind.</summary>
    public string Classification => RootCause.Event.Crash?.Category ?? FailureKinds.Name(RootCause.Event.Kind);
    public required IReadOnlyList<PropagationStep> Path { get; init; }
    public required IReadOnlyList<string> TraceIds { get; init; }
    public required IReadOnlyList<string> Services { get; init; }
    public required IReadOnlyList<string> Nodes { get; init; }
}

/// <summary>A caller → callee edge of the service graph.</summary>
public sealed record DependencyEdge(string Caller, string Callee, long Calls, long Errors, long CrashesPropagated);
