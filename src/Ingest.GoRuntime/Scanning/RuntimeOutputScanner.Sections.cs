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

    // The goroutine section being read; the number of further throwers of the same fatal error seen.
    private readonly GoroutineSectionReader _g = new();
    private int _racingThrows;

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
            _g.InRuntimeStack = true;
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
            _g.BeginDroppedStack();
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
        if (_g.InGoroutine || _g.InAncestor)
        {
            if (GoroutineGrammar.TryParseFileLine(line, out var file))
            {
                _g.AttachFile(file);
                return Step.Claimed;
            }
            if (GoroutineGrammar.TryParseFunction(line, out var fnLine))
            {
                _g.AddFunction(fnLine);
                return Step.Claimed;
            }
        }
        return _g.InGoroutine && _foreignRun < MaxForeignRun ? Step.Foreign : Step.NotPart;
    }

    private Step SectionLine(ReadOnlySpan<byte> line)
    {
        if (_crash?.Kind == CrashKinds.DataRace) return RaceLine(line);
        // Hot path of a 100,000-goroutine dump: trim once, dispatch on the first byte, try the likely shapes first.
        var t = Ascii8.Trim(line);
        if (t.IsEmpty)
        {
            CompleteGoroutine();
            _g.InRuntimeStack = false;
            return Step.Claimed;
        }
        bool inStack = _g.InStack;
        bool indented = line[0] is (byte)'\t' or (byte)' ';
        if (inStack && indented && GoroutineGrammar.TryParseFileLineTrimmed(t, out var file))
        {
            _g.AttachFile(file);
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
                    _g.Racing = racing;
                    return Step.Claimed;
                }
                if (inStack && GoroutineGrammar.IsStackUnavailable(t))
                {
                    _g.Unavailable = true;
                    return Step.Claimed;
                }
                break;
            case (byte)'r':
                if (t.SequenceEqual("runtime stack:"u8))
                {
                    CompleteGoroutine();
                    _g.InRuntimeStack = true;
                    return Step.Claimed;
                }
                break;
            case (byte)'c':
                if (inStack && GoroutineGrammar.TryParseCreatedByTrimmed(t, out var creator, out long? parent))
                {
                    _g.SetCreatedBy(creator, parent);
                    return Step.Claimed;
                }
                break;
            case (byte)'.':
                if (inStack && GoroutineGrammar.IsElided(t))
                {
                    _g.Elided = true;
                    return Step.Claimed;
                }
                break;
            case (byte)'[':
                if (inStack && GoroutineGrammar.TryParseAncestorHeader(t, out long ancestor))
                {
                    _g.BeginAncestor(ancestor);
                    return Step.Claimed;
                }
                break;
        }
        if (inStack && GoroutineGrammar.TryParseFunctionTrimmed(t, out var fnLine))
        {
            _g.AddFunction(fnLine);
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
        if (_g.InGoroutine && !_g.StackComplete() && _foreignRun < MaxForeignRun) return Step.Foreign;
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

    private void StartGoroutine(in GoroutineHeader h)
    {
        _seenIds.Add(h.Id);
        _g.Start(h, retainArgs: _crash is not null && _crash.CrashingGoroutine is null);
    }

    /// <summary>The goroutine read so far joins the event: a bucket, the crashing goroutine, or a racing thrower.</summary>
    private void CompleteGoroutine()
    {
        _g.Close();
        if (!_g.InGoroutine)
        {
            _g.Reset();
            return;
        }
        var e = _event!;
        // A header with no frame after it: the output was cut before the stack.
        if (_g.FrameCount == 0 && !_g.Unavailable && !_g.Elided) e.Truncated = true;
        if (_g.Racing)
        {
            _crash!.RacingThrowers.Add(_g.Materialize());
            _g.Reset();
            return;
        }
        e.GoroutineCount++;
        e.States[_g.State] = e.States.GetValueOrDefault(_g.State) + 1;
        if (e.FirstGoroutine is null)
        {
            var first = _g.Materialize();
            e.FirstGoroutine = first;
            if (_crash is not null) _crash.CrashingGoroutine = first;
            _bucketer.Add(first);
        }
        else
        {
            _bucketer.Add(_g.Id, _g.State, _g.StateId, _g.WaitMinutes, _g.Locked, _g.Unavailable, _g.Frames, _g.CreatedBy, _g.Materialize);
        }
        _blocking.Observe(_g.Id, _g.State, _g.StateId, _g.Frames);
        _g.Reset();
    }

    private bool _finishPending;

    private void FinishAfterThisLine() => _finishPending = true;

    private void FinishEvent(bool truncated)
    {
        // Cut mid-frame: a function line without its file line, or a created-by without its location.
        truncated |= _g.CutMidFrame;
        CompleteGoroutine();
        var e = _event!;
        e.Truncated |= truncated;
        e.RawTextTruncated = _raw.Truncated;
        (e.RawText, e.RawTextHash) = _raw.Complete();
        if (e.EndLine < e.Line) e.EndLine = e.Line + Math.Max(0, e.LineCount - 1);
        var buckets = _bucketer.Result();
        e.Buckets.AddRange(buckets);

        EventAnalysis.Complete(e, buckets, _blocking, _options, _racingThrows);
        if (_crash is { } crash)
        {
            // Tags the stream printed shortly before the crash (stream state: the scanner's, not the analysis').
            foreach (var (id, pos, line) in _recentTags)
            {
                if (pos > _lastCrashEnd && line >= _crashStartLine - _options.TagWindow && pos < crash.Line && !crash.FrameIds.Contains(id))
                {
                    crash.FrameIds.Add(id);
                }
            }
            _lastCrashEnd = crash.EndLine;
        }

        _phase = Phase.Idle;
        // Parse state goes with the event: a worker holds thousands of streams between events, and a table of
        // every name a stream ever printed would grow without bound (measured: docs/operations.md).
        _seenIdsOrNull = null;
        _stringsOrNull = null;
        _rawOrNull = null;
        _g.ReleaseEventState();
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
