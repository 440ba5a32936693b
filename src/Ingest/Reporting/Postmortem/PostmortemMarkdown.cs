using System.Globalization;
using System.Text;
using static Ingest.Reporting.Postmortem.MarkdownText;

namespace Ingest.Reporting.Postmortem;

/// <summary>The Markdown draft of template 3.2, rendered from the facts only (so it says what the JSON says).</summary>
public static class PostmortemMarkdown
{
    public static string Render(PostmortemFacts f, PostmortemLabels l, string? apiBaseUrl)
    {
        var md = new StringBuilder();
        void Line(string s = "") => md.Append(s).Append('\n');
        void Heading(string key) { Line($"## {l[key]}"); Line(); }
        string YesNo(bool b) => b ? l["yes"] : l["no"];
        string Number(double d) => d.ToString("0.###", CultureInfo.InvariantCulture);

        Line($"# {l["title"]}: {Text(f.IncidentId)}");
        Line();
        Line($"{l["template"]} {f.TemplateVersion} · `ingest postmortem`");
        Line();

        // 1. Summary and timeline
        Heading("summary");
        var s = f.Summary;
        Line(string.Format(CultureInfo.InvariantCulture, l["summary_text"], Text(s.RootService), Text(s.RootKind), Text(s.RootNode), f.Impact.Services.Count, f.Impact.Hosts.Count)
            + " " + Text(s.Text));
        Line();
        Heading("timeline");
        foreach (var node in f.Timeline.GroupBy(e => e.Node).OrderBy(g => g.Min(e => e.Hlc), StringComparer.Ordinal))
        {
            Line($"### {l["node"]} {Text(node.Key)}");
            Line();
            Line($"| {l["time"]} | {l["hlc"]} | {l["event"]} |");
            Line("|---|---|---|");
            foreach (var e in node)
            {
                string flags = (e.ClockSkew ? $" ({l["skew"]})" : "") + (e.Late ? $" ({l["late"]})" : "");
                Line($"| {Text(e.Time)} | {CodeCell(e.Hlc)} | {Text(e.Service)} {Text(e.Kind)}: {Text(e.Summary)}{flags} |");
            }
            Line();
        }

        // 2. Impact quantification
        Heading("impact");
        var i = f.Impact;
        Line($"- {l["crashes"]}: {i.Crashes}");
        Line($"- {l["failed_requests"]}: {i.FailedRequests}");
        Line($"- {l["services"]}: {string.Join(", ", i.Services.Select(Text))}");
        Line($"- {l["hosts"]}: {string.Join(", ", i.Hosts.Select(Text))}");
        Line($"- {l["duration"]}: {string.Format(CultureInfo.InvariantCulture, l["duration_text"], Text(i.StartedAt), Text(i.EndedAt), Number(i.DurationSeconds))}");
        Line($"- {l["recovery"]}: {(i.Recovered ? l["recovered"] : l["not_recovered"])}" +
            (i.RecoveredAt is { } at ? " " + string.Format(CultureInfo.InvariantCulture, l["recovered_at_text"], Text(at), Number(i.DurationToRecoverySeconds!.Value)) : ""));
        Line($"- {l["goroutine_peak"]}: " + (i.GoroutinePeak is { } p
            ? string.Format(CultureInfo.InvariantCulture, l["goroutine_peak_text"], p.Count, Text(p.Service), Code(p.Source)) : l["no_data"]));
        Line($"- {l["heap_surge"]}: " + (i.HeapSurge is { } h
            ? string.Format(CultureInfo.InvariantCulture, l["heap_surge_text"], Number(h.Factor), Text(h.Service), Number(h.DuringMaxMb), Number(h.BeforeMedianMb)) : l["no_data"]));
        Line();
        Line($"| {l["gc_pauses"]} | {l["cycles"]} | p50 ms | p99 ms | max ms |");
        Line("|---|---|---|---|---|");
        foreach (var (key, stats) in new[] { ("before", i.GcPauses.Before), ("during", i.GcPauses.During) })
            Line(stats is { } st ? $"| {l[key]} | {st.Cycles} | {Number(st.P50Ms)} | {Number(st.P99Ms)} | {Number(st.MaxMs)} |" : $"| {l[key]} | 0 | – | – | – |");
        Line();

        // 3. Root-cause classification tree
        Heading("classification");
        Line($"- {l["category"]}: {Code(f.Classification.Category)}");
        Line($"- {l["branch"]}: {Code(f.Classification.Branch)}");
        Line($"- {l["candidate"]}: {Text(s.RootService)} @ {Text(s.RootNode)}, {Code(s.RootHlc)}: {Text(s.Text)}");
        Line($"- {l["path"]}: " + string.Join(" → ", f.Path.Select(step =>
            $"{Text(step.Service)} ({Text(step.FirstFailure)}, {(step.Recovered ? l["served_again"] : l["did_not_recover"])})")));
        Line();
        Line($"{l["tree"]}:");
        Line();
        foreach (var (branch, leaves) in ClassificationTree.Tree)
        {
            Line($"- {l["branch." + branch]}");
            foreach (var (leaf, _) in leaves)
                Line($"  - {Code(leaf)}" + (f.Classification.Branch == $"{branch}/{leaf}" ? $" **← {l["this_incident"]}**" : ""));
        }
        Line();

        // 4. Panic stack semantic analysis
        Heading("semantics");
        Line($"| {l["crash"]} | {l["trigger"]} | {l["exception_class"]} | {l["recoverable"]} | {l["recovered_column"]} | {l["root_cause_frame"]} | {l["frames"]} | {l["recovered_chain"]} | {l["goroutine"]} |");
        Line("|---|---|---|---|---|---|---|---|---|");
        foreach (var c in f.PanicSemantics)
        {
            string frames = string.Join(" → ", c.Frames.Select(fr => $"{CodeCell(fr.Function)} {CodeCell(fr.Tag)}{(fr.Inferred ? "" : "*")}"));
            if (c.FrameIds.Count > 0) frames += $" ({l["explicit_tags"]}: {string.Join(", ", c.FrameIds.Select(CodeCell))})";
            string chain = c.RecoveredChain.Count > 0 ? string.Join(" → ", c.RecoveredChain.Select(Text)) : "–";
            string goroutine = c.Goroutine is { } g ? $"{g.Id} [{Text(g.State)}] / {(g.CreatedBy is { } cb ? CodeCell(cb.Function) + " " + Text(cb.Location) : "–")}" : "–";
            Line($"| {CodeCell(c.CrashId)} {Code(c.Category)} | {l["trigger." + c.Trigger]} ({Code(c.Trigger)}) | {Code(c.ExceptionClass)} | {YesNo(c.Recoverable)} | {YesNo(c.Recovered)} | " +
                $"{(c.RootCause is { } rc ? Code(rc.Location) + " " + CodeCell(rc.Function) : "–")} | {(frames.Length > 0 ? frames : "–")} | {chain} | {goroutine} |");
        }
        Line();
        if (f.PanicSemantics.Any(c => c.Frames.Any(fr => !fr.Inferred)))
        {
            Line(l["explicit_note"]);
            Line();
        }

        // 5. Goroutine dump correlation matrix
        Heading("matrix");
        var m = f.GoroutineMatrix;
        if (m.Columns.Count == 0)
        {
            Line(l["no_dumps"]);
        }
        else
        {
            Line($"| {l["signature"]} | " + string.Join(" | ", m.Columns.Select(c => $"{Text(c.Node)} {Text(c.Time)} ({c.GoroutineCount})")) + $" | {l["marks"]} |");
            Line("|---|" + string.Concat(m.Columns.Select(_ => "---|")) + "---|");
            foreach (var r in m.Rows)
            {
                var marks = new List<string>();
                if (r.Crashing) marks.Add($"**{l["crashing"]}**");
                if (r.Growing) marks.Add(l["growing"]);
                if (r.Contention is { } address) marks.Add($"{l["contention"]} {CodeCell(address)}");
                string site = r.WaitSite is { } w ? $"{CodeCell(w.Function)} {Text(w.Location)}" : "–";
                Line($"| {Text(r.State)} · {site} · {(r.CreatedBy.Length > 0 ? CodeCell(r.CreatedBy) : "–")} | " + string.Join(" | ", r.Counts) + $" | {string.Join(", ", marks)} |");
            }
        }
        Line();

        // 6. GC pause impact-factor weights
        Heading("gc_impact");
        if (f.GcImpact.Count == 0) Line(l["no_gc"]);
        foreach (var t in f.GcImpact)
        {
            Line($"{l["gc_impact_text"]} ({Text(t.Service)}, n = {t.Samples}{(t.RSquared is { } r2 ? ", R² = " + r2.ToString("0.00", CultureInfo.InvariantCulture) : "")}):");
            Line();
            Line($"| {l["factor"]} | β | |");
            Line("|---|---|---|");
            foreach (var factor in t.Factors)
                Line($"| {CodeCell(factor.Factor)} | {(factor.Beta is { } b ? b.ToString("0.00", CultureInfo.InvariantCulture) : "–")} | {Text(factor.Note ?? string.Empty)} |");
            Line();
        }
        if (f.GcImpact.Count == 0) Line();

        // 7. Evidence anchors
        Heading("evidence");
        var ev = f.Evidence;
        Line($"- {l["ci_pipeline"]}: {(ev.CiPipelineIds.Count > 0 ? string.Join(", ", ev.CiPipelineIds.Select(Code)) : l["no_data"])}");
        Line($"- {l["alert_fingerprint"]}: " + (ev.AlertFingerprints.Count > 0
            ? string.Join(", ", ev.AlertFingerprints.Select(a => $"{Code(a.Fingerprint)} ({Code("{" + string.Join(", ", a.Labels.Select(kv => $"{kv.Key}=\"{kv.Value}\"")) + "}")})"))
            : l["no_data"]));
        foreach (var h2 in ev.StackHashes)
            Line($"- {l["stack_hash"]} {Code(h2.CrashId)}: {Code(h2.RawHash)}, {l["fingerprint"]} {Code(h2.Fingerprint)}");
        Line($"- {l["documents"]}: " + string.Join(", ", ev.DocumentIds.Select(id =>
            apiBaseUrl is { Length: > 0 } api && id.StartsWith("crash:", StringComparison.Ordinal)
                ? $"{Code(id)} ([{l["document"]}]({api.TrimEnd('/')}/api/v1/crashes/{Uri.EscapeDataString(id)}))" : Code(id))));
        Line();

        // 8. Deliverables
        Heading("deliverables");
        Line($"| {l["deliverable"]} | {l["detail"]} |");
        Line("|---|---|");
        string go = f.Versions.Builds.Count == 0 ? l["not_in_logs"] : string.Join("; ", f.Versions.Builds.Select(b =>
            $"{Text(b.Service)}: {CodeCell(b.GoVersion)}, {CodeCell($"{b.MainModule} {b.MainVersion}".Trim())}" +
            (b.Modules.Count > 0 ? $", {l["modules"]}: " + string.Join(", ", b.Modules.Select(mv => CodeCell($"{mv.Path} {mv.Version}"))) : "")));
        Line($"| {l["go_compat"]} | {go} |");
        Line($"| {l["commit"]} | {(f.Versions.Commits.Count > 0 ? string.Join(", ", f.Versions.Commits.Select(CodeCell)) : l["no_data"])} |");
        string refs = f.CodeReferences.Count == 0 ? l["no_data"] : string.Join("; ", f.CodeReferences.Select(r =>
            (r.Url is { } url ? $"[{Text(r.Path)}:{r.Line}]({url})" : CodeCell($"{r.Path}:{r.Line}")) + $" {CodeCell(r.Function)} ({Text(r.Service)})"));
        Line($"| {l["code_refs"]} | {refs} |");
        Line($"| {l["fix_testability"]} | {(f.Reproduction is { } rp ? CodeCell(rp.Command) : l["no_data"])} |");
        Line();
        if (f.Reproduction is { } repro)
        {
            Line($"{l["skeleton"]} ({Code(repro.Package)}):");
            Line();
            string fence = new('`', Math.Max(3, LongestBacktickRun(repro.Skeleton) + 1));
            Line(fence + "go");
            foreach (string codeLine in repro.Skeleton.Split('\n')) Line(codeLine);
            Line(fence);
            Line();
        }

        // 9. Action items
        Heading("action_items");
        Line($"| {l["action"]} | {l["owner"]} | {l["due"]} | {l["status"]} |");
        Line("|---|---|---|---|");
        string target = f.Reproduction is { } r0 ? CodeCell(r0.Function) : Code(f.Classification.Category);
        Line($"| {string.Format(CultureInfo.InvariantCulture, l["action.fix"], target)} | | | {l["open"]} |");
        if (f.Reproduction is { } r1) Line($"| {string.Format(CultureInfo.InvariantCulture, l["action.test"], CodeCell(r1.TestName))} | | | {l["open"]} |");
        Line($"| {string.Format(CultureInfo.InvariantCulture, l["action.alert"], Code(f.Classification.Category))} | | | {l["open"]} |");
        return md.ToString();
    }
}
