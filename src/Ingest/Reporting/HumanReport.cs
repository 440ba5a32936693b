using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Spectre.Console;

namespace Ingest.Reporting;

/// <summary>
/// The terminal report of <c>ingest analyze</c>, in the spirit of panicparse: crashes with the root cause
/// highlighted, goroutines bucketed, findings, GC summary. Spectre.Console drops colour when output is
/// piped. Every piece of log text goes through <see cref="Markup.Escape"/>: it is attacker-controlled.
/// </summary>
public sealed class HumanReport(IAnsiConsole? console = null, FrameSemanticsOptions? semantics = null)
{
    private readonly FrameSemantics _semantics = new(semantics ?? new FrameSemanticsOptions());
    private const int MaxBucketsShown = 15;
    private const int MaxFramesShown = 30;
    private readonly IAnsiConsole _console = console ?? DefaultConsole();
    private readonly List<RuntimeEvent> _events = [];
    private readonly List<(string Stream, long Lines)> _streams = [];

    public void Add(RuntimeEvent e) => _events.Add(e);

    public void EndStream(string name, long lines) => _streams.Add((name, lines));

    public void Render()
    {
        int crashes = 0;
        foreach (var e in _events)
        {
            switch (e)
            {
                case CrashEvent c:
                    crashes++;
                    RenderCrash(c);
                    break;
                case GoroutineDumpEvent d:
                    RenderDump(d);
                    break;
                case LeakSuspectEvent l:
                    _console.MarkupLine($"[bold yellow]LEAK SUSPECT[/] {E(l.Stream)}:{l.Line}  created by [bold]{E(l.CreatedBy)}[/] at {E(l.TopFunction)}: {string.Join(" → ", l.Counts)} goroutines (+{l.GrowthPerSnapshot:0.#}/snapshot)");
                    _console.WriteLine();
                    break;
            }
        }
        RenderGcSummary();
        RenderTagSummary();
        foreach (var (stream, lines) in _streams)
        {
            int n = _events.Count(e => e.Stream == stream);
            _console.MarkupLine($"[grey]{E(stream)}: {lines} lines, {n} events, {_events.Count(e => e.Stream == stream && e is CrashEvent)} crashes[/]");
        }
        if (crashes == 0 && !_events.Any(e => e is GoroutineDumpEvent)) _console.MarkupLine("[green]No crashes or goroutine dumps found.[/]");
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
        if (c.Truncated) _console.MarkupLine("[yellow]truncated: the event hit a size cap[/]");
        _console.WriteLine();
    }

    private void RenderDump(GoroutineDumpEvent d)
    {
        _console.Write(new Rule($"[bold blue]GOROUTINE DUMP[/] {E(d.Signal ?? "runtime.Stack / pprof")}") { Justification = Justify.Left });
        _console.MarkupLine($"[grey]at {E(d.Stream)}:{d.Line}-{d.EndLine}[/]");
        _console.MarkupLine($"{d.GoroutineCount} goroutines in {d.Buckets.Count} buckets; states: {E(string.Join(", ", d.States.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}")))}");
        RenderBuckets(d.Buckets, skipId: null);
        RenderFindings(d.Findings);
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

    private void RenderGcSummary()
    {
        foreach (var group in _events.OfType<GcCycleEvent>().GroupBy(g => g.Stream))
        {
            var pauses = group.Select(g => g.Cycle.PauseMs).OrderBy(p => p).ToList();
            var max = group.MaxBy(g => g.Cycle.PauseMs)!;
            double p50 = pauses[pauses.Count / 2];
            double p99 = pauses[Math.Min(pauses.Count - 1, (int)Math.Ceiling(pauses.Count * 0.99) - 1)];
            _console.MarkupLine($"[bold]GC[/] {E(group.Key)}: {pauses.Count} cycles, pause p50 {p50:0.###} ms, p99 {p99:0.###} ms, max {max.Cycle.PauseMs:0.###} ms (gc {max.Cycle.Num} at line {max.Line}), forced {group.Count(g => g.Cycle.Forced)}, last heap {group.Last().Cycle.HeapLiveMb} MB live / {group.Last().Cycle.HeapGoalMb} MB goal");
            foreach (var g in group.Where(g => g.Anomalies.Count > 0))
            {
                foreach (var a in g.Anomalies)
                    _console.MarkupLine($"  [yellow]{E(Ingest.GoRuntime.Analysis.Gc.GcAnomaly.KindName(a.Kind))}[/] gc {a.Cycle} at line {g.Line}: {E(a.Reason)}");
            }
        }
    }

    private void RenderTagSummary()
    {
        foreach (var group in _events.OfType<TaggedLogEvent>().GroupBy(t => t.Stream))
        {
            string byLayer = string.Join(", ", group.GroupBy(t => $"{t.Layer}:{t.Intent}").Select(g => $"{g.Key} {g.Count()}"));
            _console.MarkupLine($"[bold]tagged lines[/] {E(group.Key)}: {group.Count()} ({E(byLayer)}), {group.Select(t => t.FrameId).Distinct().Count()} frame ids");
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
