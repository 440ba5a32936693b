namespace Ingest.Pipeline.Model;

/// <summary>
/// Where a line came from. Multi-line runtime output is reassembled per stream and never across streams:
/// (topic, partition, source) where source is the producer's identity (host/pod/container and stdout/stderr).
/// </summary>
public readonly record struct StreamKey(string Topic, int Partition, string Source)
{
    public override string ToString() => $"{Topic}/{Partition}/{Source}";
}

/// <summary>What the shipper told us about the producer of a line (all optional).</summary>
public sealed record SourceMetadata
{
    public static readonly SourceMetadata Empty = new();

    public string? Service { get; init; }
    public string? Host { get; init; }
    public string? Pod { get; init; }
    public string? Namespace { get; init; }
    public string? Container { get; init; }
    public string? Stream { get; init; }
    public string? TraceId { get; init; }
    public string? SpanId { get; init; }
    public string? ServiceVersion { get; init; }
    /// <summary>A hybrid logical clock stamp written by the service (field or header "hlc"), as text.</summary>
    public string? Hlc { get; init; }
    /// <summary>The CI pipeline run that built what is running, when the shipper says (postmortem evidence).</summary>
    public string? CiPipelineId { get; init; }

    /// <summary>The service as users name it: what the shipper says, else the container's name.</summary>
    public string? ServiceName => Service ?? Container;

    /// <summary>What the store, metrics and API call a service nobody named (a raw topic without headers).</summary>
    public const string UnknownService = "unknown";

    private string? _identity;

    /// <summary>The stream identity used for reassembly; distinct pods and stdout/stderr never mix.</summary>
    public string Identity(string fallback) => _identity ??= ComputeIdentity(fallback);

    private string ComputeIdentity(string fallback)
    {
        string who = Pod ?? Container ?? Host ?? Service ?? fallback;
        string ns = Namespace is null ? string.Empty : Namespace + "/";
        string container = Pod is not null && Container is not null ? "/" + Container : string.Empty;
        string std = Stream is null ? string.Empty : ":" + Stream;
        return ns + who + container + std;
    }
}

/// <summary>
/// One log line with its position: (offset, index of the line inside the message). <see cref="Timestamp"/> is
/// when the line was written (the envelope's time, else the message's); <see cref="MessageTime"/> is the Kafka
/// message timestamp, the clock that decides when a stream has gone quiet.
/// </summary>
public readonly record struct LogRecord(
    StreamKey Key,
    ReadOnlyMemory<byte> Line,
    long Offset,
    int LineIndex,
    DateTimeOffset Timestamp,
    SourceMetadata Metadata,
    DateTimeOffset MessageTime)
{
    /// <summary>Lines per message that positions can tell apart; the rest of a larger message shares the last index.</summary>
    public const int MaxLinesPerMessage = 1 << 20;

    /// <summary>The scanner's opaque position: offset and line index in one ordered number.</summary>
    public long Position => Offset * MaxLinesPerMessage + Math.Min(LineIndex, MaxLinesPerMessage - 1);

    public static long OffsetOf(long position) => position / MaxLinesPerMessage;

    public static int LineIndexOf(long position) => (int)(position % MaxLinesPerMessage);
}
