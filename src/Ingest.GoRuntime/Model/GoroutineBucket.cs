namespace Ingest.GoRuntime.Model;

/// <summary>Goroutines with the same state and the same stack (functions and lines; arguments ignored).</summary>
public sealed class GoroutineBucket
{
    public required string State { get; init; }
    /// <summary>Ids kept per bucket; the count goes on past it (a 36,000-goroutine bucket keeps the first ids only).</summary>
    public const int MaxIds = 1000;

    public required Goroutine Representative { get; init; }
    /// <summary>The first <see cref="MaxIds"/> goroutine ids, in dump order.</summary>
    public List<long> Ids { get; } = [];
    public int Count { get; private set; }

    public void AddId(long id)
    {
        if (Ids.Count < MaxIds) Ids.Add(id);
        Count++;
    }
    public int MaxWaitMinutes { get; set; }
    public int MinWaitMinutes { get; set; } = int.MaxValue;
    public int LockedToThread { get; set; }
    public string TopFunction => Representative.Frames.Length > 0 ? Representative.Frames[0].Function : string.Empty;
    public string? CreatedBy => Representative.CreatedBy?.Function;
    /// <summary>First frame of the service's code, else first outside the runtime; set when the event completes.</summary>
    public FrameRef? WaitSite { get; set; }
}

public sealed record HolderSuspect(long GoroutineId, string State, string Function, string Reason);

/// <summary>Something in a dump an SRE should look at: contention, long waits, deadlock.</summary>
public sealed record BlockingFinding
{
    /// <summary>"contention", "long_wait", "deadlock".</summary>
    public required string Kind { get; init; }
    public required string Summary { get; init; }
    public string? WaitFunction { get; init; }
    public string? Address { get; init; }
    public string? Caller { get; init; }
    public int GoroutineCount { get; init; }
    public int MaxWaitMinutes { get; init; }
    public required IReadOnlyList<long> SampleIds { get; init; }
    public HolderSuspect? SuspectedHolder { get; init; }
    /// <summary>Where the goroutines of the finding are, in the service's code when they reach it.</summary>
    public FrameRef? WaitSite { get; init; }
}
