namespace Ingest.GoRuntime.Model;

/// <summary>One <c>goroutine N [state]:</c> section.</summary>
public sealed class Goroutine
{
    public required long Id { get; init; }
    /// <summary>Text before the first ", " inside the brackets: "chan receive", "running", "sync.Mutex.Lock".</summary>
    public required string State { get; init; }
    public int StateId { get; init; }
    public int WaitMinutes { get; init; }
    public bool LockedToThread { get; init; }
    public required StackFrame[] Frames { get; init; }
    public StackFrame? CreatedBy { get; init; }
    /// <summary>Go 1.21+: "created by X in goroutine N".</summary>
    public long? CreatedByGoroutine { get; init; }
    public bool FramesElided { get; init; }
    /// <summary>"goroutine running on other thread; stack unavailable".</summary>
    public bool StackUnavailable { get; init; }
    /// <summary>The m= field of Go 1.2x crash headers, when printed.</summary>
    public int? M { get; init; }
    /// <summary>GODEBUG=tracebackancestors: the creating goroutines' stacks, nearest first.</summary>
    public IReadOnlyList<GoroutineAncestor> Ancestors { get; init; } = [];
}

/// <summary>One <c>[originating from goroutine N]:</c> section: the creator's stack when it started the goroutine.</summary>
public sealed record GoroutineAncestor(long Id, StackFrame[] Frames, StackFrame? CreatedBy);
