using System.Text.Encodings.Web;
using System.Text.Json;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Serialization;

/// <summary>
/// The wire shape of events (NDJSON for <c>ingest analyze --json</c>, documents for the sinks). One writer,
/// so every consumer sees the same field names. The default encoder escapes &lt;, &gt;, &amp; and quotes:
/// log text is attacker-controlled and ends up in web pages.
/// </summary>
public sealed class EventJsonWriter(FrameSemanticsOptions? semantics = null)
{
    private readonly FrameSemantics _semantics = new(semantics ?? new FrameSemanticsOptions());

    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.Default, Indented = false };

    /// <summary>Maximum frames written per goroutine; deep recursion (stack overflow) would otherwise be huge.</summary>
    public int MaxFrames { get; init; } = 200;

    /// <summary>Maximum goroutine ids listed per bucket.</summary>
    public int MaxIdsPerBucket { get; init; } = 100;

    public bool IncludeRawText { get; init; } = true;

    /// <summary>Writes the position fields; default "line"/"end_line". The pipeline writes Kafka offsets instead.</summary>
    public Action<Utf8JsonWriter, RuntimeEvent>? WritePosition { get; init; }

    public void Write(Utf8JsonWriter w, RuntimeEvent e)
    {
        WriteHeader(w, e);
        switch (e)
        {
            case CrashEvent c: WriteCrash(w, c); break;
            case GoroutineDumpEvent d: WriteDump(w, d); break;
            case GcCycleEvent g: WriteGc(w, g); break;
            case GcScavengeEvent s: WriteScavenge(w, s.Scavenge); break;
            case TaggedLogEvent t: WriteTag(w, t); break;
            case LeakSuspectEvent l: WriteLeak(w, l); break;
            case BuildInfoEvent b: WriteBuildInfo(w, b); break;
            default: throw new ArgumentException($"{e.GetType().Name} is not a runtime event; the stage that made it writes its fields", nameof(e));
        }
        w.WriteEndObject();
    }

    /// <summary>Opens the object with what every event has: type, stream and position. The caller closes it.</summary>
    public void WriteHeader(Utf8JsonWriter w, RuntimeEvent e)
    {
        w.WriteStartObject();
        w.WriteString("type", e.TypeName);
        w.WriteString("stream", e.Stream);
        if (WritePosition is not null)
        {
            WritePosition(w, e);
        }
        else
        {
            w.WriteNumber("line", e.Line);
            w.WriteNumber("end_line", e.EndLine);
        }
    }

    private void WriteCrash(Utf8JsonWriter w, CrashEvent c)
    {
        var own = new CodeOwnership(c.Modules, configured: true);
        w.WriteString("kind", c.Kind);
        w.WriteString("category", c.Category);
        w.WriteBoolean("recoverable", c.Recoverable);
        w.WriteBoolean("recovered", c.Recovered);
        w.WriteString("message", c.Message);
        w.WriteStartArray("panics");
        foreach (string p in c.Panics) w.WriteStringValue(p);
        w.WriteEndArray();
        if (c.Signal is { } s)
        {
            w.WriteStartObject("signal");
            w.WriteString("name", s.Name);
            w.WriteString("code", s.Code);
            w.WriteString("addr", s.Addr);
            w.WriteString("pc", s.Pc);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("signal");
        }
        if (c.RemoteAddr is not null) w.WriteString("remote_addr", c.RemoteAddr);
        if (c.LogMessage is not null) w.WriteString("log_message", c.LogMessage);
        if (c.ExitStatus is { } x) w.WriteNumber("exit_status", x);
        w.WriteNumber("goroutine_count", c.GoroutineCount);
        if (c.CrashingGoroutine is { } g)
        {
            w.WritePropertyName("crashing_goroutine");
            WriteGoroutine(w, g, own);
        }
        else
        {
            w.WriteNull("crashing_goroutine");
        }
        if (c.RacingThrowers.Count > 0)
        {
            w.WriteStartArray("racing_throwers");
            foreach (var t in c.RacingThrowers) WriteGoroutine(w, t, own);
            w.WriteEndArray();
        }
        if (c.RuntimeStack.Count > 0)
        {
            w.WritePropertyName("runtime_stack");
            WriteFrames(w, c.RuntimeStack, own);
        }
        WriteFrameRef(w, "root_cause", c.RootCause);
        w.WriteString("fingerprint", c.Fingerprint);
        WriteStrings(w, "frame_ids", c.FrameIds);
        WriteStrings(w, "preamble", c.Preamble);
        WriteMultiLineCommon(w, c, own);
    }

    private void WriteDump(Utf8JsonWriter w, GoroutineDumpEvent d)
    {
        var own = new CodeOwnership(d.Modules, configured: true);
        w.WriteString("signal", d.Signal);
        if (d.Pc is not null) w.WriteString("pc", d.Pc);
        w.WriteNumber("goroutine_count", d.GoroutineCount);
        w.WriteNumber("repeats", d.Repeats);
        WriteMultiLineCommon(w, d, own);
    }

    private void WriteMultiLineCommon(Utf8JsonWriter w, MultiLineEvent e, CodeOwnership own)
    {
        w.WriteStartObject("states");
        foreach (var (state, n) in e.States.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteNumber(state, n);
        w.WriteEndObject();
        w.WriteStartArray("buckets");
        foreach (var b in e.Buckets)
        {
            w.WriteStartObject();
            w.WriteNumber("count", b.Count);
            w.WriteString("state", b.State);
            w.WriteString("top_function", b.TopFunction);
            w.WriteString("created_by", b.CreatedBy);
            WriteFrameRef(w, "wait_site", b.WaitSite);
            if (b.MaxWaitMinutes > 0)
            {
                w.WriteNumber("min_wait_minutes", b.MinWaitMinutes);
                w.WriteNumber("max_wait_minutes", b.MaxWaitMinutes);
            }
            if (b.LockedToThread > 0) w.WriteNumber("locked_to_thread", b.LockedToThread);
            w.WriteStartArray("ids");
            foreach (long id in b.Ids.Take(MaxIdsPerBucket)) w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WritePropertyName("frames");
            WriteFrames(w, b.Representative.Frames, own);
            WriteAncestors(w, b.Representative, own);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("findings");
        foreach (var f in e.Findings)
        {
            w.WriteStartObject();
            w.WriteString("kind", f.Kind);
            w.WriteString("summary", f.Summary);
            if (f.WaitFunction is not null) w.WriteString("wait_function", f.WaitFunction);
            if (f.Address is not null) w.WriteString("address", f.Address);
            if (f.Caller is not null) w.WriteString("caller", f.Caller);
            if (f.WaitSite is not null) WriteFrameRef(w, "wait_site", f.WaitSite);
            w.WriteNumber("goroutine_count", f.GoroutineCount);
            if (f.MaxWaitMinutes > 0) w.WriteNumber("max_wait_minutes", f.MaxWaitMinutes);
            w.WriteStartArray("sample_ids");
            foreach (long id in f.SampleIds) w.WriteNumberValue(id);
            w.WriteEndArray();
            if (f.SuspectedHolder is { } h)
            {
                w.WriteStartObject("suspected_holder");
                w.WriteNumber("id", h.GoroutineId);
                w.WriteString("state", h.State);
                w.WriteString("function", h.Function);
                w.WriteString("reason", h.Reason);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        WriteStrings(w, "modules", e.Modules);
        w.WriteNumber("line_count", e.LineCount);
        w.WriteBoolean("truncated", e.Truncated);
        if (e.InterleavedLines > 0) w.WriteNumber("interleaved_lines", e.InterleavedLines);
        w.WriteString("raw_hash", e.RawTextHash);
        if (IncludeRawText)
        {
            w.WriteString("raw_text", e.RawText);
            w.WriteBoolean("raw_text_truncated", e.RawTextTruncated);
        }
    }

    private void WriteGoroutine(Utf8JsonWriter w, Goroutine g, CodeOwnership own)
    {
        w.WriteStartObject();
        w.WriteNumber("id", g.Id);
        w.WriteString("state", g.State);
        if (g.WaitMinutes > 0) w.WriteNumber("wait_minutes", g.WaitMinutes);
        if (g.LockedToThread) w.WriteBoolean("locked_to_thread", true);
        if (g.FramesElided) w.WriteBoolean("frames_elided", true);
        if (g.StackUnavailable) w.WriteBoolean("stack_unavailable", true);
        w.WritePropertyName("frames");
        WriteFrames(w, g.Frames, own);
        WriteCreatedBy(w, g.CreatedBy, own);
        if (g.CreatedByGoroutine is { } parent) w.WriteNumber("created_by_goroutine", parent);
        WriteAncestors(w, g, own);
        w.WriteEndObject();
    }

    private void WriteCreatedBy(Utf8JsonWriter w, StackFrame? createdBy, CodeOwnership own)
    {
        if (createdBy is not { } cb)
        {
            w.WriteNull("created_by");
            return;
        }
        w.WritePropertyName("created_by");
        WriteFrame(w, cb, own);
    }

    /// <summary>GODEBUG=tracebackancestors chains, nearest creator first; omitted when the runtime printed none.</summary>
    private void WriteAncestors(Utf8JsonWriter w, Goroutine g, CodeOwnership own)
    {
        if (g.Ancestors.Count == 0) return;
        w.WriteStartArray("ancestors");
        foreach (var a in g.Ancestors)
        {
            w.WriteStartObject();
            w.WriteNumber("id", a.Id);
            w.WritePropertyName("frames");
            WriteFrames(w, a.Frames, own);
            WriteCreatedBy(w, a.CreatedBy, own);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private void WriteFrames(Utf8JsonWriter w, IReadOnlyList<StackFrame> frames, CodeOwnership own)
    {
        w.WriteStartArray();
        int n = Math.Min(frames.Count, MaxFrames);
        for (int i = 0; i < n; i++) WriteFrame(w, frames[i], own);
        w.WriteEndArray();
    }

    public void WriteFrame(Utf8JsonWriter w, in StackFrame f, CodeOwnership own)
    {
        var label = _semantics.Classify(f.Function);
        w.WriteStartObject();
        w.WriteString("function", f.Function);
        w.WriteString("package", f.Package);
        w.WriteString("file", f.File);
        w.WriteNumber("line", f.Line);
        w.WriteBoolean("in_app", own.IsInApp(f));
        w.WriteString("layer", label.Layer);
        w.WriteString("intent", label.Intent);
        w.WriteBoolean("inferred", label.Inferred);
        if (f.Inlined) w.WriteBoolean("inlined", true);
        if (f.Args is not null) w.WriteString("args", f.Args);
        w.WriteEndObject();
    }

    private static void WriteGc(Utf8JsonWriter w, GcCycleEvent g)
    {
        var c = g.Cycle;
        w.WriteNumber("num", c.Num);
        w.WriteNumber("at_seconds", c.AtSeconds);
        w.WriteNumber("cpu_percent", c.CpuPercent);
        w.WriteNumber("pause_ms", Math.Round(c.PauseMs, 6));
        w.WriteNumber("stw_sweep_termination_ms", c.StwSweepTerminationMs);
        w.WriteNumber("concurrent_mark_ms", Math.Round(c.ConcurrentMarkMs, 6));
        w.WriteNumber("stw_mark_termination_ms", c.StwMarkTerminationMs);
        w.WriteNumber("heap_start_mb", c.HeapStartMb);
        w.WriteNumber("heap_end_mb", c.HeapEndMb);
        w.WriteNumber("heap_live_mb", c.HeapLiveMb);
        w.WriteNumber("heap_goal_mb", c.HeapGoalMb);
        if (c.StacksMb is { } st) w.WriteNumber("stacks_mb", st);
        if (c.GlobalsMb is { } gl) w.WriteNumber("globals_mb", gl);
        w.WriteNumber("procs", c.Procs);
        w.WriteBoolean("forced", c.Forced);
        w.WriteBoolean("periodic", c.Periodic);
        w.WriteStartArray("cpu_ms");
        foreach (double d in c.CpuPhasesMs) w.WriteNumberValue(d);
        w.WriteEndArray();
        if (g.Pacer is { } p)
        {
            w.WriteStartObject("pacer");
            if (p.AssistRatio is { } ar) w.WriteNumber("assist_ratio", ar);
            if (p.CpuPercent is { } cp) w.WriteNumber("cpu_percent", cp);
            if (p.ExpectedCpuPercent is { } ep) w.WriteNumber("expected_cpu_percent", ep);
            if (p.HeapGoalDeltaBytes is { } gd) w.WriteNumber("goal_delta_bytes", gd);
            w.WriteEndObject();
        }
        if (g.Derived is { } derived)
        {
            w.WriteStartObject("derived");
            if (derived.IntervalSeconds is { } iv) w.WriteNumber("interval_seconds", Math.Round(iv, 6));
            if (derived.CpuFraction is { } cf) w.WriteNumber("gc_cpu_fraction", Math.Round(cf, 6));
            if (derived.AllocRateMbPerSecond is { } ar) w.WriteNumber("alloc_rate_mb_per_second", Math.Round(ar, 3));
            w.WriteNumber("goal_overshoot", Math.Round(derived.GoalOvershoot, 4));
            if (derived.Goroutines is { } gr) w.WriteNumber("goroutines", gr);
            w.WriteEndObject();
        }
        if (g.Anomalies.Count > 0)
        {
            w.WriteStartArray("anomalies");
            foreach (var a in g.Anomalies)
            {
                w.WriteStartObject();
                w.WriteString("kind", Ingest.GoRuntime.Analysis.Gc.GcAnomaly.KindName(a.Kind));
                w.WriteNumber("value", Math.Round(a.Value, 6));
                w.WriteNumber("threshold", Math.Round(a.Threshold, 6));
                w.WriteString("reason", a.Reason);
                w.WriteNumber("confidence", Math.Round(a.Confidence, 3));
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
    }

    private static void WriteBuildInfo(Utf8JsonWriter w, BuildInfoEvent b)
    {
        w.WriteString("go_version", b.GoVersion);
        if (b.Binary is not null) w.WriteString("binary", b.Binary);
        if (b.Path is not null) w.WriteString("path", b.Path);
        if (b.MainModule is not null) w.WriteString("main_module", b.MainModule);
        if (b.MainVersion is not null) w.WriteString("main_version", b.MainVersion);
        if (b.Setting("vcs.revision") is { } rev) w.WriteString("vcs_revision", rev);
        if (b.Setting("vcs.time") is { } time) w.WriteString("vcs_time", time);
        w.WriteStartArray("dependencies");
        foreach (var (path, version) in b.Dependencies)
        {
            w.WriteStartObject();
            w.WriteString("path", path);
            w.WriteString("version", version);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("settings");
        foreach (var (key, value) in b.Settings) w.WriteString(key, value);
        w.WriteEndObject();
    }

    private static void WriteScavenge(Utf8JsonWriter w, GcScavenge s)
    {
        if (s.WorkKib is { } a) w.WriteNumber("work_kib", a);
        if (s.TotalKib is { } b) w.WriteNumber("total_kib", b);
        if (s.UtilPercent is { } c) w.WriteNumber("util_percent", c);
        if (s.ReleasedMb is { } d) w.WriteNumber("released_mb", d);
        if (s.InuseMb is { } e) w.WriteNumber("inuse_mb", e);
        if (s.IdleMb is { } f) w.WriteNumber("idle_mb", f);
        if (s.SysMb is { } g) w.WriteNumber("sys_mb", g);
    }

    private static void WriteTag(Utf8JsonWriter w, TaggedLogEvent t)
    {
        w.WriteString("layer", t.Layer);
        w.WriteString("intent", t.Intent);
        w.WriteString("frame_id", t.FrameId);
        w.WriteBoolean("inferred", t.Inferred);
        w.WriteString("message", t.Message);
        if (t.Timestamp is not null) w.WriteString("timestamp", t.Timestamp);
    }

    private static void WriteLeak(Utf8JsonWriter w, LeakSuspectEvent l)
    {
        w.WriteString("created_by", l.CreatedBy);
        w.WriteString("top_function", l.TopFunction);
        w.WriteStartArray("counts");
        foreach (int c in l.Counts) w.WriteNumberValue(c);
        w.WriteEndArray();
        w.WriteNumber("growth_per_snapshot", Math.Round(l.GrowthPerSnapshot, 3));
        w.WriteStartArray("snapshot_lines");
        foreach (long c in l.SnapshotLines) w.WriteNumberValue(c);
        w.WriteEndArray();
    }

    private static void WriteFrameRef(Utf8JsonWriter w, string name, FrameRef? site)
    {
        if (site is null)
        {
            w.WriteNull(name);
            return;
        }
        w.WriteStartObject(name);
        w.WriteString("function", site.Function);
        w.WriteString("file", site.File);
        w.WriteNumber("line", site.Line);
        w.WriteEndObject();
    }

        private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
