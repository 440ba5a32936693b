namespace Ingest.Pipeline.Delivery;

/// <summary>
/// Per stream of a partition, the position (offset and line) of the end of the last event the sink stored.
/// A partition is re-read from its committed offset, which may lie inside events of other streams that were
/// already stored (the offset cannot pass a still-open event of any stream). Lines at or before a stream's
/// watermark were fully processed: skipping them keeps a re-read from cutting a stored crash into a bogus
/// partial one. Sinks deliver in order, so a stream's stored events always form a prefix.
/// </summary>
public interface IResumeWatermarks
{
    IReadOnlyDictionary<string, long> Load(string topic, int partition);
}
