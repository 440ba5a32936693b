using System.Security.Cryptography;
using System.Text;
using Ingest.GoRuntime.Model;

namespace Ingest.Pipeline.Model;

/// <summary>
/// A runtime event ready for a sink: the event, where it started in Kafka, who produced it, and a document id
/// derived from that origin, so re-reading the same messages after a crash or rebalance yields the same id.
/// </summary>
public sealed record IndexedEvent
{
    public required string Id { get; init; }
    public required RuntimeEvent Event { get; init; }
    public required StreamKey Stream { get; init; }
    /// <summary>Kafka offset of the event's first line (the low watermark it holds while unacknowledged).</summary>
    public required long FirstOffset { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public required SourceMetadata Metadata { get; init; }
    /// <summary>
    /// Its acknowledgement, from the source that read it (<see cref="Delivery.DeliveryToken"/>). None for documents
    /// not tied to an offset (an alert resolved because its instance went quiet, incidents).
    /// </summary>
    public Delivery.DeliveryToken Delivery { get; init; } = Pipeline.Delivery.DeliveryToken.None;

    /// <summary>Whether it holds an offset until acknowledged.</summary>
    public bool Tracked => Delivery.Tracked;

    /// <summary>"crash:logs:3:1024:0", or for leak suspects (one document per stream and site) a stable hash.</summary>
    public static string IdFor(RuntimeEvent e, StreamKey stream)
    {
        string type = Ingest.GoRuntime.Serialization.EventJsonWriter.TypeName(e.Type);
        if (e is GcAlertEvent alert)
        {
            // One document per episode: where it opened, and which detector.
            return $"{type}:{stream.Topic}:{stream.Partition}:{LogRecord.OffsetOf(e.Line)}:{LogRecord.LineIndexOf(e.Line)}:{alert.Kind}";
        }
        if (e is LeakSuspectEvent leak)
        {
            byte[] h = SHA256.HashData(Encoding.UTF8.GetBytes($"{stream}|{leak.CreatedBy}|{leak.TopFunction}"));
            return $"{type}:{Convert.ToHexStringLower(h.AsSpan(0, 12))}";
        }
        return $"{type}:{stream.Topic}:{stream.Partition}:{LogRecord.OffsetOf(e.Line)}:{LogRecord.LineIndexOf(e.Line)}";
    }
}
