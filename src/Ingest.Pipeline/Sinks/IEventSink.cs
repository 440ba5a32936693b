using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Sinks;

/// <summary>
/// Writes one batch durably or throws. Sinks retry only what they can classify per item (a bulk API's 429s);
/// <see cref="BatchingSinkHost"/> owns batching, whole-batch retries and acknowledgement. Writes must be
/// idempotent by <see cref="IndexedEvent.Id"/>.
/// </summary>
public interface IEventSink
{
    /// <summary>
    /// Stores the batch and returns the events the store refused for good (a mapping conflict, a document too
    /// large): those go to the dead-letter topic instead. Everything else in the batch is stored when this returns.
    /// </summary>
    Task<IReadOnlyList<SinkRejection>> WriteBatchAsync(IReadOnlyList<IndexedEvent> batch, CancellationToken cancellationToken);
}

/// <summary>An event the store will never accept, the store's reason, and the document it refused.</summary>
public sealed record SinkRejection(IndexedEvent Event, string Reason, byte[] Document);
