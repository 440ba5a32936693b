namespace Ingest.Correlation.Model;

public enum SpanStatus
{
    Unset = 0,
    Ok = 1,
    Error = 2,
}

/// <summary>An <c>exception</c> span event (OpenTelemetry semantic conventions).</summary>
public sealed record SpanException(string? Type, string? Message, string? StackTrace)
{
    /// <summary>Set when the stack trace is Go runtime output the crash parser understood.</summary>
    public CrashInfo? Crash { get; init; }
}

/// <summary>What the crash parser made of a panic: its category, the first frame of the service's own code, and
/// the fingerprint that identifies the same bug wherever it is seen.</summary>
public sealed record CrashInfo(string Category, string? RootCauseFrame, string? Fingerprint);

/// <summary>One span as the OpenTelemetry Collector exports it, reduced to what correlation needs.</summary>
public sealed record SpanRecord
{
    public required string TraceId { get; init; }
    public required string SpanId { get; init; }
    public string? ParentSpanId { get; init; }
    public required string Name { get; init; }
    /// <summary>Resource attribute service.name.</summary>
    public required string Service { get; init; }
    /// <summary>Where it ran: host.name, else k8s.node.name, else k8s.pod.name, else the service.</summary>
    public required string Node { get; init; }
    public required long StartUnixNanos { get; init; }
    public required long EndUnixNanos { get; init; }
    public SpanStatus Status { get; init; }
    public string? StatusMessage { get; init; }
    public IReadOnlyList<SpanException> Exceptions { get; init; } = [];
    /// <summary>A hybrid logical clock stamp the service attached (attribute "hlc"), if any.</summary>
    public string? Hlc { get; init; }
}
