namespace Ingest.Pipeline.Assembly;

public sealed class AssemblerOptions
{
    public const string SectionName = "Assembly";

    /// <summary>A stream with an open event and no new line for this long is flushed (the event is complete).</summary>
    public TimeSpan IdleFlush { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Streams kept at once; past this, the least recently used one is flushed and dropped.</summary>
    public int MaxOpenStreams { get; set; } = 20_000;

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (IdleFlush <= TimeSpan.Zero || IdleFlush > TimeSpan.FromMinutes(10)) errors.Add("Assembly:IdleFlush must be between 0 and 10 minutes");
        if (MaxOpenStreams < 1) errors.Add("Assembly:MaxOpenStreams must be at least 1");
        return errors;
    }
}
