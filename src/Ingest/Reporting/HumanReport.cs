using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Spectre.Console;

namespace Ingest.Reporting;

/// <summary>
/// The terminal report of <c>ingest analyze</c>, in the spirit of panicparse: crashes with the root cause
/// highlighted, goroutines bucketed, findings, GC summary. Each event's section is printed as the event
/// completes; only the summary's totals are kept, so a report over any input size runs in flat memory.
/// Spectre.Console drops colour when output is piped. Every piece of log text goes through
/// <see cref="Markup.Escape"/>: it is attacker-controlled.
/// </summary>
public sealed class HumanReport(IAnsiConsole? console = null, FrameSemanticsOptions? semantics = null)
{
    private readonly FrameSemantics _semantics = new(semantics ?? new FrameSemanticsOptions());
    private const int MaxBucketsShown = 15;
    private const int MaxFramesShown = 30;
    private readonly IAnsiConsole _console = console ?? DefaultConsole();
    // Only what the closing summary needs: the report streams, so memory stays flat with the input's size.
    private readonly Dictionary<string, StreamTotals> _totals = new(StringComparer.Ordinal);
    private readonly List<(string Stream, long Lines)> _streams = [];
    private int _crashes;
    private int _dumps;

    private sealed class StreamTotals
    {
        public int Events;
        public int Crashes;
        public PauseSummary? Gc;
        public Dictionary<string, int>? TagsByLayer;
        public HashSet<string>? FrameIds;
        public int Tags;
    }

    /// <summary>GC pauses of one stream: counts in relative buckets of 1 % for p50/p99, exact max and last heap.</summary>
    private sealed class PauseSummary
    {
        private readonly Dictionary<int, int> _buckets = [];
        public int Count;
        public int Forced;
        public double MaxPause = double.MinValue;
        public long MaxNum;
        public long MaxLine;
        public double LastLive;
        public double LastGoal;

        public void Add(GcCycleEvent g)
        {
            Count++;
            if (g.Cycle.Forced) Forced++;
            // log base 1.01: two pauses within 1 % share a bucket; a zero pause gets its own.
            int key = g.Cycle.PauseMs <= 0 ? int.MinValue : (int)Math.Floor(Math.Log(g.Cycle.PauseMs) / Math.Log(1.01));
            _buckets[key] = _buckets.GetValueOrDefault(key) + 1;
            if (g.Cycle.PauseMs > MaxPause)
            {
                (MaxPause, MaxNum, MaxLine) = (g.Cycle.PauseMs, g.Cycle.Num, g.Line);
            }
            (LastLive, LastGoal) = (g.Cycle.HeapLiveMb, g.Cycle.HeapGoalMb);
        }

        /// <summary>The q-quantile, to within 1 % (the bucket's lower bound).</summary>
        public double Quantile(double q)
        {
            int rank = Math.Min(Count - 1, (int)Math.Ceiling(Count * q) - 1), seen = 0;
            foreach (var (key, n) in _buckets.OrderBy(kv => kv.Key))
            {
                seen += n;
                if (seen > rank) return key == int.MinValue ? 0 : Math.Min(MaxPause, Math.Pow(1.01, key));
            }
            return MaxPause;
        }
    }

    // Distinct frame ids counted per stream up to this many (hostile input could send millions).
    private const int MaxFrameIds = 100_000;

    /// <summary>Renders the event's section now and keeps only the totals of the summary.</summary>
    public void Add(RuntimeEvent e)
    {
        if (!_totals.TryGetValue(e.Stream, out var t)) _totals[e.Stream] = t = new StreamTotals();
        t.Events++;
        switch (e)
        {
            case CrashEvent c:
                _crashes++;
                t.Crashes++;
                RenderCrash(c);
                break;
            case GoroutineDumpEvent d:
                _dumps++;
                RenderDump(d);
                break;
            case LeakSuspectEvent l:
                _console.MarkupLine($"[bold yellow]LEAK SUSPECT[/] {E(l.Stream)}:{l.Line}  created by [bold]{E(l.CreatedBy)}[/] at {E(l.TopFunction)}: {string.Join(" → ", l.Counts)} goroutines (+{l.GrowthPerSnapshot:0.#}/snapshot)");
                _console.WriteLine();
                break;
            case GcCycleEvent g:
                (t.Gc ??= new PauseSummary()).Add(g);
                foreach (var a in g.Anomalies)
                    _console.MarkupLine($"[bold]GC[/] {E(g.Stream)}: [yellow]{E(Ingest.GoRuntime.Analysis.Gc.GcAnomaly.KindName(a.Kind))}[/] gc {a.Cycle} at line {g.Line}: {E(a.Reason)}");
                break;
            case TaggedLogEvent tag:
                t.Tags++;
                var byLayer = t.TagsByLayer ??= new Dictionary<string, int>(StringComparer.Ordinal);
                string pair = $"{tag.Layer}:{tag.Intent}";
                if (byLayer.Count < 1000 || byLayer.ContainsKey(pair)) byLayer[pair] = byLayer.GetValueOrDefault(pair) + 1;
                var ids = t.FrameIds ??= new HashSet<string>(StringComparer.Ordinal);
                if (ids.Count < MaxFrameIds) ids.Add(tag.FrameId);
                break;
        }
    }

    public void EndStream(string name, long lines) => _streams.Add((name, lines));

    /// <summary>The closing summary: GC and tags per stream, counts per input.</summary>
    public void Render()
    {
        foreach (var (stream, t) in _totals)
        {
            if (t.Gc is { } gc)
            {
                _console.MarkupLine($"[bold]GC[/] {E(stream)}: {gc.Count} cycles, pause p50 {gc.Quantile(0.5):0.###} ms, p99 {gc.Quantile(0.99):0.###} ms, max {gc.MaxPause:0.###} ms (gc {gc.MaxNum} at line {gc.MaxLine}), forced {gc.Forced}, last heap {gc.LastLive} MB live / {gc.LastGoal} MB goal");
            }
            if (t.Tags > 0)
            {
                string byLayer = string.Join(", ", t.TagsByLayer!.Select(kv => $"{kv.Key} {kv.Value}"));
                string ids = t.FrameIds!.Count >= MaxFrameIds ? $"at least {MaxFrameIds}" : t.FrameIds.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                _console.MarkupLine($"[bold]tagged lines[/] {E(stream)}: {t.Tags} ({E(byLayer)}), {ids} frame ids");
            }
        }
        foreach (var (stream, lines) in _streams)
        {
            var t = _totals.GetValueOrDefault(stream);
            _console.MarkupLine($"[grey]{E(stream)}: {lines} lines, {t?.Events ?? 0} events, {t?.Crashes ?? 0} crashes[/]");
        }
        if (_crashes == 0 && _dumps == 0) _console.MarkupLine("[green]No crashes or goroutine dumps found.[/]");
    }

    private void RenderCrash(CrashEvent c)
    {
        var own = new CodeOwnership(c.Modules, configured: true);
        string rec = c.Kind == CrashKinds.LoggedStack ? "[blue]logged by the service, which went on[/]"
            : c.Recovered ? "[green]recovered by net/http[/]" : c.Recoverable ? "[yellow]recoverable panic[/]" : "[red]fatal, not recoverable[/]";
        _console.Write(new Rule($"[bold red]CRASH[/] [bold]{E(c.Category)}[/]") { Justification = Justify.Left });
        _console.MarkupLine($"[grey]at {E(c.Stream)}:{c.Line}-{c.EndLine}[/]");
        _console.MarkupLine($"{E(c.Kind)}: [bold]{E(Shorten(c.Message, 500))}[/]  ({rec})");
        if (c.LogMessage is not null) _console.MarkupLine($"logged as: {E(Shorten(c.LogMessage, 300))}");
        if (c.Panics.Count > 1)
        {
            _console.MarkupLine("chain (oldest first):");
            foreach (string p in c.Panics) _console.MarkupLine($"  [grey]panic:[/] {E(Shorten(p, 300))}");
        }
        if (c.Signal is { } s) _console.MarkupLine($"signal: {E(s.Name)} code={E(s.Code ?? "?")} addr={E(s.Addr ?? "?")} pc={E(s.Pc ?? "?")}");
        if (c.RootCause is { } rc) _console.MarkupLine($"root cause: [bold green]{E(rc.Function)}[/] at [underline]{E(rc.File)}:{rc.Line}[/]");
        else _console.MarkupLine("root cause: [grey]no frame of the service's own code on the crashing goroutine[/]");
        _console.MarkupLine($"fingerprint: {E(c.Fingerprint)}   goroutines: {c.GoroutineCount}" + (c.Modules.Count > 0 ? $"   modules: {E(string.Join(", ", c.Modules))}" : string.Empty));
        if (c.FrameIds.Count > 0) _console.MarkupLine($"request frames: {E(string.Join(", ", c.FrameIds))}");
        if (c.CrashingGoroutine is { } g)
        {
            _console.MarkupLine($"[bold]goroutine {g.Id} [[{E(g.State)}]][/] (crashing)");
            RenderFrames(g.Frames, own, c.RootCause);
            if (g.CreatedBy is { } cb) _console.MarkupLine($"    [grey]created by {E(cb.Function)} {E(cb.File)}:{cb.Line}[/]");
        }
        RenderBuckets(c.Buckets, skipId: c.CrashingGoroutine?.Id);
        RenderFindings(c.Findings);
        if (c.Truncated) _console.MarkupLine("[yellow]truncated: the output was cut (mid-frame, or by a size cap)[/]");
        _console.WriteLine();
    }

    private void RenderDump(GoroutineDumpEvent d)
    {
        _console.Write(new Rule($"[bold blue]GOROUTINE DUMP[/] {E(d.Signal ?? "runtime.Stack / pprof")}") { Justification = Justify.Left });
        _console.MarkupLine($"[grey]at {E(d.Stream)}:{d.Line}-{d.EndLine}[/]");
        _console.MarkupLine($"{d.GoroutineCount} goroutines in {d.Buckets.Count} buckets; states: {E(string.Join(", ", d.States.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}")))}");
        if (d.Repeats > 1) _console.MarkupLine($"[yellow]printed {d.Repeats} times in a row[/] (one event for the run)");
        RenderBuckets(d.Buckets, skipId: null);
        RenderFindings(d.Findings);
        if (d.Truncated) _console.MarkupLine("[yellow]truncated: the output was cut (mid-frame, or by a size cap)[/]");
        _console.WriteLine();
    }

    private void RenderFrames(StackFrame[] frames, CodeOwnership own, FrameRef? rootCause)
    {
        int shown = 0;
        bool rootMarked = false;
        foreach (var f in frames)
        {
            if (shown++ == MaxFramesShown)
            {
                _console.MarkupLine($"    [grey]... {frames.Length - MaxFramesShown} more frames[/]");
                break;
            }
            bool isRoot = !rootMarked && rootCause is not null && f.Function == rootCause.Function && f.Line == rootCause.Line && f.File == rootCause.File;
            rootMarked |= isRoot;
            bool inApp = own.IsInApp(f);
            string marker = isRoot ? "[bold green]►[/] " : "  ";
            string fn = isRoot ? $"[bold green]{E(f.Function)}[/]" : inApp ? $"[bold]{E(f.Function)}[/]" : $"[grey]{E(f.Function)}[/]";
            var label = _semantics.Classify(f.Function);
            string tag = inApp && label.Layer != FrameSemantics.Unknown ? $" [blue]{E(label.Layer)}:{E(label.Intent)}[/]" : string.Empty;
            _console.MarkupLine($"  {marker}{fn}{tag}  [grey]{E(f.File)}:{f.Line}[/]");
        }
    }

    private void RenderBuckets(IReadOnlyList<GoroutineBucket> buckets, long? skipId)
    {
        var shown = buckets.Where(b => !(b.Count == 1 && b.Ids[0] == skipId)).ToList();
        if (shown.Count == 0) return;
        var table = new Table().Border(TableBorder.Simple).AddColumn("count").AddColumn("state").AddColumn("where (first service frame, else first outside the runtime)").AddColumn("created by").AddColumn("ids");
        foreach (var b in shown.Take(MaxBucketsShown))
        {
            string state = b.MaxWaitMinutes > 0 ? $"{b.State}, {b.MinWaitMinutes}-{b.MaxWaitMinutes} min" : b.State;
            table.AddRow(
                new Markup($"[bold]{b.Count}[/]"),
                new Text(state),
                new Text(WaitSite.Format(b.WaitSite)),
                new Text(b.CreatedBy ?? "-"),
                new Text(string.Join(",", b.Ids.Take(6)) + (b.Count > 6 ? ",…" : string.Empty)));
        }
        _console.Write(table);
        if (shown.Count > MaxBucketsShown) _console.MarkupLine($"[grey]... {shown.Count - MaxBucketsShown} more buckets (use --json for all)[/]");
    }

    private void RenderFindings(IReadOnlyList<BlockingFinding> findings)
    {
        foreach (var f in findings)
        {
            _console.MarkupLine($"[bold yellow]finding[/] [yellow]{E(f.Kind)}[/]: {E(f.Summary)}");
        }
    }

    private static string E(string s) => Markup.Escape(s);

    /// <summary>Piped output gets a wide fixed width: function names should not wrap in a log file.</summary>
    private static IAnsiConsole DefaultConsole()
    {
        var c = AnsiConsole.Console;
        if (Console.IsOutputRedirected) c.Profile.Width = 160;
        return c;
    }

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..max] + "…";
}
