namespace Ingest.Pipeline.Assembly;

public sealed class AssemblerOptions
{
    public const string SectionName = "Assembly";

    /// <summary>A stream with an open event and no new line for this long is flushed (the event is complete).</summary>
    public TimeSpan IdleFlush { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Streams kept at once; past this, the least recently used one is flushed and dropped.</summary>
    public int MaxOpenStreams { get; set; } = 20_000;

    /// <summary>
    /// Memory budget of all open events together (what <c>RuntimeOutputScanner.OpenBytes</c> accounts). Past it
    /// the largest open events are closed as truncated events. The default leaves room inside the Helm chart's
    /// 1 GiB limit for the idle streams, the sink queue and the Kafka client (docs/operations.md).
    /// </summary>
    public long MaxOpenBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Open events at once; past it the least recently active are closed as truncated events. As many as
    /// streams by default: the byte budget is what binds, this bounds the count when streams are raised.
    /// </summary>
    public int MaxOpenEvents { get; set; } = 20_000;

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (MaxOpenBytes < 1024 * 1024) errors.Add("Assembly:MaxOpenBytes must be at least 1 MiB (1048576)");
        if (MaxOpenEvents < 1) errors.Add("Assembly:MaxOpenEvents must be at least 1");
        if (IdleFlush <= TimeSpan.Zero || IdleFlush > TimeSpan.FromMinutes(10)) errors.Add("Assembly:IdleFlush must be between 0 and 10 minutes");
        if (MaxOpenStreams < 1) errors.Add("Assembly:MaxOpenStreams must be at least 1");
        return errors;
    }
}
