using System.Globalization;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Parsing.Crashes;
using Ingest.GoRuntime.Parsing.Goroutines;
using Ingest.GoRuntime.Text;

namespace Ingest.GoRuntime.Scanning;

public sealed partial class RuntimeOutputScanner
{
    private enum Step { Claimed, Foreign, NotPart }

    private const int MaxContinuationLines = 50;
    private const int MaxForeignRun = 8;

    // The goroutine section being read.
    private bool _inGoroutine;
    private bool _inRuntimeStack;
    private bool _inAncestor;
    private bool _retainArgs;
    private long _gId;
    private string _gState = string.Empty;
    private int _gStateId;
    private int _gMinutes;
    private bool _gLocked;
    private int? _gM;
    private bool _gElided;
    private bool _gUnavailable;
    private bool _gRacing;
    private int _racingThrows;
    private readonly List<StackFrame> _frames = [];
    private StackFrame? _pendingFunction;
    private StackFrame? _createdBy;
    private bool _createdByAwaitingFile;
    private long? _createdByGoroutine;
    // GODEBUG=tracebackancestors: the [originating from goroutine N] section being read (-1: none, or a race
    // report's "created at" stack, which is dropped).
    private long _ancestorId = -1;
    private readonly List<StackFrame> _ancestorFrames = [];
    private StackFrame? _ancestorCreatedBy;
    private List<GoroutineAncestor>? _ancestors;

    private Step Continue(ReadOnlySpan<byte> line, long position)
    {
        var e = _event!;
        if (e.LineCount >= _options.MaxEventLines || e.ByteCount + line.Length >= _options.MaxEventBytes)
        {
            e.Truncated = true; // Push finishes it; the line starts whatever comes next
            return Step.NotPart;
        }
        var step = _phase == Phase.Header ? HeaderLine(line) : SectionLine(line);
        if (step == Step.Claimed)
        {
            AppendRaw(line);
            e.EndLine = position;
            _foreignRun = 0;
            if (_finishPending) FinishEvent(truncated: false); // "exit status N" closed the event
        }
        else if (step == Step.Foreign)
        {
            e.InterleavedLines++;
            _foreignRun++;
        }
        return step;
    }

    private Step HeaderLine(ReadOnlySpan<byte> line)
    {
        var crash = _crash;
        if (crash?.Kind == CrashKinds.DataRace) return RaceLine(line);
        if (Ascii8.IsBlank(line))
        {
            _sawBlankInHeader = true;
            return Step.Claimed;
        }
        if (GoroutineGrammar.TryParseHeader(line, out var h))
        {
            _phase = Phase.Sections;
            StartGoroutine(h);
            return Step.Claimed;
        }
        if (line.StartsWith("runtime stack:"u8))
        {
            _phase = Phase.Sections;
            _inRuntimeStack = true;
            return Step.Claimed;
        }
        if (crash is not null)
        {
            if (CrashLines.TryParsePanic(line, out var value, out bool nested) && nested)
            {
                crash.Panics.Add(StripRecovered(value));
                _sawBlankInHeader = false;
                _continuationLines = 0;
                return Step.Claimed;
            }
            if (CrashLines.TryParseSignalLine(line, out var signal))
            {
                crash.Signal = signal;
                return Step.Claimed;
            }
            if (crash.Kind == CrashKinds.Signal && CrashLines.TryParseFatal(line, out var fatal))
            {
                crash.Panics.Add(Ascii8.Decode(fatal));
                return Step.Claimed;
            }
            if (IsRepeatedThrow(line)) return Step.Claimed;
        }
        if (TrySignalDetail(line)) return Step.Claimed;
        if (line.StartsWith("runtime: "u8))
        {
            crash?.Preamble.Add(Ascii8.Decode(line));
            return Step.Claimed;
        }
        if (CrashLines.TryParseExitStatus(line, out int status))
        {
            if (crash is not null) crash.ExitStatus = status;
            FinishAfterThisLine();
            return Step.Claimed;
        }
        if (crash is not null && !_sawBlankInHeader && crash.Panics.Count > 0 && _continuationLines < MaxContinuationLines &&
            crash.Kind == CrashKinds.Panic && !line.StartsWith("panic: "u8) && !line.StartsWith("fatal error: "u8))
        {
            // A multi-line panic value ("panic: line one\nline two"), kept to MaxLineBytes in all.
            _continuationLines++;
            int room = _options.MaxLineBytes - crash.Panics[^1].Length - 1;
            if (room > 0) crash.Panics[^1] += "\n" + Ascii8.Decode(line.Length <= room ? line : line[..room]);
            return Step.Claimed;
        }
        return Step.NotPart;
    }

    /// <summary><c>PC=0x... m=0 sigcode=0</c>, <c>signal arrived during cgo execution</c>, <c>SIGABRT: abort</c> after a crash.</summary>
    private bool TrySignalDetail(ReadOnlySpan<byte> line)
    {
        if (CrashLines.TryParsePcLine(line, out string? pc, out string? sigcode, out string? addr))
        {
            if (_crash is { } c)
            {
                c.Signal = c.Signal is null ? new SignalInfo("unknown", sigcode, addr, pc) : c.Signal with { Code = c.Signal.Code ?? sigcode, Pc = c.Signal.Pc ?? pc, Addr = c.Signal.Addr ?? addr };
            }
            else if (_event is GoroutineDumpEvent d)
            {
                d.Pc = pc;
            }
            return true;
        }
        if (line.StartsWith("signal arrived during "u8))
        {
            _crash?.Preamble.Add(Ascii8.Decode(line));
            return true;
        }
        return false;
    }

    /// <summary>
    /// Race detector report: access sections (<c>Write at 0x.. by goroutine 7:</c>) become goroutines in state
    /// running; <c>Goroutine 7 (running) created at:</c> stacks are read and dropped; the <c>=====</c> rule ends it.
    /// </summary>
    private Step RaceLine(ReadOnlySpan<byte> line)
    {
        var crash = _crash!;
        if (CrashLines.TryParseRaceAccess(line, out var op, out long gid))
        {
            CompleteGoroutine();
            _phase = Phase.Sections;
            StartGoroutine(new GoroutineHeader { Id = gid, State = "running"u8 });
            string desc = $"{Ascii8.Decode(op).ToLowerInvariant()} by goroutine {gid}";
            crash.Panics[^1] = crash.Panics[^1] == "DATA RACE" ? "DATA RACE: " + desc : crash.Panics[^1] + ", " + desc;
            return Step.Claimed;
        }
        if (CrashLines.IsRaceCreatedAt(line))
        {
            CompleteGoroutine();
            _inAncestor = true;
            return Step.Claimed;
        }
        if (CrashLines.IsRaceSeparator(line))
        {
            FinishAfterThisLine();
            return Step.Claimed;
        }
        if (Ascii8.IsBlank(line))
        {
            CompleteGoroutine();
            return Step.Claimed;
        }
        if (_inGoroutine || _inAncestor)
        {
            if (GoroutineGrammar.TryParseFileLine(line, out var file))
            {
                AttachFile(file);
                return Step.Claimed;
            }
            if (GoroutineGrammar.TryParseFunction(line, out var fnLine))
            {
                AddFunction(fnLine);
                return Step.Claimed;
            }
        }
        return _inGoroutine && _foreignRun < MaxForeignRun ? Step.Foreign : Step.NotPart;
    }

    private Step SectionLine(ReadOnlySpan<byte> line)
    {
        if (_crash?.Kind == CrashKinds.DataRace) return RaceLine(line);
        // Hot path of a 100,000-goroutine dump: trim once, dispatch on the first byte, try the likely shapes first.
        var t = Ascii8.Trim(line);
        if (t.IsEmpty)
        {
            CompleteGoroutine();
            _inRuntimeStack = false;
            return Step.Claimed;
        }
        bool inStack = _inGoroutine || _inRuntimeStack;
        bool indented = line[0] is (byte)'\t' or (byte)' ';
        if (inStack && indented && GoroutineGrammar.TryParseFileLineTrimmed(t, out var file))
        {
            AttachFile(file);
            return Step.Claimed;
        }
        switch (t[0])
        {
            case (byte)'g':
                if (GoroutineGrammar.TryParseHeaderTrimmed(t, out var h))
                {
                    // A goroutine id seen twice means a second dump started right after this one, unless a second
                    // thrower was announced: its stack, printed as unavailable before, comes after the others.
                    bool racing = _seenIds.Contains(h.Id);
                    if (racing && !(_crash is { } c && _racingThrows > c.RacingThrowers.Count && h.State.SequenceEqual("running"u8))) return Step.NotPart;
                    CompleteGoroutine();
                    StartGoroutine(h);
                    _gRacing = racing;
                    return Step.Claimed;
                }
                if (inStack && GoroutineGrammar.IsStackUnavailable(t))
                {
                    _gUnavailable = true;
                    return Step.Claimed;
                }
                break;
            case (byte)'r':
                if (t.SequenceEqual("runtime stack:"u8))
                {
                    CompleteGoroutine();
                    _inRuntimeStack = true;
                    return Step.Claimed;
                }
                break;
            case (byte)'c':
                if (inStack && GoroutineGrammar.TryParseCreatedByTrimmed(t, out var creator, out long? parent))
                {
                    FlushPendingFunction();
                    string fn = _strings.Intern(creator, out int id);
                    var createdBy = new StackFrame(fn, id, string.Empty, 0, 0, FrameFlags.NoSource, null);
                    _createdByAwaitingFile = true;
                    if (_ancestorId >= 0)
                    {
                        _ancestorCreatedBy = createdBy;
                        return Step.Claimed;
                    }
                    _createdBy = createdBy;
                    _createdByGoroutine = parent;
                    return Step.Claimed;
                }
                break;
            case (byte)'.':
                if (inStack && GoroutineGrammar.IsElided(t))
                {
                    _gElided = true;
                    return Step.Claimed;
                }
                break;
            case (byte)'[':
                if (inStack && GoroutineGrammar.TryParseAncestorHeader(t, out long ancestor))
                {
                    FlushPendingFunction();
                    CloseAncestor();
                    _inAncestor = true;
                    _ancestorId = ancestor;
                    return Step.Claimed;
                }
                break;
        }
        if (inStack && GoroutineGrammar.TryParseFunctionTrimmed(t, out var fnLine))
        {
            AddFunction(fnLine);
            return Step.Claimed;
        }
        if (GoroutineGrammar.IsRegisterLine(line)) return Step.Claimed;
        if (CrashLines.TryParseSignalHeader(line, out _))
        {
            // GOTRACEBACK=crash re-raises (SIGABRT) after the crash output; a second SIGQUIT is a new dump.
            if (_crash is null) return Step.NotPart;
            _crash.Preamble.Add(Ascii8.Decode(line));
            return Step.Claimed;
        }
        if (TrySignalDetail(line)) return Step.Claimed;
        if (CrashLines.TryParseExitStatus(line, out int status))
        {
            if (_crash is not null) _crash.ExitStatus = status;
            FinishAfterThisLine();
            return Step.Claimed;
        }
        if (IsRepeatedThrow(line)) return Step.Claimed;
        if (line.StartsWith("panic: "u8) || line.StartsWith("fatal error: "u8) || line.IndexOf("http: panic serving "u8) >= 0) return Step.NotPart;
        // Another writer's line in the middle of a goroutine's stack: tolerate a few. A foreign line after a
        // stack that is complete (created-by read, or it reached main.main / runtime.goexit) ends the output:
        // net/http's panic log and runtime.Stack dumps are followed by ordinary lines without a blank line.
        if (_inGoroutine && !GoroutineStackComplete() && _foreignRun < MaxForeignRun) return Step.Foreign;
        return Step.NotPart;
    }

    /// <summary>
    /// Two goroutines threw the same fatal error at once (concurrent map writes): the second's header line can
    /// come anywhere in the first's output, and its stack after all the others. One crash, not two.
    /// </summary>
    private bool IsRepeatedThrow(ReadOnlySpan<byte> line)
    {
        if (_crash is not { Kind: CrashKinds.Fatal } crash || !CrashLines.TryParseFatal(line, out var again) || Ascii8.Decode(again) != crash.Panics[^1]) return false;
        _racingThrows++;
        return true;
    }

    private GoroutineIdSet? _seenIdsOrNull;
    private GoroutineIdSet _seenIds => _seenIdsOrNull ??= new GoroutineIdSet();

    private bool GoroutineStackComplete()
    {
        if (_createdBy is not null && !_createdByAwaitingFile) return true;
        if (_pendingFunction is not null || _createdByAwaitingFile || _frames.Count == 0) return false;
        string last = _frames[^1].Function;
        return last is "main.main" or "runtime.goexit" or "runtime.main" || _gUnavailable;
    }

    private void StartGoroutine(in GoroutineHeader h)
    {
        _seenIds.Add(h.Id);
        _inGoroutine = true;
        _inRuntimeStack = false;
        _inAncestor = false;
        _gId = h.Id;
        _gState = _strings.Intern(h.State, out _gStateId);
        _gMinutes = h.WaitMinutes;
        _gLocked = h.LockedToThread;
        _gM = h.M;
        _retainArgs = _crash is not null && _crash.CrashingGoroutine is null;
    }

    private void AddFunction(in FunctionLine fn)
    {
        if (_createdByAwaitingFile) _createdByAwaitingFile = false;
        FlushPendingFunction();
        if (_inAncestor && _ancestorId < 0) return;
        string name = _strings.Intern(fn.Function, out int id);
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
        string? args = _retainArgs || _inRuntimeStack ? Ascii8.Decode(fn.Args) : null;
        _pendingFunction = new StackFrame(name, id, string.Empty, 0, first, flags | FrameFlags.NoSource, args);
    }

    private void AttachFile(in FileLine file)
    {
        if (_createdByAwaitingFile && (_ancestorId >= 0 ? _ancestorCreatedBy : _createdBy) is { } c)
        {
            c = c with { File = _strings.Intern(file.Path, out _), Line = file.Line, Flags = FrameFlags.None };
            if (_ancestorId >= 0) _ancestorCreatedBy = c;
            else _createdBy = c;
            _createdByAwaitingFile = false;
            return;
        }
        if (_pendingFunction is not { } f || (_inAncestor && _ancestorId < 0)) return;
        var frame = f with { File = InternFileOf(f.FunctionId, file.Path), Line = file.Line, Flags = f.Flags & ~FrameFlags.NoSource };
        _pendingFunction = null;
        AddFrame(frame);
    }

    // A function almost always lives in the same file: compare bytes with the last file seen for it
    // instead of hashing the path again.
    private string?[] _lastFile = [];
    private byte[]?[] _lastFileBytes = [];

    private string InternFileOf(int functionId, ReadOnlySpan<byte> path)
    {
        if (functionId < 0) return _strings.Intern(path, out _);
        if (functionId >= _lastFile.Length)
        {
            int size = Math.Max(Math.Max(functionId + 1, 64), _lastFile.Length * 2);
            Array.Resize(ref _lastFile, size);
            Array.Resize(ref _lastFileBytes, size);
        }
        if (_lastFileBytes[functionId] is { } known && path.SequenceEqual(known)) return _lastFile[functionId]!;
        string interned = _strings.Intern(path, out _);
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
        if (_inRuntimeStack && !_inGoroutine) _crash?.RuntimeStack.Add(frame);
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

    private void CompleteGoroutine()
    {
        FlushPendingFunction();
        CloseAncestor();
        if (!_inGoroutine)
        {
            ResetGoroutine();
            return;
        }
        var e = _event!;
        // A header with no frame after it: the output was cut before the stack.
        if (_frames.Count == 0 && !_gUnavailable && !_gElided) e.Truncated = true;
        if (_gRacing)
        {
            _crash!.RacingThrowers.Add(Materialize());
            ResetGoroutine();
            return;
        }
        e.GoroutineCount++;
        e.States[_gState] = e.States.GetValueOrDefault(_gState) + 1;
        var frames = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_frames);
        if (e.FirstGoroutine is null)
        {
            var first = Materialize();
            e.FirstGoroutine = first;
            if (_crash is not null) _crash.CrashingGoroutine = first;
            _bucketer.Add(first);
        }
        else
        {
            _bucketer.Add(_gId, _gState, _gStateId, _gMinutes, _gLocked, _gUnavailable, frames, _createdBy, Materialize);
        }
        _blocking.Observe(_gId, _gState, _gStateId, frames);
        ResetGoroutine();
    }

    private Goroutine Materialize() => new()
    {
        Id = _gId,
        State = _gState,
        StateId = _gStateId,
        WaitMinutes = _gMinutes,
        LockedToThread = _gLocked,
        Frames = _frames.ToArray(),
        CreatedBy = _createdBy,
        CreatedByGoroutine = _createdByGoroutine,
        FramesElided = _gElided,
        StackUnavailable = _gUnavailable,
        M = _gM,
        Ancestors = _ancestors ?? [],
    };

    private void ResetGoroutine()
    {
        _inGoroutine = false;
        _inAncestor = false;
        _frames.Clear();
        _pendingFunction = null;
        _createdBy = null;
        _createdByAwaitingFile = false;
        _createdByGoroutine = null;
        _ancestorId = -1;
        _ancestorFrames.Clear();
        _ancestorCreatedBy = null;
        _ancestors = null;
        _gElided = false;
        _gUnavailable = false;
        _gRacing = false;
        _gM = null;
    }

    private bool _finishPending;

    private void FinishAfterThisLine() => _finishPending = true;

    private void FinishEvent(bool truncated)
    {
        // Cut mid-frame: a function line without its file line, or a created-by without its location.
        truncated |= _pendingFunction is not null || _createdByAwaitingFile;
        CompleteGoroutine();
        _inRuntimeStack = false;
        var e = _event!;
        e.Truncated |= truncated;
        e.RawTextTruncated = _raw.Truncated;
        (e.RawText, e.RawTextHash) = _raw.Complete();
        if (e.EndLine < e.Line) e.EndLine = e.Line + Math.Max(0, e.LineCount - 1);
        var buckets = _bucketer.Result();
        e.Buckets.AddRange(buckets);

        var frames = new List<StackFrame>();
        if (_crash?.CrashingGoroutine is { } cg) frames.AddRange(cg.Frames);
        foreach (var b in buckets)
        {
            frames.AddRange(b.Representative.Frames);
            if (b.Representative.CreatedBy is { } cb) frames.Add(cb);
        }
        var ownership = CodeOwnership.Infer(frames, _options.Modules.Count > 0 ? [.. _options.Modules] : null);
        e.Modules = ownership.Modules;
        foreach (var b in buckets) b.WaitSite = WaitSite.Of(b.Representative, ownership);

        if (_crash is { } crash)
        {
            crash.Category = CrashClassifier.Classify(crash);
            if (crash.Kind == CrashKinds.Fatal || crash.Kind == CrashKinds.Signal) crash.Recoverable = false;
            if (crash.CrashingGoroutine is { } g)
            {
                foreach (var f in g.Frames)
                {
                    if (ownership.IsInApp(f))
                    {
                        crash.RootCause = new FrameRef(f.Function, f.File, f.Line);
                        break;
                    }
                }
            }
            crash.Fingerprint = Fingerprinter.Compute(crash, ownership);
            foreach (var (id, pos) in _recentTags)
            {
                if (pos > _lastCrashEnd && pos >= crash.Line - _options.TagWindow && pos < crash.Line && !crash.FrameIds.Contains(id))
                {
                    crash.FrameIds.Add(id);
                }
            }
            _lastCrashEnd = crash.EndLine;
            if (_racingThrows > 0) e.Findings.Add(BlockingAnalyzer.RacingThrowers(crash, _racingThrows, ownership));
        }
        e.Findings.AddRange(_blocking.Findings(buckets, _crash?.Category));

        _phase = Phase.Idle;
        // Parse state goes with the event: a worker holds thousands of streams between events, and a table of
        // every name a stream ever printed would grow without bound (measured: docs/operations.md).
        _seenIdsOrNull = null;
        _stringsOrNull = null;
        _rawOrNull = null;
        _lastFile = [];
        _lastFileBytes = [];
        _event = null;
        _crash = null;
        _finishPending = false;
        _racingThrows = 0;
        _bucketer = null!;
        _blocking = null!;
        Emit(e);

        if (e is GoroutineDumpEvent && e.GoroutineCount > 1)
        {
            foreach (var leak in _leaks.AddSnapshot(_stream, e.Line, buckets)) Emit(leak);
        }
    }
}
