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

    /// <summary>The document id its type derives from its origin (<see cref="EventTypes"/>): a re-read yields the same.</summary>
    public static string IdFor(RuntimeEvent e, StreamKey stream) => EventTypes.For(e).IdOf(e, stream);
}
