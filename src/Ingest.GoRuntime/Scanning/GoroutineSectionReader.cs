using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Parsing.Goroutines;
using Ingest.GoRuntime.Text;

namespace Ingest.GoRuntime.Scanning;

/// <summary>
/// Reads one goroutine section at a time (header, frames, <c>created by</c>, ancestors) and the crash's
/// <c>runtime stack:</c>, from lines the scanner has already recognised; it knows nothing of events. The scanner
/// decides which section a line belongs to and what a completed goroutine becomes (a bucket, a racing thrower).
///
/// Sub-states within a section: <see cref="InGoroutine"/> (reading a goroutine's frames),
/// <see cref="InRuntimeStack"/> (the runtime's own stack of a fatal error, outside any goroutine),
/// <see cref="InAncestor"/> (an <c>[originating from goroutine N]</c> block of GODEBUG=tracebackancestors, or a
/// race report's "created at" stack, which is read and dropped).
/// </summary>
internal sealed class GoroutineSectionReader
{
    private readonly List<StackFrame> _frames = [];
    private StackFrame? _pendingFunction;
    private StackFrame? _createdBy;
    private bool _createdByAwaitingFile;
    private long? _createdByGoroutine;
    private bool _retainArgs;
    // The ancestor block being read (-1: none, or a dropped race-report stack).
    private long _ancestorId = -1;
    private readonly List<StackFrame> _ancestorFrames = [];
    private StackFrame? _ancestorCreatedBy;
    private List<GoroutineAncestor>? _ancestors;
    // A function almost always lives in the same file: compare bytes with the last file seen for it instead of
    // hashing the path again.
    private string?[] _lastFile = [];
    private byte[]?[] _lastFileBytes = [];

    /// <summary>The event's string table; set for each event, released with it.</summary>
    public StringTable Strings { get; set; } = null!;

    /// <summary>Where runtime-stack frames go (the crash's), or null outside a crash.</summary>
    public List<StackFrame>? RuntimeStack { get; set; }

    public bool InGoroutine { get; private set; }
    public bool InRuntimeStack { get; set; }
    public bool InAncestor { get; private set; }
    public long Id { get; private set; }
    public string State { get; private set; } = string.Empty;
    public int StateId { get; private set; }
    public int WaitMinutes { get; private set; }
    public bool Locked { get; private set; }
    public int? M { get; private set; }
    public bool Elided { get; set; }
    public bool Unavailable { get; set; }

    /// <summary>A second thrower of the same fatal error (its stack, printed late).</summary>
    public bool Racing { get; set; }

    public bool InStack => InGoroutine || InRuntimeStack;

    public ReadOnlySpan<StackFrame> Frames => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_frames);

    public int FrameCount => _frames.Count;

    public StackFrame? CreatedBy => _createdBy;

    /// <summary>Cut mid-frame: a function line without its file line, or a created-by without its location.</summary>
    public bool CutMidFrame => _pendingFunction is not null || _createdByAwaitingFile;

    /// <param name="retainArgs">Keep the frames' argument text (the crashing goroutine's).</param>
    public void Start(in GoroutineHeader h, bool retainArgs)
    {
        InGoroutine = true;
        InRuntimeStack = false;
        InAncestor = false;
        Id = h.Id;
        State = Strings.Intern(h.State, out int stateId);
        StateId = stateId;
        WaitMinutes = h.WaitMinutes;
        Locked = h.LockedToThread;
        M = h.M;
        _retainArgs = retainArgs;
    }

    /// <summary>A race report's "created at" stack: read, not kept.</summary>
    public void BeginDroppedStack() => InAncestor = true;

    public void BeginAncestor(long id)
    {
        FlushPendingFunction();
        CloseAncestor();
        InAncestor = true;
        _ancestorId = id;
    }

    public void AddFunction(in FunctionLine fn)
    {
        if (_createdByAwaitingFile) _createdByAwaitingFile = false;
        FlushPendingFunction();
        if (InAncestor && _ancestorId < 0) return;
        string name = Strings.Intern(fn.Function, out int id);
        var flags = fn.Inlined ? FrameFlags.Inlined : FrameFlags.None;
        ulong first = 0;
        if (!fn.Inlined)
        {
            var a = fn.Args;
            int end = a.IndexOfAny((byte)',', (byte)'}');
            var tok = Ascii8.Trim(end < 0 ? a : a[..end]).TrimStart((byte)'{');
            if (!tok.IsEmpty && tok[^1] == '?')
            {
                flags |= FrameFlags.FirstArgUncertain;
                tok = tok[..^1];
            }
            if (!Ascii8.TryParseHex(tok, out first)) first = 0;
        }
        string? args = _retainArgs || InRuntimeStack ? Ascii8.Decode(fn.Args) : null;
        _pendingFunction = new StackFrame(name, id, string.Empty, 0, first, flags | FrameFlags.NoSource, args);
    }

    public void AttachFile(in FileLine file)
    {
        if (_createdByAwaitingFile && (_ancestorId >= 0 ? _ancestorCreatedBy : _createdBy) is { } c)
        {
            c = c with { File = Strings.Intern(file.Path, out _), Line = file.Line, Flags = FrameFlags.None };
            if (_ancestorId >= 0) _ancestorCreatedBy = c;
            else _createdBy = c;
            _createdByAwaitingFile = false;
            return;
        }
        if (_pendingFunction is not { } f || (InAncestor && _ancestorId < 0)) return;
        var frame = f with { File = InternFileOf(f.FunctionId, file.Path), Line = file.Line, Flags = f.Flags & ~FrameFlags.NoSource };
        _pendingFunction = null;
        AddFrame(frame);
    }

    public void SetCreatedBy(ReadOnlySpan<byte> creator, long? parent)
    {
        FlushPendingFunction();
        string fn = Strings.Intern(creator, out int id);
        var createdBy = new StackFrame(fn, id, string.Empty, 0, 0, FrameFlags.NoSource, null);
        _createdByAwaitingFile = true;
        if (_ancestorId >= 0)
        {
            _ancestorCreatedBy = createdBy;
            return;
        }
        _createdBy = createdBy;
        _createdByGoroutine = parent;
    }

    /// <summary>
    /// A stack that may be followed by ordinary lines without a blank line: its created-by was read, or it
    /// reached main.main / runtime.goexit (net/http's panic log and runtime.Stack dumps end this way).
    /// </summary>
    public bool StackComplete()
    {
        if (_createdBy is not null && !_createdByAwaitingFile) return true;
        if (_pendingFunction is not null || _createdByAwaitingFile || _frames.Count == 0) return false;
        string last = _frames[^1].Function;
        return last is "main.main" or "runtime.goexit" or "runtime.main" || Unavailable;
    }

    /// <summary>Closes the open frame and ancestor block (the section ends).</summary>
    public void Close()
    {
        FlushPendingFunction();
        CloseAncestor();
    }

    public Goroutine Materialize() => new()
    {
        Id = Id,
        State = State,
        StateId = StateId,
        WaitMinutes = WaitMinutes,
        LockedToThread = Locked,
        Frames = _frames.ToArray(),
        CreatedBy = _createdBy,
        CreatedByGoroutine = _createdByGoroutine,
        FramesElided = Elided,
        StackUnavailable = Unavailable,
        M = M,
        Ancestors = _ancestors ?? [],
    };

    public void Reset()
    {
        InGoroutine = false;
        InAncestor = false;
        _frames.Clear();
        _pendingFunction = null;
        _createdBy = null;
        _createdByAwaitingFile = false;
        _createdByGoroutine = null;
        _ancestorId = -1;
        _ancestorFrames.Clear();
        _ancestorCreatedBy = null;
        _ancestors = null;
        Elided = false;
        Unavailable = false;
        Racing = false;
        M = null;
    }

    /// <summary>The event ended: its per-event caches go with it (a worker holds thousands of idle streams).</summary>
    public void ReleaseEventState()
    {
        InRuntimeStack = false;
        Strings = null!;
        RuntimeStack = null;
        _lastFile = [];
        _lastFileBytes = [];
    }

    private string InternFileOf(int functionId, ReadOnlySpan<byte> path)
    {
        if (functionId < 0) return Strings.Intern(path, out _);
        if (functionId >= _lastFile.Length)
        {
            int size = Math.Max(Math.Max(functionId + 1, 64), _lastFile.Length * 2);
            Array.Resize(ref _lastFile, size);
            Array.Resize(ref _lastFileBytes, size);
        }
        if (_lastFileBytes[functionId] is { } known && path.SequenceEqual(known)) return _lastFile[functionId]!;
        string interned = Strings.Intern(path, out _);
        _lastFile[functionId] = interned;
        _lastFileBytes[functionId] = path.ToArray();
        return interned;
    }

    private void FlushPendingFunction()
    {
        if (_pendingFunction is not { } f) return;
        _pendingFunction = null;
        AddFrame(f);
    }

    private void AddFrame(in StackFrame frame)
    {
        if (InRuntimeStack && !InGoroutine) RuntimeStack?.Add(frame);
        else if (_ancestorId >= 0) _ancestorFrames.Add(frame);
        else _frames.Add(frame);
    }

    private void CloseAncestor()
    {
        if (_ancestorId < 0) return;
        (_ancestors ??= []).Add(new GoroutineAncestor(_ancestorId, _ancestorFrames.ToArray(), _ancestorCreatedBy));
        _ancestorId = -1;
        _ancestorFrames.Clear();
        _ancestorCreatedBy = null;
    }
}
