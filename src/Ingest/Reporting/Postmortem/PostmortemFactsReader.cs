using System.Globalization;
using System.Text.Json;
using Ingest.Correlation.Incidents;
using Ingest.GoRuntime.Analysis.Gc;
using Ingest.Pipeline.Alerting;
using Ingest.Pipeline.Sinks;

namespace Ingest.Reporting.Postmortem;

/// <summary>
/// Reads an incident and the documents behind it (crashes, goroutine dumps, gc cycles, alerts, build info) and
/// derives the postmortem's facts. Dumps count from <see cref="DumpLead"/> before the first failure (a SIGQUIT
/// taken while the service degraded is the evidence) to <see cref="Tail"/> after the last; GC baselines are the
/// hour before the first failure.
/// </summary>
public sealed class PostmortemFactsReader(IEventQueries store, PostmortemOptions options, AlertingOptions alerting)
{
    public static readonly TimeSpan DumpLead = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan Tail = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan Baseline = TimeSpan.FromHours(1);
    private const int MaxDocuments = 5000;

    private sealed record Doc(string Id, string Service, string Host, DateTimeOffset At, JsonElement Root, JsonElement Event);

    public async Task<PostmortemFacts?> ReadAsync(string incidentId, CancellationToken ct)
    {
        if (await store.ByIdAsync(incidentId, "incident", ct).ConfigureAwait(false) is not { } incidentJson) return null;
        var inc = Parse(incidentJson).Event;
        var events = inc.GetProperty("events").EnumerateArray().ToList();
        var services = Strings(inc, "services");
        var nodes = Strings(inc, "nodes");
        var started = inc.GetProperty("started_at").GetDateTimeOffset();
        var ended = inc.GetProperty("last_at").GetDateTimeOffset();
        var root = inc.GetProperty("root_cause");

        var crashes = new List<Doc>();
        foreach (string id in events.Where(e => S(e, "kind") == "crash").Select(e => S(e, "id")).Distinct())
            if (await store.ByIdAsync(id, "crash", ct).ConfigureAwait(false) is { } c) crashes.Add(Parse(c));
        var alerts = new List<Doc>();
        foreach (string id in events.Where(e => S(e, "kind") == "gc_anomaly").Select(e => S(e, "id")).Distinct())
            if (await store.ByIdAsync(id, "alert", ct).ConfigureAwait(false) is { } a) alerts.Add(Parse(a));
        var builds = new List<Doc>();
        var cycles = new List<Doc>();
        var dumps = new List<Doc>();
        foreach (string service in services)
        {
            if (await store.RecentAsync("build_info", 1, null, service, ct).ConfigureAwait(false) is [var b, ..]) builds.Add(Parse(b));
            cycles.AddRange((await store.RangeAsync("gc", started - Baseline, ended + Tail, MaxDocuments, service, ct).ConfigureAwait(false)).Select(Parse));
            dumps.AddRange((await store.RangeAsync("goroutine_dump", started - DumpLead, ended + Tail, MaxDocuments, service, ct).ConfigureAwait(false)).Select(Parse));
        }

        var rootCrash = crashes.FirstOrDefault(c => c.Id == S(root, "id"));
        var reproduction = rootCrash is null ? null : Reproduce(rootCrash, builds);
        return new PostmortemFacts
        {
            IncidentId = incidentId,
            TemplateVersion = PostmortemWriter.TemplateVersion,
            Summary = new SummaryFacts(S(root, "id"), S(root, "kind"), S(root, "service"), S(root, "node"), S(root, "hlc"), S(root, "summary")),
            Classification = Classify(root, rootCrash, alerts),
            Impact = Impact(inc, events, services, nodes, started, ended, crashes, cycles, dumps),
            Timeline = events.Select(e => new TimelineEntry(S(e, "id"), S(e, "kind"), S(e, "service"), S(e, "node"), S(e, "time"), S(e, "hlc"), S(e, "summary"),
                e.GetProperty("clock_skew").GetBoolean(), e.GetProperty("late").GetBoolean())).ToList(),
            Path = inc.GetProperty("path").EnumerateArray().Select(p =>
                new PathStep(S(p, "service"), S(p, "first_failure"), S(p, "node"), S(p, "hlc"), p.GetProperty("recovered").GetBoolean(),
                    p.TryGetProperty("recovered_at", out var at) ? at.GetString() : null)).ToList(),
            PanicSemantics = crashes.Select(Semantics).ToList(),
            GoroutineMatrix = Matrix(dumps, crashes),
            GcImpact = services.Select(s => Impact(s, cycles.Where(c => c.Service == s && c.At >= ended - Baseline && c.At <= ended + Tail))).Where(t => t.Samples >= 3).ToList(),
            Evidence = Evidence(events, crashes, alerts),
            CodeReferences = crashes.Select(c => Reference(c, builds)).OfType<CodeReference>().ToList(),
            Versions = Versions(crashes, builds),
            Reproduction = reproduction,
        };
    }

    private static Doc Parse(string json)
    {
        // Cloned: the elements outlive the parsed document, whose pooled buffers go back now.
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement.Clone();
        return new Doc(S(root, "id"), S(root, "service"), S(root, "host"), root.GetProperty("@timestamp").GetDateTimeOffset(), root, root.GetProperty("event"));
    }

    private static string S(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : string.Empty;

    private static double? Num(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static List<string> Strings(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(x => x.GetString() ?? string.Empty).ToList() : [];

    private static FrameRef? Frame(JsonElement e, string name) =>
        e.TryGetProperty(name, out var f) && f.ValueKind == JsonValueKind.Object ? new FrameRef(S(f, "function"), S(f, "file"), f.GetProperty("line").GetInt32()) : null;

    // ---- classification ----

    private static ClassificationFacts Classify(JsonElement root, Doc? rootCrash, List<Doc> alerts)
    {
        string category = S(root, "category") is { Length: > 0 } c ? c
            : rootCrash is not null ? S(rootCrash.Event, "category")
            : S(root, "kind") switch
            {
                "gc_anomaly" => alerts.FirstOrDefault(a => a.Id == S(root, "id")) is { } a ? S(a.Event, "kind") : "gc_anomaly",
                // A blocking finding is a deadlock or contention (DetectionPublisher publishes no other kind).
                "blocking" => S(root, "summary").Contains("deadlock", StringComparison.OrdinalIgnoreCase) ? "deadlock" : "contention",
                var kind => kind,
            };
        return new ClassificationFacts(category, ClassificationTree.Branch(category));
    }

    // ---- impact ----

    private static ImpactFacts Impact(JsonElement inc, List<JsonElement> events, List<string> services, List<string> nodes, DateTimeOffset started, DateTimeOffset ended,
        List<Doc> crashes, List<Doc> cycles, List<Doc> dumps)
    {
        var peaks = dumps.Where(d => d.At >= started - DumpLead).Select(d => new GoroutinePeak(d.Event.GetProperty("goroutine_count").GetInt32(), d.Service, d.Id))
            .Concat(crashes.Select(c => new GoroutinePeak(c.Event.GetProperty("goroutine_count").GetInt32(), c.Service, c.Id)))
            .Concat(cycles.Where(c => c.At >= started && c.Event.TryGetProperty("derived", out _) && Num(c.Event.GetProperty("derived"), "goroutines") is not null)
                .Select(c => new GoroutinePeak((int)Num(c.Event.GetProperty("derived"), "goroutines")!.Value, c.Service, c.Id)));
        var before = cycles.Where(c => c.At < started).ToList();
        var during = cycles.Where(c => c.At >= started).ToList();
        // Recovered at: the last service's first successful answer after its failures (known for each service only
        // while no later failure superseded it).
        var path = inc.GetProperty("path").EnumerateArray().ToList();
        bool recovered = path.All(p => p.GetProperty("recovered").GetBoolean());
        var lastRecovered = recovered && path.Count > 0 && path.All(p => p.TryGetProperty("recovered_at", out _))
            ? path.MaxBy(p => p.GetProperty("recovered_at").GetDateTimeOffset())
            : (JsonElement?)null;
        HeapSurge? surge = null;
        foreach (var service in services)
        {
            var b = before.Where(c => c.Service == service).Select(c => c.Event.GetProperty("heap_live_mb").GetDouble()).Order().ToList();
            var d = during.Where(c => c.Service == service).Select(c => c.Event.GetProperty("heap_live_mb").GetDouble()).ToList();
            if (b.Count < 3 || d.Count == 0 || b[b.Count / 2] <= 0) continue;
            var candidate = new HeapSurge(service, b[b.Count / 2], d.Max(), Math.Round(d.Max() / b[b.Count / 2], 2));
            if (surge is null || candidate.Factor > surge.Factor) surge = candidate;
        }
        return new ImpactFacts
        {
            Crashes = events.Where(e => S(e, "kind") == "crash").Select(e => S(e, "id")).Distinct().Count(),
            FailedRequests = events.Where(e => S(e, "kind") == "error_span").Select(e => S(e, "id")).Distinct().Count(),
            Services = services,
            Hosts = nodes,
            StartedAt = S(inc, "started_at"),
            EndedAt = S(inc, "last_at"),
            DurationSeconds = Math.Round((ended - started).TotalSeconds, 3),
            Recovered = recovered,
            RecoveredAt = lastRecovered is { } l ? S(l, "recovered_at") : null,
            DurationToRecoverySeconds = lastRecovered is { } r ? Math.Round((r.GetProperty("recovered_at").GetDateTimeOffset() - started).TotalSeconds, 3) : null,
            GoroutinePeak = peaks.MaxBy(p => p.Count),
            HeapSurge = surge,
            GcPauses = new GcPauses(Pauses(before), Pauses(during)),
        };
    }

    private static PauseStats? Pauses(List<Doc> cycles)
    {
        if (cycles.Count == 0) return null;
        var p = cycles.Select(c => c.Event.GetProperty("pause_ms").GetDouble()).Order().ToList();
        // Nearest rank: a percentile is a pause that happened.
        double Rank(double q) => p[Math.Max(0, (int)Math.Ceiling(q * p.Count) - 1)];
        return new PauseStats(p.Count, Rank(0.50), Rank(0.99), p[^1]);
    }

    // ---- panic stack semantics ----

    private static readonly string[] s_compilerChecks = ["runtime.panicIndex", "runtime.goPanicIndex", "runtime.panicSlice", "runtime.goPanicSlice", "runtime.panicdivide",
        "runtime.panicshift", "runtime.panicdottype", "runtime.panicnildottype", "runtime.panicunsafeslice"];

    private static readonly string[] s_runtimeChecks = ["runtime.sigpanic", "runtime.panicmem", "runtime.chansend", "runtime.closechan", "runtime.mapassign", "runtime.panicwrap"];

    /// <summary>
    /// How the panic was raised. Compiler-inserted checks are named by their category when Go elided the
    /// runtime.panicIndex frame (it usually does), runtime-detected faults likewise.
    /// </summary>
    public static string Trigger(string kind, string category, bool recoverable, IEnumerable<string> functions)
    {
        if (!recoverable && kind != "logged_stack") return "fatal";
        var fs = functions.ToList();
        if (category is "index_out_of_range" or "slice_bounds_out_of_range" or "integer_divide_by_zero" or "type_assertion" ||
            fs.Any(f => s_compilerChecks.Any(c => f.StartsWith(c, StringComparison.Ordinal)))) return "compiler_check";
        if (category is "nil_pointer_dereference" or "nil_map_assignment" or "closed_channel" or "unexpected_signal" ||
            fs.Any(f => s_runtimeChecks.Any(c => f.StartsWith(c, StringComparison.Ordinal)))) return "runtime_check";
        return "explicit";
    }

    /// <summary>
    /// The panic value's class. Go prints an error and a string alike (their text), so an explicit panic whose
    /// value prints as text is <c>error</c>; one printed with its type (<c>(main.T) 0x…</c>, <c>main.Code(3)</c>) or
    /// a bare number is <c>value</c>.
    /// </summary>
    public static string ExceptionClass(string trigger, string message)
    {
        if (trigger == "fatal") return "fatal";
        if (trigger is "runtime_check" or "compiler_check" || message.StartsWith("runtime error: ", StringComparison.Ordinal)) return "runtime.Error";
        string m = message.Trim();
        bool typed = m.StartsWith('(') && m.Contains(") ", StringComparison.Ordinal)
            || (m.EndsWith(')') && m.IndexOf('(', StringComparison.Ordinal) is > 0 and var open && !m[..open].Contains(' ', StringComparison.Ordinal) && m[..open].Contains('.', StringComparison.Ordinal));
        bool scalar = double.TryParse(m, NumberStyles.Float, CultureInfo.InvariantCulture, out _) || m is "true" or "false";
        return typed || scalar ? "value" : "error";
    }

    private static PanicSemantics Semantics(Doc c)
    {
        var e = c.Event;
        string kind = S(e, "kind"), category = S(e, "category");
        bool recoverable = e.GetProperty("recoverable").GetBoolean();
        var g = e.TryGetProperty("crashing_goroutine", out var cg) && cg.ValueKind == JsonValueKind.Object ? cg : (JsonElement?)null;
        var frames = g is { } gor ? gor.GetProperty("frames").EnumerateArray().Select(f => new TaggedFrame(S(f, "function"), S(f, "file"), f.GetProperty("line").GetInt32(),
            f.GetProperty("in_app").GetBoolean(), S(f, "layer"), S(f, "intent"), FrameId(S(f, "function")), f.GetProperty("inferred").GetBoolean())).ToList() : [];
        string trigger = Trigger(kind, category, recoverable, frames.Select(f => f.Function));
        var panics = Strings(e, "panics");
        return new PanicSemantics
        {
            CrashId = c.Id,
            Service = c.Service,
            Category = category,
            Trigger = trigger,
            ExceptionClass = ExceptionClass(trigger, S(e, "message")),
            Recoverable = recoverable,
            Recovered = e.GetProperty("recovered").GetBoolean(),
            Message = S(e, "message"),
            RootCause = Frame(e, "root_cause"),
            Frames = frames,
            RecoveredChain = panics.Count > 1 ? panics[..^1] : [],
            FrameIds = Strings(e, "frame_ids"),
            Goroutine = g is { } x ? new GoroutineRef(x.GetProperty("id").GetInt64(), S(x, "state"), Frame(x, "created_by")) : null,
        };
    }

    /// <summary>A stack frame's id in the tag: its function without the package path ((*Store).PriceOf).</summary>
    public static string FrameId(string function)
    {
        int slash = function.LastIndexOf('/');
        int dot = function.IndexOf('.', slash + 1);
        return dot >= 0 ? function[(dot + 1)..] : function;
    }

    // ---- goroutine dump correlation matrix ----

    private static GoroutineMatrix Matrix(List<Doc> dumps, List<Doc> crashes)
    {
        // A crash's own dump (all goroutines at the crash) is a column too: it holds the crashing goroutine.
        var columns = dumps.Concat(crashes.Where(c => c.Event.TryGetProperty("buckets", out var b) && b.GetArrayLength() > 0))
            .OrderBy(d => d.Host, StringComparer.Ordinal).ThenBy(d => d.At).ToList();
        var keys = new List<(string State, FrameRef? Site, string CreatedBy)>();
        var counts = new Dictionary<(string, FrameRef?, string), int[]>();
        var contention = new Dictionary<(string, FrameRef?, string), string>();
        for (int i = 0; i < columns.Count; i++)
        {
            var findings = columns[i].Event.TryGetProperty("findings", out var fs) ? fs.EnumerateArray().Where(f => S(f, "kind") == "contention").ToList() : [];
            foreach (var b in columns[i].Event.GetProperty("buckets").EnumerateArray())
            {
                var key = (S(b, "state"), Frame(b, "wait_site"), S(b, "created_by"));
                if (!counts.TryGetValue(key, out var row))
                {
                    counts[key] = row = new int[columns.Count];
                    keys.Add(key);
                }
                row[i] += b.GetProperty("count").GetInt32();
                if (findings.FirstOrDefault(f => Frame(f, "wait_site") == key.Item2 && S(f, "address").Length > 0) is { ValueKind: JsonValueKind.Object } finding)
                    contention[key] = S(finding, "address");
            }
        }
        var crashing = crashes.Select(c => c.Event.TryGetProperty("crashing_goroutine", out var g) && g.ValueKind == JsonValueKind.Object ? CrashingKey(g) : null)
            .OfType<(string, FrameRef?, string)?>().Select(k => k!.Value).ToHashSet();
        var rows = keys.Select(k =>
        {
            int[] n = counts[k];
            // Growth: one node's successive dumps each holding more of this signature than the last. A crash
            // column is left out: a panic prints only the crashing goroutine unless GOTRACEBACK=all.
            bool growing = columns.Select((c, i) => (c.Host, Crash: IsCrash(c), Count: n[i])).Where(x => !x.Crash).GroupBy(x => x.Host)
                .Any(node => node.Count() >= 2 && node.Zip(node.Skip(1)).All(p => p.Second.Count > p.First.Count));
            return new MatrixRow(k.State, k.Site, k.CreatedBy, n, growing, contention.GetValueOrDefault(k), crashing.Contains(k));
        }).OrderByDescending(r => r.Crashing).ThenByDescending(r => r.Counts.Max()).ToList();
        return new GoroutineMatrix(columns.Select(c => new MatrixColumn(c.Id, IsCrash(c) ? "crash" : "goroutine_dump", c.Service, c.Host, Ingest.Correlation.Clocks.Rfc3339.FromUnixNanos(c.At.ToUnixTimeMilliseconds() * 1_000_000),
            c.Event.GetProperty("goroutine_count").GetInt32())).ToList(), rows);
    }

    private static bool IsCrash(Doc d) => S(d.Event, "type") == "crash";

    /// <summary>The crashing goroutine's signature as its dump bucket has it: wait site the first in-app frame (else the first outside the runtime).</summary>
    private static (string, FrameRef?, string)? CrashingKey(JsonElement g)
    {
        var frames = g.GetProperty("frames").EnumerateArray().ToList();
        var site = frames.FirstOrDefault(f => f.GetProperty("in_app").GetBoolean());
        if (site.ValueKind != JsonValueKind.Object) site = frames.FirstOrDefault(f => !S(f, "function").StartsWith("runtime.", StringComparison.Ordinal));
        FrameRef? siteRef = site.ValueKind == JsonValueKind.Object ? new FrameRef(S(site, "function"), S(site, "file"), site.GetProperty("line").GetInt32()) : null;
        string createdBy = g.TryGetProperty("created_by", out var cb) && cb.ValueKind == JsonValueKind.Object ? S(cb, "function") : string.Empty;
        return (S(g, "state"), siteRef, createdBy);
    }

    // ---- gc impact, evidence, code, versions, reproduction ----

    private static GcImpact Impact(string service, IEnumerable<Doc> cycles)
    {
        var samples = cycles.Where(c => c.Event.TryGetProperty("derived", out _)).Select(c =>
        {
            var e = c.Event;
            var der = e.GetProperty("derived");
            return new GcSample
            {
                Num = e.GetProperty("num").GetInt32(), AtSeconds = e.GetProperty("at_seconds").GetDouble(), PauseMs = e.GetProperty("pause_ms").GetDouble(),
                ConcurrentMarkMs = e.GetProperty("concurrent_mark_ms").GetDouble(), IntervalSeconds = Num(der, "interval_seconds"),
                CpuFraction = Num(der, "gc_cpu_fraction"), AllocRateMbPerSecond = Num(der, "alloc_rate_mb_per_second"),
                HeapLiveMb = e.GetProperty("heap_live_mb").GetDouble(), HeapGoalMb = e.GetProperty("heap_goal_mb").GetDouble(),
                GoalOvershoot = Num(der, "goal_overshoot") ?? 0, Procs = e.GetProperty("procs").GetInt32(),
                Forced = e.GetProperty("forced").GetBoolean() || e.GetProperty("periodic").GetBoolean(),
                Goroutines = Num(der, "goroutines") is { } g ? (int)g : null,
            };
        }).ToList();
        var table = ImpactRegression.Compute(samples);
        return new GcImpact(service, table.Samples, table.RSquared is { } r ? Math.Round(r, 4) : null,
            table.Factors.OrderByDescending(f => Math.Abs(f.Beta ?? 0)).Select(f => new GcImpactFactor(f.Factor, f.Beta is { } b ? Math.Round(b, 4) : null, f.Note)).ToList());
    }

    private EvidenceFacts Evidence(List<JsonElement> events, List<Doc> crashes, List<Doc> alerts) => new(
        crashes.Select(c => S(c.Root, "ci_pipeline_id")).Where(p => p.Length > 0).Distinct().ToList(),
        alerts.Select(a =>
        {
            var labels = AlertmanagerPublisher.Labels(alerting, S(a.Event, "service"), S(a.Event, "instance"), S(a.Event, "kind"));
            return new AlertEvidence(a.Id, AlertmanagerFingerprint.Hex(labels), new SortedDictionary<string, string>(labels, StringComparer.Ordinal));
        }).ToList(),
        crashes.Select(c => new StackHash(c.Id, S(c.Event, "raw_hash"), S(c.Event, "fingerprint"))).ToList(),
        events.Select(e => S(e, "id")).Distinct().ToList());

    private string RelativePath(string file) =>
        options.SourceRoot is { Length: > 0 } prefix && file.StartsWith(prefix, StringComparison.Ordinal) ? file[prefix.Length..] : Path.GetFileName(file);

    private CodeReference? Reference(Doc crash, List<Doc> builds)
    {
        if (Frame(crash.Event, "root_cause") is not { } rc) return null;
        string relative = RelativePath(rc.File);
        string buildRevision = builds.Where(b => b.Service == crash.Service).Select(b => S(b.Event, "vcs_revision")).FirstOrDefault(r => r.Length > 0) ?? string.Empty;
        string revision = buildRevision.Length > 0 ? buildRevision : S(crash.Root, "service_version") is { Length: > 0 } v ? v : options.Revision ?? string.Empty;
        string? url = options.RepositoryUrl is { Length: > 0 } repo && revision.Length > 0
            ? $"{repo.TrimEnd('/')}/blob/{Uri.EscapeDataString(revision)}/{relative}#L{rc.Line}" : null;
        return new CodeReference(crash.Service, rc.Function, rc.File, rc.Line, relative, url);
    }

    private static VersionFacts Versions(List<Doc> crashes, List<Doc> builds) => new(
        crashes.Select(c => S(c.Root, "service_version")).Concat(builds.Select(b => S(b.Event, "vcs_revision"))).Where(v => v.Length > 0).Distinct().ToList(),
        builds.Select(b => new BuildFacts(b.Service, S(b.Event, "go_version"), NullIfEmpty(S(b.Event, "main_module")), NullIfEmpty(S(b.Event, "main_version")),
            NullIfEmpty(S(b.Event, "vcs_revision")),
            b.Event.GetProperty("dependencies").EnumerateArray().Select(d => new ModuleVersion(S(d, "path"), S(d, "version"))).ToList())).ToList());

    private static string? NullIfEmpty(string s) => s.Length > 0 ? s : null;

    private Reproduction? Reproduce(Doc crash, List<Doc> builds)
    {
        if (Frame(crash.Event, "root_cause") is not { } rc) return null;
        string function = rc.Function;
        int slash = function.LastIndexOf('/');
        int dot = function.IndexOf('.', slash + 1);
        if (dot < 0) return null;
        string package = function[..dot];
        string name = function[(dot + 1)..];
        // (*Store).PriceOf → Store_PriceOf; closures (func1) keep their enclosing function's name.
        var parts = name.Replace("(*", "", StringComparison.Ordinal).Replace("(", "", StringComparison.Ordinal).Replace(")", "", StringComparison.Ordinal)
            .Split('.').Where(p => !(p.StartsWith("func", StringComparison.Ordinal) && p.Length > 4 && char.IsDigit(p[4]))).ToList();
        string testName = "Test" + string.Join("_", parts.Select(p => p.Length > 0 ? char.ToUpperInvariant(p[0]) + p[1..] : p));
        string mainModule = builds.Where(b => b.Service == crash.Service).Select(b => S(b.Event, "main_module")).FirstOrDefault(m => m.Length > 0) ?? string.Empty;
        string relativeDir = Path.GetDirectoryName(RelativePath(rc.File))?.Replace('\\', '/') ?? string.Empty;
        string dir = mainModule.Length > 0 && package.StartsWith(mainModule + "/", StringComparison.Ordinal) ? package[(mainModule.Length + 1)..]
            : package == mainModule || relativeDir.Length == 0 ? "." : relativeDir;
        string target = dir == "." ? "./..." : $"./{dir}/...";
        string command = $"go test -run '^{testName}$' {target}";
        string shortPackage = package[(package.LastIndexOf('/') + 1)..];
        string skeleton = $$"""
            package {{shortPackage}}

            import "testing"

            // {{testName}} reproduces {{S(crash.Event, "category")}} in {{name}} ({{rc.Location}}), crash {{crash.Id}}.
            func {{testName}}(t *testing.T) {
            	defer func() {
            		if r := recover(); r != nil {
            			t.Fatalf("{{name}} panicked: %v", r)
            		}
            	}()
            	// Arrange the state the crash shows, then call {{name}}.
            }
            """;
        return new Reproduction(package, function, testName, command, skeleton);
    }
}
