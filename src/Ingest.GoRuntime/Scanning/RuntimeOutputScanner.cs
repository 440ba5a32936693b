using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Parsing.BuildInfo;
using Ingest.GoRuntime.Parsing.Crashes;
using Ingest.GoRuntime.Parsing.Detection;
using Ingest.GoRuntime.Parsing.Prefixes;
using Ingest.GoRuntime.Parsing.GcTrace;
using Ingest.GoRuntime.Parsing.Goroutines;
using Ingest.GoRuntime.Parsing.Logs;
using Ingest.GoRuntime.Parsing.Tags;
using Ingest.GoRuntime.Text;

namespace Ingest.GoRuntime.Scanning;

/// <summary>
/// Turns the lines of ONE stream (a file, a pod's stderr) into runtime events. The caller feeds lines in
/// order with an opaque position (line number, Kafka offset) and calls <see cref="Flush"/> when the stream
/// has been idle long enough, or <see cref="Complete"/> at its end. Lines that are not runtime output are
/// not claimed (Push returns false) so the caller can pass them on as plain log records.
///
/// States (one event open at a time):
/// <list type="bullet">
/// <item><b>Idle</b>. Example: <c>level=info msg=ok</c>. A line that starts an event moves to Header or Sections;
/// single-line events (gctrace, scavenger, tags) are emitted at once and stay Idle.</item>
/// <item><b>Header</b> (crash only). Example: <c>panic: boom [recovered]</c>, <c>\tpanic: again</c>, <c>[signal SIGSEGV: ...]</c>,
/// continuation lines of a multi-line panic value. From: Idle on <c>panic:</c>, <c>fatal error:</c>,
/// <c>http: panic serving</c>, <c>SIGSEGV: ...</c>. To: Sections on a goroutine header or <c>runtime stack:</c>.</item>
/// <item><b>Sections</b>. Example: <c>goroutine 7 [chan receive, 5 minutes]:</c>, frames, <c>created by ...</c>, blank lines,
/// register dumps. From: Header, or Idle on a bare goroutine header or <c>SIGQUIT: quit</c>. To: Idle when a
/// line that is not goroutine text follows a complete section, on <c>exit status N</c>, or on Flush. What a line
/// of a section is (frame, created-by, ancestor, runtime stack) is read by <see cref="GoroutineSectionReader"/>.</item>
/// <item><b>BuildInfo</b>. Example: <c>/usr/local/bin/shop: go1.19.8</c> then <c>\tpath\texample.com/shop/cmd/shopd</c>,
/// <c>\tdep\t...</c> (<c>go version -m</c>, <c>debug.ReadBuildInfo()</c> printed). From: Idle on the header line.
/// To: Idle on the first line that is not a row (the build_info event is emitted then).</item>
/// </list>
/// A finished event is analysed in one place, <see cref="Analysis.EventAnalysis"/>; runs of identical
/// one-goroutine dumps are held and emitted as one event with a count.
/// </summary>
public sealed partial class RuntimeOutputScanner
{
    /// <summary>The states above; exactly one holds at a time.</summary>
    private enum Phase
    {
        /// <summary>No event open: every line may start one or be a single-line event.</summary>
        Idle,

        /// <summary>A crash's header lines, before its first goroutine or runtime stack.</summary>
        Header,

        /// <summary>Goroutine sections (and register dumps, signal details) of a crash or dump.</summary>
        Sections,

        /// <summary>Rows of build information.</summary>
        BuildInfo,
    }

    private readonly string _stream;
    private readonly AnalyzerOptions _options;
    private readonly Action<RuntimeEvent> _emit;
    // Event-time state is created on first use: a worker holds thousands of streams that never print a dump.
    private StringTable? _stringsOrNull;
    private StringTable _strings => _stringsOrNull ??= new StringTable();
    private LeakTracker? _leaksOrNull;
    private readonly List<string> _preamble = [];
    private long _preambleStart;
    private long _preambleStartLine;
    // Lines pushed so far: the tag window counts lines, whatever the positions are (a worker's step by 2^20 per
    // Kafka message, so a window in positions never reached the tags of earlier messages).
    private long _lineNumber;
    private long _crashStartLine;
    private Queue<(string FrameId, long Position, long LineNumber)>? _recentTagsOrNull;
    private Queue<(string FrameId, long Position, long LineNumber)> _recentTags => _recentTagsOrNull ??= new Queue<(string, long, long)>();
    private GcPacer? _pendingPacer;
    // Where in the current line the search for anywhere triggers starts (the prefilter's first candidate);
    // NoCandidate when the prefilter saw none in the line.
    private int _anywhereFrom;
    public const int NoCandidate = -1;
    private bool _periodicPending;
    private bool _eventPrefixed;
    private long _lastCrashEnd = long.MinValue;

    private Phase _phase;
    private MultiLineEvent? _event;
    private CrashEvent? _crash;
    // Per event; null while idle (a worker holds thousands of idle streams).
    private GoroutineBucketer _bucketer = null!;
    private BlockingAnalyzer _blocking = null!;
    private RawTextBuffer? _rawOrNull;
    private RawTextBuffer _raw => _rawOrNull ??= new RawTextBuffer(_options.RawTextLimitBytes);
    private bool _sawBlankInHeader;
    private int _continuationLines;
    private int _foreignRun;

    public RuntimeOutputScanner(string stream, AnalyzerOptions options, Action<RuntimeEvent> emit)
    {
        _stream = stream;
        _options = options;
        _emit = emit;

    }

    public string Stream => _stream;

    /// <summary>True while a multi-line event is being assembled.</summary>
    public bool HasOpenEvent => _phase != Phase.Idle;

    /// <summary>
    /// What the open event holds, for the assembler's memory budget: a measured fixed cost of an open event
    /// (its parse state, docs/operations.md) plus the bytes read into it, an upper bound of the text kept and
    /// the stacks parsed from it. Zero while idle.
    /// </summary>
    public long OpenBytes =>
        (_event is { } e ? OpenEventBaseBytes + (e.GoroutineCount > 0 ? OpenDumpBaseBytes : 0) + e.ByteCount + e.GoroutineCount * OpenEventBytesPerGoroutine +
            _bucketer.BucketCount * OpenEventBytesPerBucket + (_rawOrNull?.HeldBytes ?? 0) + (_seenIdsOrNull?.HeldBytes ?? 0) : 0) +
        (_repeat is { } r ? OpenEventBaseBytes + 2L * r.RawText.Length : 0);

    // Calibrated with `Ingest.Benchmarks memory open-dumps` (dumps of 10 to 667 goroutines, nearly every stack
    // its own bucket: the costly shape) so that the accounted bytes cover the measured heap: a bucket keeps a
    // representative stack and its ids, every goroutine a wait record (docs/operations.md).
    private const int OpenEventBytesPerGoroutine = 48;
    private const int OpenEventBytesPerBucket = 384;
    // Tables the first parsed goroutine brings (wait and pair records, bucket index, function facts).
    private const int OpenDumpBaseBytes = 12 * 1024;

    /// <summary>
    /// Measured with <c>Ingest.Benchmarks memory open-one-line</c>: a stream with a one-line event open holds
    /// 4.4 KB more heap than an idle one (5,357 B against 928 B per key).
    /// </summary>
    public const int OpenEventBaseBytes = 4608;

    /// <summary>
    /// Closes the open event now, flagged truncated, and releases a held run of repeated dumps: the assembler's
    /// memory budget ran out. What follows on the stream starts over (a goroutine header opens a new dump).
    /// </summary>
    public void CloseTruncated()
    {
        if (_phase == Phase.BuildInfo) FinishBuildInfo();
        else if (_phase != Phase.Idle) FinishEvent(truncated: true);
        ReleaseRepeat();
    }

    /// <summary>An idle flush would emit something: an open event, a run of repeated dumps, or leak suspects held while they grow.</summary>
    public bool NeedsFlush => _phase != Phase.Idle || _repeat is not null || (_leaksOrNull?.HasPending ?? false);

    // A one-goroutine dump held back while identical ones follow it (see GoroutineDumpEvent.Repeats).
    private GoroutineDumpEvent? _repeat;

    /// <summary>Every event leaves through here, after a held run of repeated dumps (events stay in line order).</summary>
    private void Emit(RuntimeEvent e)
    {
        if (e is GoroutineDumpEvent { GoroutineCount: <= 1 } dump)
        {
            if (_repeat is { } run && run.RawTextHash == dump.RawTextHash)
            {
                run.Repeats++;
                run.EndLine = dump.EndLine;
                run.LineCount += dump.LineCount;
                return;
            }
            ReleaseRepeat();
            _repeat = dump;
            return;
        }
        ReleaseRepeat();
        _emit(e);
    }

    private void ReleaseRepeat()
    {
        if (_repeat is not { } run) return;
        _repeat = null;
        _emit(run);
    }

    // Created on the first dump: most streams never print one.
    private LeakTracker _leaks => _leaksOrNull ??= new LeakTracker(_options);

    /// <summary>Dumps of this stream a previous run stored, oldest first, before any new input: the leak series goes on.</summary>
    public void RestoreLeakSnapshots(IEnumerable<LeakSnapshot> snapshots)
    {
        foreach (var snapshot in snapshots) _leaks.Restore(_stream, snapshot);
    }

    /// <summary>Position of the first line of the open event (offsets before it must not be committed).</summary>
    public long? OpenEventStart => _event?.Line ?? _build?.Line;

    /// <summary>First line of a run of repeated dumps held back (see <see cref="GoroutineDumpEvent.Repeats"/>).</summary>
    public long? HeldRunStart => _repeat?.Line;

    /// <summary>
    /// The earliest position this stream still depends on: its open event, or the first snapshot of a leak
    /// suspect not yet released. Offsets before it may be committed; after a restart, reading resumes there.
    /// </summary>
    public long? HoldsFrom => Min(Min(_repeat?.Line, OpenEventStart), _leaksOrNull?.PendingSince);

    private static long? Min(long? a, long? b) => a is { } x && b is { } y ? Math.Min(x, y) : a ?? b;

    // Build information (go version -m, debug.BuildInfo) being read: rows until the first other line.
    private BuildInfoEvent? _build;

    /// <summary>
    /// Block prefilter for callers that hold many lines in one buffer: the index of the first candidate that begins
    /// the text of a single-line event found anywhere in a line (gctrace, pacer, scavenger, http panic), or the
    /// block's length. A line before that index cannot hold one, so <see cref="Push(ReadOnlySpan{byte}, long, int)"/>
    /// skips the per-line search. Same verifier, one pass per block instead of one call per line.
    /// </summary>
    public static int NextCandidate(ReadOnlySpan<byte> block, int from)
    {
        // Near misses ("scavenger") are passed over here, so their lines skip the search altogether.
        while (AnywhereTriggers.Next(block, ref from) is var t && t != AnywhereTrigger.None && !AnywhereTriggers.BeginsToken(block, from, t)) from++;
        return from;
    }

    /// <summary>
    /// Block prefilter for logged stacks: the index of the first escaped newline-and-tab (<c>\n\t</c>, which every
    /// Go stack inside a JSON record has), or the block's length. JSON records before it are not read as records,
    /// which was a search per record.
    /// </summary>
    public static int NextLoggedStack(ReadOnlySpan<byte> block, int from)
    {
        int i = block[from..].IndexOf(StructuredLogStack.EscapedFrameBreak);
        return i < 0 ? block.Length : from + i;
    }

    /// <summary>The shortest line that can start or be an event on its own: <c>panic: </c> with an empty value.</summary>
    public const int MinEventLineLength = 7;

    /// <summary>Feeds one line (without its line terminator). Returns true when the line belongs to a runtime event.</summary>
    public bool Push(ReadOnlySpan<byte> line, long position) => Push(line, position, firstCandidate: 0);

    /// <summary>
    /// As <see cref="Push(ReadOnlySpan{byte}, long)"/>, with what <see cref="NextCandidate"/> found: the index in the
    /// line of its first candidate (no trigger starts before it), or <see cref="NoCandidate"/> (a promise of none).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool Push(ReadOnlySpan<byte> line, long position, int firstCandidate)
    {
        _lineNumber++;
        // Nothing that starts an event or is one is shorter than "panic: ": idle, such a line could only end a
        // preamble or a run of repeats, so the common short line ("ok", "}") stops here, in the caller's loop.
        // Short-line logs spent 17 ns a line in the recognisers (docs/performance.md).
        if (line.Length < MinEventLineLength && IgnoresShortLines) return false;
        _anywhereFrom = firstCandidate;
        return PushLine(line, position);
    }

    /// <summary>
    /// Lines shorter than this would change nothing now but the line count (see <see cref="MinEventLineLength"/>):
    /// a reader may step over them and report them to <see cref="Skipped"/>. 0 while every line counts.
    /// </summary>
    public int IgnoresLinesShorterThan => IgnoresShortLines ? MinEventLineLength : 0;

    // Idle, with no preamble to end and no run of repeats to break: a short line would change nothing.
    private bool IgnoresShortLines => _phase == Phase.Idle && _preamble.Count == 0 && _repeat is null;

    /// <summary>Counts lines a reader stepped over while <see cref="IgnoresLinesShorterThan"/> allowed it.</summary>
    public void Skipped(long lines) => _lineNumber += lines;

    private bool PushLine(ReadOnlySpan<byte> line, long position)
    {
        if (!line.IsEmpty && line[^1] == '\r') line = line[..^1];
        bool cut = line.Length > _options.MaxLineBytes;
        if (cut) line = line[.._options.MaxLineBytes];
        if (_phase == Phase.BuildInfo)
        {
            if (BuildInfoLines.TryRow(LinePrefix.Strip(line), _build!))
            {
                _build!.EndLine = position;
                return true;
            }
            FinishBuildInfo();
        }
        // Runtime output is matched after the plumbing's prefix (CRI, kubectl, compose); tags keep the original.
        // Inside an event whose first line had no prefix, the stream has none: skip the check per line.
        if (_phase != Phase.Idle)
        {
            var r = Continue(_eventPrefixed ? LinePrefix.Strip(line) : line, position);
            if (r != Step.NotPart)
            {
                if (cut && r == Step.Claimed && _event is { } open) open.Truncated = true;
                return r == Step.Claimed;
            }
            FinishEvent(truncated: false);
        }
        var body = LinePrefix.Strip(line);
        bool claimed = StartOrSingle(body, line, position);
        if (_phase != Phase.Idle)
        {
            _eventPrefixed = body.Length != line.Length;
            if (cut) _event!.Truncated = true;
        }
        // Only back-to-back repetitions collapse: any other line ends the run.
        else if (!claimed && _repeat is not null)
        {
            ReleaseRepeat();
        }
        return claimed;
    }

    /// <summary>Closes the open event, if any (idle timeout or end of input).</summary>
    public void Flush()
    {
        if (_phase == Phase.BuildInfo) FinishBuildInfo();
        else if (_phase != Phase.Idle) FinishEvent(truncated: false);
        ReleaseRepeat();
        if (_leaksOrNull is { HasPending: true } leaks)
        {
            foreach (var leak in leaks.Drain()) Emit(leak);
        }
    }

    private void FinishBuildInfo()
    {
        var build = _build!;
        _build = null;
        _phase = Phase.Idle;
        // A lone "go\tgo1.x" line with nothing after it is not build information (it could be any log).
        if (build.Path is not null || build.MainModule is not null || build.Binary is not null) Emit(build);
    }

    /// <summary>End of the stream.</summary>
    public void Complete()
    {
        Flush();
        _preamble.Clear();
    }

    private bool StartOrSingle(ReadOnlySpan<byte> line, ReadOnlySpan<byte> original, long position)
    {
        if (line.IsEmpty)
        {
            _preamble.Clear();
            return false;
        }
        switch (line[0])
        {
            case (byte)'/' or (byte)'g' when BuildInfoLines.TryHeader(line, out var binary, out var goVersion):
                _build = new BuildInfoEvent { Stream = _stream, Line = position, EndLine = position, Binary = binary, GoVersion = goVersion };
                _phase = Phase.BuildInfo;
                return true;
            case (byte)'p':
                if (CrashLines.TryParsePanic(line, out var value, out _))
                {
                    BeginCrash(CrashKinds.Panic, position);
                    _crash!.Panics.Add(StripRecovered(value));
                    AppendRaw(line);
                    return true;
                }
                break;
            case (byte)'f':
                if (CrashLines.TryParseFatal(line, out var msg))
                {
                    BeginCrash(CrashKinds.Fatal, position);
                    _crash!.Panics.Add(Ascii8.Decode(msg));
                    AppendRaw(line);
                    return true;
                }
                break;
            case (byte)'g':
            case (byte)' ':
                if (GoroutineGrammar.TryParseHeader(line, out _))
                {
                    BeginDump(null, position);
                    return Continue(line, position) == Step.Claimed;
                }
                break;
            case (byte)'S':
                if (CrashLines.TryParseSignalHeader(line, out var sig))
                {
                    if (sig.SequenceEqual("SIGQUIT"u8))
                    {
                        BeginDump("SIGQUIT", position);
                    }
                    else
                    {
                        BeginCrash(CrashKinds.Signal, position);
                        _crash!.Panics.Add(Ascii8.Decode(Ascii8.TrimEnd(line)));
                        _crash.Signal = new SignalInfo(Ascii8.Decode(sig), null, null, null);
                    }
                    AppendRaw(line);
                    return true;
                }
                break;
            case (byte)'{' when _anywhereFrom != NoCandidate:
                if (LoggedStackEvents.TryBuild(line, _stream, position, _options, out var logged))
                {
                    _emit(logged!);
                    return true;
                }
                break;
            case (byte)'G':
                if (line.StartsWith("GC forced"u8) && Ascii8.TrimEnd(line).Length == 9)
                {
                    // forcegchelper's line before the periodic cycle; the next gctrace line is that cycle.
                    _periodicPending = true;
                    return true;
                }
                break;
            case (byte)'W':
                if (line.StartsWith("WARNING: DATA RACE"u8))
                {
                    BeginCrash(CrashKinds.DataRace, position);
                    _crash!.Panics.Add("DATA RACE");
                    AppendRaw(line);
                    return true;
                }
                break;
            case (byte)'r':
            case (byte)'u':
                if (line.StartsWith("runtime: "u8) || line.StartsWith("unexpected fault address "u8))
                {
                    // Preamble of a fatal error (stack overflow, out of memory, fault): kept until the header comes.
                    if (_preamble.Count == 0) (_preambleStart, _preambleStartLine) = (position, _lineNumber);
                    if (_preamble.Count < 8) _preamble.Add(Ascii8.Decode(line));
                    return false;
                }
                break;
        }
        if (_preamble.Count > 0) _preamble.Clear();
        return TrySingleLine(line, original, position);
    }

    /// <summary>Single-line events, which may sit behind any logger prefix.</summary>
    private bool TrySingleLine(ReadOnlySpan<byte> line, ReadOnlySpan<byte> original, long position)
    {
        // Each kind is tried once, at its first token (the candidate that begins "scav ", not a "scavenger"), the
        // earliest token first; the exact parser decides. A candidate that begins no token is passed over without
        // the parser's search of the whole line, which long lines full of near misses paid up to three times.
        // The prefilter read the line with its prefix; the line here starts after it.
        int from = Math.Max(0, _anywhereFrom - (original.Length - line.Length));
        bool gcTried = false, pacerTried = false, scavTried = false, httpTried = false;
        while (_anywhereFrom != NoCandidate)
        {
            var trigger = AnywhereTriggers.Next(line, ref from);
            if (trigger == AnywhereTrigger.None) break;
            int c = from++;
            switch (trigger)
            {
                case AnywhereTrigger.HttpPanic when !httpTried && AnywhereTriggers.BeginsToken(line, c, trigger):
                    httpTried = true;
                    if (CrashLines.TryParseHttpPanic(line, out var remote, out var httpValue))
                    {
                        BeginCrash(CrashKinds.HttpPanic, position);
                        _crash!.Panics.Add(Ascii8.Decode(httpValue));
                        _crash.RemoteAddr = Ascii8.Decode(remote);
                        _crash.Recovered = true;
                        AppendRaw(line);
                        return true;
                    }
                    break;
                case AnywhereTrigger.GcTrace when !gcTried && AnywhereTriggers.BeginsToken(line, c, trigger):
                    gcTried = true;
                    if (GcTraceReader.TryReadCycle(line, out var cycle))
                    {
                        if (_periodicPending) cycle = cycle! with { Periodic = true };
                        Emit(new GcCycleEvent { Stream = _stream, Line = position, EndLine = position, Cycle = cycle!, Pacer = _pendingPacer });
                        _pendingPacer = null;
                        _periodicPending = false;
                        return true;
                    }
                    break;
                case AnywhereTrigger.Pacer when !pacerTried && AnywhereTriggers.BeginsToken(line, c, trigger):
                    pacerTried = true;
                    if (GcTraceReader.TryReadPacer(line, _pendingPacer, out var pacer))
                    {
                        _pendingPacer = pacer;
                        return true;
                    }
                    break;
                case AnywhereTrigger.Scavenger when !scavTried && AnywhereTriggers.BeginsToken(line, c, trigger):
                    scavTried = true;
                    if (GcTraceReader.TryReadScavenge(line, out var scav))
                    {
                        Emit(new GcScavengeEvent { Stream = _stream, Line = position, EndLine = position, Scavenge = scav! });
                        return true;
                    }
                    break;
            }
        }
        if (SemanticTagReader.TryRead(original, out var tag))
        {
            string frameId = Ascii8.Decode(tag.FrameId).ToLowerInvariant();
            _recentTags.Enqueue((frameId, position, _lineNumber));
            if (_recentTags.Count > 32) _recentTags.Dequeue();
            Emit(new TaggedLogEvent
            {
                Stream = _stream,
                Line = position,
                EndLine = position,
                Layer = Ascii8.Decode(tag.Layer),
                Intent = Ascii8.Decode(tag.Intent),
                FrameId = frameId,
                Inferred = false,
                Message = Ascii8.Decode(tag.Message),
                Timestamp = tag.Timestamp.IsEmpty ? null : Ascii8.Decode(tag.Timestamp),
            });
            return true;
        }
        return false;
    }

    private static string StripRecovered(ReadOnlySpan<byte> value)
    {
        if (value.EndsWith(" [recovered]"u8)) value = value[..^12];
        else if (value.EndsWith(" [recovered, repanicked]"u8)) value = value[..^24];
        return Ascii8.Decode(value);
    }

    private void BeginCrash(string kind, long position)
    {
        // Preamble lines ("runtime: goroutine stack exceeds ...") came first; the event starts at the first of them.
        _crashStartLine = _preamble.Count > 0 ? _preambleStartLine : _lineNumber;
        _crash = new CrashEvent
        {
            Kind = kind,
            Stream = _stream,
            Line = _preamble.Count > 0 ? _preambleStart : position,
            Buckets = [],
            States = new Dictionary<string, int>(StringComparer.Ordinal),
            Recoverable = kind is CrashKinds.Panic or CrashKinds.HttpPanic,
        };
        _event = _crash;
        _phase = Phase.Header;
        _sawBlankInHeader = false;
        _continuationLines = 0;
        StartEventCommon();
        _crash.Preamble.AddRange(_preamble);
        foreach (string p in _preamble) AppendRaw(System.Text.Encoding.UTF8.GetBytes(p));
        _preamble.Clear();
    }

    private void BeginDump(string? signal, long position)
    {
        _preamble.Clear();
        _crash = null;
        _event = new GoroutineDumpEvent
        {
            Stream = _stream,
            Line = position,
            Signal = signal,
            Buckets = [],
            States = new Dictionary<string, int>(StringComparer.Ordinal),
        };
        _phase = signal is null ? Phase.Sections : Phase.Header;
        StartEventCommon();
    }

    private void StartEventCommon()
    {
        _bucketer = new GoroutineBucketer();
        _blocking = new BlockingAnalyzer(_options, _strings);
        _foreignRun = 0;
        _g.Strings = _strings;
        _g.RuntimeStack = _crash?.RuntimeStack;
        _g.Reset();
    }

    private void AppendRaw(ReadOnlySpan<byte> line)
    {
        var e = _event!;
        e.LineCount++;
        e.ByteCount += line.Length + 1;
        _raw.Append(line);
    }
}
