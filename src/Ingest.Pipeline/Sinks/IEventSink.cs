using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Sinks;

/// <summary>
/// Writes one batch durably or throws. Sinks never retry on their own: <see cref="BatchingSinkHost"/> owns
/// batching, retries and acknowledgement. Writes must be idempotent by <see cref="IndexedEvent.Id"/>.
/// </summary>
public interface IEventSink
{
    Task WriteBatchAsync(IReadOnlyList<IndexedEvent> batch, CancellationToken cancellationToken);
}
