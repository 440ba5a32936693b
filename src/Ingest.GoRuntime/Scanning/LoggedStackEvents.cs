using System.Text;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Parsing.Goroutines;
using Ingest.GoRuntime.Parsing.Logs;
using Ingest.GoRuntime.Text;

namespace Ingest.GoRuntime.Scanning;

/// <summary>
/// A Go stack a structured logger wrote into a record (zap's <c>stacktrace</c>, a logrus <c>stack</c> field,
/// ECS <c>error.stack_trace</c>, <c>debug.Stack()</c> in a message) becomes a crash-like event of kind
/// <c>logged_stack</c>: the process logged the failure and went on. The stack goes through the goroutine
/// grammar, and the event through the same ownership, classification, root-cause and fingerprint analysers
/// as a crash.
/// </summary>
internal static class LoggedStackEvents
{
    public static bool TryBuild(ReadOnlySpan<byte> line, string stream, long position, AnalyzerOptions options, out CrashEvent? crash)
    {
        crash = null;
        if (!StructuredLogStack.TryRead(line, options.LoggedStacks, out var logged)) return false;
        var frames = ParseFrames(logged!.Stack, out long id, out string state, out var createdBy);
        if (frames.Count == 0) return false;
        var g = new Goroutine { Id = id, State = state, Frames = [.. frames], CreatedBy = createdBy };
        var bucketer = new GoroutineBucketer();
        bucketer.Add(g);
        crash = new CrashEvent
        {
            Kind = CrashKinds.LoggedStack,
            Stream = stream,
            Line = position,
            EndLine = position,
            Buckets = bucketer.Result(),
            States = new Dictionary<string, int>(StringComparer.Ordinal) { [state] = 1 },
            GoroutineCount = 1,
            FirstGoroutine = g,
            CrashingGoroutine = g,
            LogMessage = logged.Message,
            LineCount = 1,
            ByteCount = line.Length + 1,
        };
        crash.Panics.Add(logged.Error ?? logged.Message ?? string.Empty);
        var raw = new RawTextBuffer(options.RawTextLimitBytes);
        raw.Append(line);
        crash.RawTextTruncated = raw.Truncated;
        (crash.RawText, crash.RawTextHash) = raw.Complete();

        var ownership = CodeOwnership.Infer(g.Frames, options.Modules.Count > 0 ? [.. options.Modules] : null);
        crash.Modules = ownership.Modules;
        foreach (var b in crash.Buckets) b.WaitSite = WaitSite.Of(b.Representative, ownership);
        crash.Category = CrashClassifier.Classify(crash);
        foreach (var f in g.Frames)
        {
            if (!ownership.IsInApp(f)) continue;
            crash.RootCause = new FrameRef(f.Function, f.File, f.Line);
            break;
        }
        crash.Fingerprint = Fingerprinter.Compute(crash, ownership);
        return true;
    }

    /// <summary>
    /// Both forms: <c>pkg.Func(args)</c> or zap's bare <c>pkg.Func</c>, each followed by an indented file:line.
    /// Frames down to a panic (<c>panic(...)</c>, <c>runtime.gopanic</c>) are the deferred handler that recovered
    /// and logged it, not where it failed: they are dropped, as is <c>runtime/debug.Stack</c> itself.
    /// </summary>
    private static List<StackFrame> ParseFrames(string text, out long id, out string state, out StackFrame? createdBy)
    {
        id = 0;
        state = "running";
        createdBy = null;
        var frames = new List<StackFrame>();
        bool awaitingCreatorFile = false;
        foreach (var raw in text.Split('\n'))
        {
            var line = Encoding.UTF8.GetBytes(raw);
            if (GoroutineGrammar.TryParseFileLine(line, out var file))
            {
                if (awaitingCreatorFile && createdBy is { } c) createdBy = c with { File = Ascii8.Decode(file.Path), Line = file.Line, Flags = FrameFlags.None };
                else if (frames.Count > 0 && frames[^1].Line == 0) frames[^1] = frames[^1] with { File = Ascii8.Decode(file.Path), Line = file.Line, Flags = frames[^1].Flags & ~FrameFlags.NoSource };
                awaitingCreatorFile = false;
                continue;
            }
            awaitingCreatorFile = false;
            var t = Ascii8.Trim(line);
            if (t.IsEmpty) continue;
            if (GoroutineGrammar.TryParseHeader(line, out var h))
            {
                (id, state) = (h.Id, Ascii8.Decode(h.State));
                continue;
            }
            if (GoroutineGrammar.TryParseCreatedBy(line, out var creator, out _))
            {
                createdBy = new StackFrame(Ascii8.Decode(creator), -1, string.Empty, 0, 0, FrameFlags.NoSource, null);
                awaitingCreatorFile = true;
                continue;
            }
            string? function = null;
            var flags = FrameFlags.NoSource;
            if (GoroutineGrammar.TryParseFunction(line, out var fn))
            {
                function = Ascii8.Decode(fn.Function);
                if (fn.Inlined) flags |= FrameFlags.Inlined;
            }
            else if (line[0] is not ((byte)' ' or (byte)'\t') && t.IndexOfAny((byte)' ', (byte)'"') < 0 && t.IndexOf((byte)'.') > 0)
            {
                function = Ascii8.Decode(t); // zap: the function name alone
            }
            if (function is null) continue;
            if (function is "panic" or "runtime.gopanic") frames.Clear();
            else if (function != "runtime/debug.Stack") frames.Add(new StackFrame(function, -1, string.Empty, 0, 0, flags, null));
        }
        return frames;
    }
}
