using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Analysis;

/// <summary>
/// A step between the assembler and the sink that sees every event of every stream (in stream order, on the
/// source's processing thread) and may enrich it or add events of its own. Added events passed to
/// <c>next</c> carry the origin (stream, first offset) of the event that caused them, so the offset tracker
/// holds that offset until they are stored as well.
/// </summary>
public interface IEventStage
{
    void Process(IndexedEvent e, Action<IndexedEvent> next);

    /// <summary>Periodic work (from the source's housekeeping); events passed to <c>emit</c> are untracked.</summary>
    void Tick(DateTimeOffset now, Action<IndexedEvent> emit);
}

/// <summary>No stage: events go straight to the sink (tests and benchmarks that measure assembly and storage alone).</summary>
public sealed class NoStage : IEventStage
{
    public static readonly NoStage Instance = new();

    public void Process(IndexedEvent e, Action<IndexedEvent> next) => next(e);

    public void Tick(DateTimeOffset now, Action<IndexedEvent> emit)
    {
    }
}
