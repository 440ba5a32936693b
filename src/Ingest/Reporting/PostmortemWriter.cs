using System.Globalization;
using System.Text;
using System.Text.Json;
using Ingest.Pipeline.Sinks;

namespace Ingest.Reporting;

public sealed class PostmortemOptions
{
    public const string SectionName = "Postmortem";

    /// <summary>Repository web URL (https://github.com/acme/shop): code references link to it at the revision.</summary>
    public string? RepositoryUrl { get; set; } = string.Empty;

    /// <summary>Revision to link when the events do not say (a branch or a commit SHA).</summary>
    public string? Revision { get; set; } = string.Empty;

    /// <summary>Prefix of paths in stack traces to strip before linking (/home/dev/src/shop/).</summary>
    public string? SourceRoot { get; set; } = string.Empty;

    /// <summary>Where the API can be reached, for evidence links in the draft.</summary>
    public string? ApiBaseUrl { get; set; } = string.Empty;
}

/// <summary>
/// A Markdown postmortem draft for an incident, following the team's template (version 3.2): summary, impact
/// (goroutine peak, heap allocation surge, crash counts, services and hosts), timeline per node (RFC 3339
/// nanoseconds and HLC stamps), root-cause classification, evidence anchors, code references, versions, and
/// the reproduction and fix sections left for the author. English and Chinese render from the same facts;
/// everything read from logs is escaped for Markdown.
/// </summary>
public sealed class PostmortemWriter(IEventQueries store, PostmortemOptions options)
{
    public const string TemplateVersion = "3.2";

    private sealed record Labels(
        string Title, string Template, string Summary, string Impact, string Timeline, string RootCause, string Evidence, string Code,
        string Versions, string Reproduction, string Fixes, string ForAuthor, string Services, string Hosts, string Crashes, string GoroutinePeak,
        string HeapSurge, string Category, string Candidate, string Path, string Recovered, string NotRecovered, string NoData, string Node, string Time,
        string Hlc, string Event, string Fingerprint, string RawHash, string Alert, string Document, string CommitSha, string GoVersion,
        string NotInLogs, string Skew, string Late, string SummaryText, string Pipeline, string Impacts, string Factor);

    private static readonly Labels s_en = new(
        "Postmortem draft", "Template", "Summary", "Impact", "Timeline", "Root cause", "Evidence", "Code references", "Versions",
        "Reproduction", "Fixes and follow-ups", "(for the author)", "Affected services", "Affected hosts", "Crashes", "Goroutine peak",
        "Heap allocation surge", "Classification", "Root-cause candidate (first failure in causal order)", "Propagation", "served again",
        "did not recover in the window", "not in the data", "node", "time (RFC 3339)", "HLC", "event", "crash fingerprint", "raw text hash",
        "alert fingerprint", "document", "commit / version", "Go version and modules", "not found in the logs (log `go version -m` or build info to get them)",
        "clock skew", "late", "{0} failed first ({1}) on {2}; the failure reached {3} service(s) across {4} node(s).", "CI pipeline",
        "What weighed on GC pauses in the hour before (standardised regression)", "factor");

    private static readonly Labels s_zh = new(
        "事故复盘草稿", "模板", "概要", "影响", "时间线", "根因", "证据", "代码位置", "版本",
        "复现步骤", "修复与后续", "（待作者填写）", "受影响服务", "受影响主机", "崩溃次数", "goroutine 峰值",
        "堆分配激增倍数", "分类", "根因候选（因果序中的第一个故障）", "传播路径", "已恢复服务",
        "窗口内未恢复", "数据中没有", "节点", "时间（RFC 3339）", "HLC", "事件", "崩溃指纹", "原始文本哈希",
        "告警指纹", "文档", "提交 / 版本", "Go 版本与模块", "日志中未找到（记录 `go version -m` 或构建信息即可获得）",
        "时钟偏差", "迟到", "{0} 最先故障（{1}），位于 {2}；故障波及 {3} 个服务、{4} 个节点。", "CI 流水线",
        "事故前一小时影响 GC 停顿的因素（标准化回归）", "因素");

    public async Task<string?> WriteAsync(string incidentId, string lang, CancellationToken cancellationToken)
    {
        var labels = lang == "zh" ? s_zh : s_en;
        if (await store.ByIdAsync(incidentId, "incident", cancellationToken).ConfigureAwait(false) is not { } doc) return null;
        using var incidentDoc = JsonDocument.Parse(doc);
        var inc = incidentDoc.RootElement.GetProperty("event");
        var events = inc.GetProperty("events").EnumerateArray().ToList();
        var root = inc.GetProperty("root_cause");

        // The crash documents behind the incident's crashes.
        var crashes = new List<JsonElement>();
        var owned = new List<JsonDocument>();
        foreach (var e in events.Where(e => e.GetProperty("kind").GetString() == "crash"))
        {
            if (await store.ByIdAsync(e.GetProperty("id").GetString()!, "crash", cancellationToken).ConfigureAwait(false) is { } c)
            {
                var parsed = JsonDocument.Parse(c);
                owned.Add(parsed);
                crashes.Add(parsed.RootElement);
            }
        }
        try
        {
            // The build each affected service logged last (go version -m, debug.BuildInfo).
            var builds = new List<(string Service, JsonElement Build)>();
            foreach (var service in inc.GetProperty("services").EnumerateArray().Select(s => s.GetString()!))
            {
                if (await store.RecentAsync("build_info", 1, null, service, cancellationToken).ConfigureAwait(false) is [var b, ..])
                {
                    var parsed = JsonDocument.Parse(b);
                    owned.Add(parsed);
                    builds.Add((service, parsed.RootElement.GetProperty("event")));
                }
            }
            var impacts = new List<(string Service, Ingest.GoRuntime.Analysis.Gc.ImpactTable Table)>();
            foreach (var service in inc.GetProperty("services").EnumerateArray().Select(s => s.GetString()!))
            {
                var table = await ImpactAsync(inc, service, cancellationToken).ConfigureAwait(false);
                if (table.Samples >= 3) impacts.Add((service, table));
            }
            return Render(labels, incidentId, inc, events, root, crashes, await SurgeAsync(inc, cancellationToken).ConfigureAwait(false), builds, impacts);
        }
        finally
        {
            foreach (var d in owned) d.Dispose();
        }
    }

    /// <summary>
    /// What weighed on the GC pauses of a service over the hour up to the incident: the same standardised
    /// regression the worker serves at /api/v1/gc/impact, computed from the stored cycles (so the CLI can too).
    /// </summary>
    private async Task<Ingest.GoRuntime.Analysis.Gc.ImpactTable> ImpactAsync(JsonElement inc, string service, CancellationToken cancellationToken)
    {
        var end = inc.GetProperty("last_at").GetDateTimeOffset();
        var docs = await store.RangeAsync("gc", end.AddHours(-1), end.AddMinutes(1), 5000, service, cancellationToken).ConfigureAwait(false);
        var samples = new List<Ingest.GoRuntime.Analysis.Gc.GcSample>();
        foreach (string d in docs)
        {
            using var doc = JsonDocument.Parse(d);
            var e = doc.RootElement.GetProperty("event");
            if (!e.TryGetProperty("derived", out var der)) continue;
            double? Num(JsonElement x, string name) => x.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
            samples.Add(new Ingest.GoRuntime.Analysis.Gc.GcSample
            {
                Num = e.GetProperty("num").GetInt32(), AtSeconds = e.GetProperty("at_seconds").GetDouble(), PauseMs = e.GetProperty("pause_ms").GetDouble(),
                ConcurrentMarkMs = e.GetProperty("concurrent_mark_ms").GetDouble(), IntervalSeconds = Num(der, "interval_seconds"),
                CpuFraction = Num(der, "gc_cpu_fraction"), AllocRateMbPerSecond = Num(der, "alloc_rate_mb_per_second"),
                HeapLiveMb = e.GetProperty("heap_live_mb").GetDouble(), HeapGoalMb = e.GetProperty("heap_goal_mb").GetDouble(),
                GoalOvershoot = Num(der, "goal_overshoot") ?? 0, Procs = e.GetProperty("procs").GetInt32(),
                Forced = e.GetProperty("forced").GetBoolean() || e.GetProperty("periodic").GetBoolean(),
                Goroutines = Num(der, "goroutines") is { } g ? (int)g : null,
            });
        }
        return Ingest.GoRuntime.Analysis.Gc.ImpactRegression.Compute(samples);
    }

    /// <summary>Peak allocation rate during the incident against the median of the hour before, per service.</summary>
    private async Task<double?> SurgeAsync(JsonElement inc, CancellationToken cancellationToken)
    {
        var start = inc.GetProperty("started_at").GetDateTimeOffset();
        var end = inc.GetProperty("last_at").GetDateTimeOffset();
        double? best = null;
        foreach (var service in inc.GetProperty("services").EnumerateArray().Select(s => s.GetString()!))
        {
            var cycles = await store.RangeAsync("gc", start.AddHours(-1), end.AddMinutes(1), 5000, service, cancellationToken).ConfigureAwait(false);
            var rates = cycles.Select(c =>
            {
                using var d = JsonDocument.Parse(c);
                var ev = d.RootElement.GetProperty("event");
                double? rate = ev.TryGetProperty("derived", out var der) && der.TryGetProperty("alloc_rate_mb_per_second", out var r) ? r.GetDouble() : null;
                return (At: d.RootElement.GetProperty("@timestamp").GetDateTimeOffset(), Rate: rate);
            }).Where(x => x.Rate is not null).ToList();
            var before = rates.Where(x => x.At < start).Select(x => x.Rate!.Value).Order().ToList();
            var during = rates.Where(x => x.At >= start).Select(x => x.Rate!.Value).ToList();
            if (before.Count < 3 || during.Count == 0 || before[before.Count / 2] <= 0) continue;
            double factor = during.Max() / before[before.Count / 2];
            best = Math.Max(best ?? 0, factor);
        }
        return best;
    }

    private string Render(Labels l, string id, JsonElement inc, List<JsonElement> events, JsonElement root, List<JsonElement> crashes, double? surge,
        List<(string Service, JsonElement Build)> builds, List<(string Service, Ingest.GoRuntime.Analysis.Gc.ImpactTable Table)> impacts)
    {
        var md = new StringBuilder();
        string S(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : string.Empty;
        var services = inc.GetProperty("services").EnumerateArray().Select(x => x.GetString()!).ToList();
        var nodes = inc.GetProperty("nodes").EnumerateArray().Select(x => x.GetString()!).ToList();

        md.AppendLine(CultureInfo.InvariantCulture, $"# {l.Title}: {Md(id)}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{l.Template} {TemplateVersion} · `ingest postmortem`");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## {l.Summary}");
        md.AppendLine();
        md.AppendLine(string.Format(CultureInfo.InvariantCulture, l.SummaryText, Md(S(root, "service")), Md(S(root, "kind")), Md(S(root, "node")), services.Count, nodes.Count) +
            " " + Md(S(root, "summary")));
        md.AppendLine();

        md.AppendLine(CultureInfo.InvariantCulture, $"## {l.Impact}");
        md.AppendLine();
        int? goroutinePeak = crashes.Count == 0 ? null : crashes.Max(c => c.GetProperty("event").GetProperty("goroutine_count").GetInt32());
        md.AppendLine(CultureInfo.InvariantCulture, $"- {l.Services}: {string.Join(", ", services.Select(Md))}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- {l.Hosts}: {string.Join(", ", nodes.Select(Md))}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- {l.Crashes}: {events.Count(e => S(e, "kind") == "crash")}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- {l.GoroutinePeak}: {(goroutinePeak is { } g ? g.ToString(CultureInfo.InvariantCulture) : l.NoData)}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- {l.HeapSurge}: {(surge is { } f ? f.ToString("0.0", CultureInfo.InvariantCulture) + "×" : l.NoData)}");
        foreach (var (service, table) in impacts)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"{l.Impacts} ({Md(service)}, n = {table.Samples}{(table.RSquared is { } r2 ? ", R² = " + r2.ToString("0.00", CultureInfo.InvariantCulture) : "")}):");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"| {l.Factor} | β | |");
            md.AppendLine("|---|---|---|");
            foreach (var factor in table.Factors.OrderByDescending(x => Math.Abs(x.Beta ?? 0)))
                md.AppendLine(CultureInfo.InvariantCulture, $"| `{factor.Factor}` | {(factor.Beta is { } b ? b.ToString("0.00", CultureInfo.InvariantCulture) : "–")} | {Md(factor.Note ?? string.Empty)} |");
        }
        md.AppendLine();

        md.AppendLine(CultureInfo.InvariantCulture, $"## {l.Timeline}");
        foreach (var node in events.GroupBy(e => S(e, "node")).OrderBy(g => g.Min(e => S(e, "hlc")), StringComparer.Ordinal))
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"### {l.Node} {Md(node.Key)}");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"| {l.Time} | {l.Hlc} | {l.Event} |");
            md.AppendLine("|---|---|---|");
            foreach (var e in node)
            {
                string flags = (e.GetProperty("clock_skew").GetBoolean() ? $" ({l.Skew})" : "") + (e.GetProperty("late").GetBoolean() ? $" ({l.Late})" : "");
                md.AppendLine(CultureInfo.InvariantCulture, $"| {S(e, "time")} | `{S(e, "hlc")}` | {Md(S(e, "service"))} {Md(S(e, "kind"))}: {Md(S(e, "summary"))}{flags} |");
            }
        }
        md.AppendLine();

        md.AppendLine(CultureInfo.InvariantCulture, $"## {l.RootCause}");
        md.AppendLine();
        var rootCrash = crashes.FirstOrDefault(c => S(c, "id") == S(root, "id"));
        string category = rootCrash.ValueKind == JsonValueKind.Object ? S(rootCrash.GetProperty("event"), "category") : S(root, "kind");
        md.AppendLine(CultureInfo.InvariantCulture, $"- {l.Category}: `{Md(category)}`");
        md.AppendLine(CultureInfo.InvariantCulture, $"- {l.Candidate}: {Md(S(root, "service"))} @ {Md(S(root, "node"))}, `{S(root, "hlc")}`: {Md(S(root, "summary"))}");
        string path = string.Join(" → ", inc.GetProperty("path").EnumerateArray().Select(p =>
            $"{Md(S(p, "service"))} ({Md(S(p, "first_failure"))}, {(p.GetProperty("recovered").GetBoolean() ? l.Recovered : l.NotRecovered)})"));
        md.AppendLine(CultureInfo.InvariantCulture, $"- {l.Path}: {path}");
        md.AppendLine();

        md.AppendLine(CultureInfo.InvariantCulture, $"## {l.Evidence}");
        md.AppendLine();
        foreach (var e in events)
        {
            string link = options.ApiBaseUrl is { Length: > 0 } api && S(e, "kind") == "crash" ? $" ([{l.Document}]({api.TrimEnd('/')}/api/v1/crashes/{Uri.EscapeDataString(S(e, "id"))}))" : "";
            md.Append(string.Create(CultureInfo.InvariantCulture, $"- `{Md(S(e, "id"))}`{link}"));
            if (S(e, "fingerprint") is { Length: > 0 } fp) md.Append(string.Create(CultureInfo.InvariantCulture, $", {(S(e, "kind") == "gc_anomaly" ? l.Alert : l.Fingerprint)} `{Md(fp)}`"));
            var crash = crashes.FirstOrDefault(c => S(c, "id") == S(e, "id"));
            if (crash.ValueKind == JsonValueKind.Object)
            {
                md.Append(string.Create(CultureInfo.InvariantCulture, $", {l.RawHash} `{Md(S(crash.GetProperty("event"), "raw_hash"))}`"));
                if (S(crash, "service_version") is { Length: > 0 } version) md.Append(string.Create(CultureInfo.InvariantCulture, $", {l.CommitSha} `{Md(version)}`"));
                if (S(crash, "ci_pipeline_id") is { Length: > 0 } pipeline) md.Append(string.Create(CultureInfo.InvariantCulture, $", {l.Pipeline} `{Md(pipeline)}`"));
            }
            md.AppendLine();
        }
        md.AppendLine();

        md.AppendLine(CultureInfo.InvariantCulture, $"## {l.Code}");
        md.AppendLine();
        foreach (var crash in crashes)
        {
            if (!crash.GetProperty("event").TryGetProperty("root_cause", out var rc) || rc.ValueKind != JsonValueKind.Object) continue;
            string file = S(rc, "file");
            int line = rc.GetProperty("line").GetInt32();
            string relative = options.SourceRoot is { Length: > 0 } prefix && file.StartsWith(prefix, StringComparison.Ordinal) ? file[prefix.Length..] : Path.GetFileName(file);
            string buildRevision = builds.Where(b => b.Service == S(crash, "service")).Select(b => S(b.Build, "vcs_revision")).FirstOrDefault(r => r.Length > 0) ?? string.Empty;
            string revision = buildRevision.Length > 0 ? buildRevision : S(crash, "service_version") is { Length: > 0 } v ? v : options.Revision ?? string.Empty;
            string reference = $"`{Md(relative)}:{line}`";
            if (options.RepositoryUrl is { Length: > 0 } repo && revision.Length > 0)
                reference = $"[{Md(relative)}:{line}]({repo.TrimEnd('/')}/blob/{Uri.EscapeDataString(revision)}/{relative}#L{line})";
            md.AppendLine(CultureInfo.InvariantCulture, $"- {reference}: `{Md(S(rc, "function"))}` ({Md(S(crash, "service"))})");
        }
        md.AppendLine();

        md.AppendLine(CultureInfo.InvariantCulture, $"## {l.Versions}");
        md.AppendLine();
        var versions = crashes.Select(c => S(c, "service_version")).Concat(builds.Select(b => S(b.Build, "vcs_revision"))).Where(v => v.Length > 0).Distinct().ToList();
        md.AppendLine(CultureInfo.InvariantCulture, $"- {l.CommitSha}: {(versions.Count > 0 ? string.Join(", ", versions.Select(v => $"`{Md(v)}`")) : l.NoData)}");
        if (builds.Count == 0) md.AppendLine(CultureInfo.InvariantCulture, $"- {l.GoVersion}: {l.NotInLogs}");
        foreach (var (service, b) in builds)
        {
            string main = $"{S(b, "main_module")} {S(b, "main_version")}".Trim();
            md.AppendLine(CultureInfo.InvariantCulture, $"- {l.GoVersion} ({Md(service)}): `{Md(S(b, "go_version"))}`, `{Md(main.Length > 0 ? main : S(b, "path"))}`");
            foreach (var dep in b.GetProperty("dependencies").EnumerateArray().Take(30))
                md.AppendLine(CultureInfo.InvariantCulture, $"  - `{Md(S(dep, "path"))}` `{Md(S(dep, "version"))}`");
        }
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## {l.Reproduction}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{l.ForAuthor}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## {l.Fixes}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{l.ForAuthor}");
        return md.ToString();
    }

    /// <summary>Log text is untrusted: Markdown and HTML metacharacters become inert.</summary>
    public static string Md(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            switch (c)
            {
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                case '\r':
                case '\n': sb.Append(' '); break;
                case '\\' or '`' or '*' or '_' or '[' or ']' or '|' or '#' or '!' or '{' or '}' or '(' or ')':
                    sb.Append('\\').Append(c);
                    break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }
}
