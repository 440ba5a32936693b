using System.Text;
using System.Text.Json;
using Ingest.Pipeline.Alerting;
using Ingest.Reporting;
using Ingest.Reporting.Postmortem;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Ingest.Pipeline.Tests.Reporting;

/// <summary>The postmortem of <see cref="PostmortemScenario"/>: the JSON facts, and the Markdown of both languages parsed back with Markdig.</summary>
public sealed class PostmortemTests : IDisposable
{
    private readonly PostmortemScenario _s = new();
    private readonly PostmortemOptions _options = new() { RepositoryUrl = "https://github.com/acme/shop", SourceRoot = "/home/dev/src/shop/" };
    private static readonly MarkdownPipeline s_markdig = new MarkdownPipelineBuilder().UsePipeTables().Build();

    public void Dispose() => _s.Dispose();

    private PostmortemWriter Writer() => new(_s.Store, _options, new AlertingOptions());

    private async Task<JsonElement> JsonFactsAsync() =>
        JsonDocument.Parse((await Writer().WriteAsync(PostmortemScenario.IncidentId, "en", "json", CancellationToken.None))!).RootElement;

    [Fact]
    public async Task The_duration_to_recovery_runs_from_the_first_failure_to_the_last_service_serving_again()
    {
        var impact = (await Writer().FactsAsync(PostmortemScenario.GcIncidentId, CancellationToken.None))!.Impact;
        Assert.True(impact.Recovered);
        Assert.Equal("2026-03-01T10:00:06.500000000Z", impact.RecoveredAt);
        Assert.Equal(2.5, impact.DurationToRecoverySeconds);
        string md = (await Writer().WriteAsync(PostmortemScenario.GcIncidentId, "en", "markdown", CancellationToken.None))!;
        Assert.Contains("2.5 s after the first failure", md, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_facts_hold_every_section_with_the_numbers_of_the_incident()
    {
        var j = await JsonFactsAsync();
        Assert.Equal(PostmortemScenario.IncidentId, j.GetProperty("incident_id").GetString());

        var classification = j.GetProperty("classification");
        Assert.Equal("nil_pointer_dereference", classification.GetProperty("category").GetString());
        Assert.Equal("memory_safety/nil_pointer_dereference", classification.GetProperty("branch").GetString());

        var impact = j.GetProperty("impact");
        // The decoy crash of payments two seconds in belongs to no incident: two crashes, not three.
        Assert.Equal(2, impact.GetProperty("crashes").GetInt32());
        Assert.Equal(2, impact.GetProperty("failed_requests").GetInt32());
        Assert.Equal(["payments", "orders", "gateway"], impact.GetProperty("services").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(["node-c", "node-b", "node-a"], impact.GetProperty("hosts").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal("2026-03-01T10:00:01.000000000Z", impact.GetProperty("started_at").GetString());
        Assert.Equal("2026-03-01T10:00:06.000000000Z", impact.GetProperty("ended_at").GetString());
        Assert.Equal(5, impact.GetProperty("duration_seconds").GetDouble());
        Assert.False(impact.GetProperty("recovered").GetBoolean());
        // payments never served again: no recovery time.
        Assert.Equal(JsonValueKind.Null, impact.GetProperty("recovered_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, impact.GetProperty("duration_to_recovery_seconds").ValueKind);
        int peak = _s.LeakDumps.Select(d => d.GoroutineCount).Append(_s.Convoy.GoroutineCount).Append(_s.Nil.GoroutineCount).Append(_s.Repanic.GoroutineCount).Max();
        Assert.True(peak > 12, "a dump or crash holds more goroutines than the gc cycles logged");
        Assert.Equal(peak, impact.GetProperty("goroutine_peak").GetProperty("count").GetInt32());
        var surge = impact.GetProperty("heap_surge");
        Assert.Equal("payments", surge.GetProperty("service").GetString());
        Assert.Equal(100, surge.GetProperty("before_median_mb").GetDouble());
        Assert.Equal(400, surge.GetProperty("during_max_mb").GetDouble());
        Assert.Equal(4, surge.GetProperty("factor").GetDouble());
        var before = impact.GetProperty("gc_pauses").GetProperty("before");
        Assert.Equal(60, before.GetProperty("cycles").GetInt32());
        Assert.Equal(0.22, before.GetProperty("p50_ms").GetDouble(), 6);
        Assert.Equal(0.24, before.GetProperty("p99_ms").GetDouble(), 6);
        Assert.Equal(0.24, before.GetProperty("max_ms").GetDouble(), 6);
        var during = impact.GetProperty("gc_pauses").GetProperty("during");
        Assert.Equal((5, 3.0, 10.0, 10.0), (during.GetProperty("cycles").GetInt32(), during.GetProperty("p50_ms").GetDouble(), during.GetProperty("p99_ms").GetDouble(), during.GetProperty("max_ms").GetDouble()));

        var semantics = j.GetProperty("panic_semantics").EnumerateArray().ToDictionary(x => x.GetProperty("crash_id").GetString()!);
        Assert.Equal(new[] { _s.NilId, _s.RepanicId }.Order(StringComparer.Ordinal), semantics.Keys.Order(StringComparer.Ordinal));
        var nil = semantics[_s.NilId];
        Assert.Equal("nil_pointer_dereference", nil.GetProperty("category").GetString());
        Assert.Equal("runtime_check", nil.GetProperty("trigger").GetString());
        Assert.Equal("runtime.Error", nil.GetProperty("exception_class").GetString());
        Assert.True(nil.GetProperty("recoverable").GetBoolean());
        Assert.False(nil.GetProperty("recovered").GetBoolean());
        var rc = nil.GetProperty("root_cause");
        Assert.Equal(_s.Nil.RootCause!.Function, rc.GetProperty("function").GetString());
        Assert.Equal(_s.Nil.RootCause.File, rc.GetProperty("file").GetString());
        Assert.Equal(_s.Nil.RootCause.Line, rc.GetProperty("line").GetInt32());
        var frames = nil.GetProperty("frames").EnumerateArray().ToList();
        Assert.Equal(_s.Nil.CrashingGoroutine!.Frames.Length, frames.Count);
        Assert.All(frames, f => Assert.Matches(@"^\[[a-z]+:[a-z]+:[^\]]+\]$", f.GetProperty("tag").GetString()));
        Assert.Equal(_s.Nil.CrashingGoroutine.CreatedBy?.Function, nil.GetProperty("goroutine").GetProperty("created_by").ValueKind == JsonValueKind.Null
            ? null : nil.GetProperty("goroutine").GetProperty("created_by").GetProperty("function").GetString());
        var repanic = semantics[_s.RepanicId];
        Assert.Equal("explicit", repanic.GetProperty("trigger").GetString());
        Assert.Equal("error", repanic.GetProperty("exception_class").GetString());
        Assert.Equal(_s.Repanic.Panics.SkipLast(1), repanic.GetProperty("recovered_chain").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(2, repanic.GetProperty("recovered_chain").GetArrayLength());

        var matrix = j.GetProperty("goroutine_matrix");
        var columns = matrix.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("id").GetString()!).ToList();
        Assert.Contains(_s.ConvoyId, columns);
        Assert.All(_s.LeakDumpIds, id => Assert.Contains(id, columns));
        Assert.DoesNotContain(_s.DecoyDumpId, columns);
        Assert.DoesNotContain(_s.DecoyCrashId, columns);
        var rows = matrix.GetProperty("rows").EnumerateArray().ToList();
        Assert.All(rows, r => Assert.Equal(columns.Count, r.GetProperty("counts").GetArrayLength()));
        // Every column's counts add up to its dump's goroutines.
        for (int c = 0; c < columns.Count; c++)
            Assert.Equal(matrix.GetProperty("columns")[c].GetProperty("goroutine_count").GetInt32(), rows.Sum(r => r.GetProperty("counts")[c].GetInt32()));
        var leakRow = Assert.Single(rows, r => r.GetProperty("created_by").GetString() == _s.Leak.CreatedBy && r.GetProperty("growing").GetBoolean());
        var leakCounts = _s.LeakDumpIds.Select(id => leakRow.GetProperty("counts")[columns.IndexOf(id)].GetInt32()).ToList();
        Assert.Equal(_s.Leak.Counts.TakeLast(leakCounts.Count), leakCounts);
        string address = _s.Convoy.Findings.First(f => f.Kind == "contention").Address!;
        Assert.Contains(rows, r => r.GetProperty("contention").GetString() == address);
        Assert.Contains(rows, r => r.GetProperty("crashing").GetBoolean());

        var gcImpact = Assert.Single(j.GetProperty("gc_impact").EnumerateArray());
        Assert.Equal("payments", gcImpact.GetProperty("service").GetString());
        Assert.Equal(65, gcImpact.GetProperty("samples").GetInt32());

        var evidence = j.GetProperty("evidence");
        Assert.Equal(["4711"], evidence.GetProperty("ci_pipeline_ids").EnumerateArray().Select(x => x.GetString()));
        var alert = Assert.Single(evidence.GetProperty("alert_fingerprints").EnumerateArray());
        Assert.Equal(_s.AlertId, alert.GetProperty("alert_id").GetString());
        // The labels AlertmanagerPublisher pushes, hashed the way Alertmanager does.
        var labels = new Dictionary<string, string>
        {
            ["alertname"] = "GoGcAnomaly", ["service"] = "payments", ["instance"] = PostmortemScenario.AlertInstance, ["kind"] = "gc_thrash", ["severity"] = "critical",
        };
        Assert.Equal(AlertmanagerFingerprint.Hex(labels), alert.GetProperty("fingerprint").GetString());
        Assert.Equal(labels.OrderBy(kv => kv.Key, StringComparer.Ordinal), alert.GetProperty("labels").EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetString()!)));
        var hashes = evidence.GetProperty("stack_hashes").EnumerateArray().ToDictionary(h => h.GetProperty("crash_id").GetString()!, h => h.GetProperty("raw_hash").GetString());
        Assert.Equal(_s.Nil.RawTextHash, hashes[_s.NilId]);
        Assert.Equal(_s.Repanic.RawTextHash, hashes[_s.RepanicId]);
        Assert.Equal(_s.Events.Select(e => e.Id), evidence.GetProperty("document_ids").EnumerateArray().Select(x => x.GetString()));

        var reference = j.GetProperty("code_references").EnumerateArray().First(r => r.GetProperty("service").GetString() == "payments");
        string relative = _s.Nil.RootCause.File["/home/dev/src/shop/".Length..];
        Assert.Equal($"https://github.com/acme/shop/blob/0a1b2c3d4e5f/{relative}#L{_s.Nil.RootCause.Line}", reference.GetProperty("url").GetString());
        var build = Assert.Single(j.GetProperty("versions").GetProperty("builds").EnumerateArray());
        Assert.Equal(("go1.21.3", "example.com/shop"), (build.GetProperty("go_version").GetString(), build.GetProperty("main_module").GetString()));
        Assert.Contains(j.GetProperty("versions").GetProperty("commits").EnumerateArray(), c => c.GetString() == "0a1b2c3d4e5f");

        var repro = j.GetProperty("reproduction");
        string function = _s.Nil.RootCause.Function;
        string package = function[..function.IndexOf('.', function.LastIndexOf('/'))];
        Assert.Equal(package, repro.GetProperty("package").GetString());
        string testName = repro.GetProperty("test_name").GetString()!;
        Assert.Matches("^Test[A-Z][A-Za-z0-9_]*$", testName);
        Assert.Equal($"go test -run '^{testName}$' ./{package["example.com/shop/".Length..]}/...", repro.GetProperty("command").GetString());
        Assert.Contains($"func {testName}(t *testing.T)", repro.GetProperty("skeleton").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("en")]
    [InlineData("zh")]
    public async Task Markdown_renders_the_same_facts_in_each_language(string lang)
    {
        var l = PostmortemLabels.For(lang)!;
        var facts = (await Writer().FactsAsync(PostmortemScenario.IncidentId, CancellationToken.None))!;
        string md = (await Writer().WriteAsync(PostmortemScenario.IncidentId, lang, "markdown", CancellationToken.None))!;
        var doc = Markdown.Parse(md, s_markdig);

        var sections = doc.Descendants<HeadingBlock>().Where(h => h.Level == 2).Select(h => Plain(h.Inline)).ToList();
        Assert.Equal(new[] { "summary", "timeline", "impact", "classification", "semantics", "matrix", "gc_impact", "evidence", "deliverables", "action_items" }.Select(k => l[k]), sections);

        // Code spans show log text verbatim: no backslash escapes inside them.
        var code = doc.Descendants<CodeInline>().Select(c => c.Content).ToList();
        Assert.Contains(facts.Classification.Category, code);
        Assert.Contains(facts.Classification.Branch, code);
        Assert.Contains(_s.Nil.RootCause!.Function, code);
        Assert.Contains(facts.Evidence.AlertFingerprints[0].Fingerprint, code);
        Assert.DoesNotContain(code, c => c.Contains('\\', StringComparison.Ordinal));

        // Timeline: one table per node, one row per event, the summaries' pipes and newlines kept inside their cell.
        var tables = doc.Descendants<Table>().ToList();
        foreach (var node in _s.Events.GroupBy(e => e.Node))
        {
            var table = Section(doc, l["timeline"], $"{l["node"]} {node.Key}");
            Assert.Equal(node.Count() + 1, table.Count);
            Assert.All(table.Cast<TableRow>(), r => Assert.Equal(3, r.Count));
        }
        var ordersTable = Section(doc, l["timeline"], $"{l["node"]} node-b");
        Assert.Contains(ordersTable.Cast<TableRow>().Skip(1), r => Plain(r[2]) == "orders error_span: POST /orders | 502 from payments upstream reset");
        var gateway = Section(doc, l["timeline"], $"{l["node"]} node-a");
        Assert.Equal("gateway error_span: GET /checkout `500`", Plain(((TableRow)gateway[1])[2]));

        // Panic stack semantic table: a row per crash, its facts in its cells.
        var semantics = Section(doc, l["semantics"]);
        Assert.Equal(facts.PanicSemantics.Count + 1, semantics.Count);
        foreach (var (row, fact) in semantics.Cast<TableRow>().Skip(1).Zip(facts.PanicSemantics))
        {
            Assert.Equal(9, row.Count);
            Assert.Contains(fact.CrashId, Plain(row[0]), StringComparison.Ordinal);
            Assert.Contains($"({fact.Trigger})", Plain(row[1]), StringComparison.Ordinal);
            Assert.Equal(fact.ExceptionClass, Plain(row[2]));
            Assert.Equal(fact.Recoverable ? l["yes"] : l["no"], Plain(row[3]));
            Assert.Equal($"{fact.RootCause!.Location} {fact.RootCause.Function}", Plain(row[5]));
            Assert.All(fact.Frames, f => Assert.Contains(f.Tag, Plain(row[6]), StringComparison.Ordinal));
            Assert.Equal(fact.RecoveredChain.Count > 0 ? string.Join(" → ", fact.RecoveredChain) : "–", Plain(row[7]));
        }

        // Matrix: a column per dump, the counts as in the facts.
        var matrix = Section(doc, l["matrix"]);
        Assert.Equal(facts.GoroutineMatrix.Rows.Count + 1, matrix.Count);
        foreach (var (row, fact) in matrix.Cast<TableRow>().Skip(1).Zip(facts.GoroutineMatrix.Rows))
        {
            Assert.Equal(facts.GoroutineMatrix.Columns.Count + 2, row.Count);
            Assert.Equal(fact.Counts, Enumerable.Range(1, fact.Counts.Count).Select(i => int.Parse(Plain(row[i]), System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(fact.Growing, Plain(row[row.Count - 1]).Contains(l["growing"], StringComparison.Ordinal));
        }

        var impact = Plain(doc.Descendants<ListBlock>().First(b => Plain(b).Contains(l["crashes"], StringComparison.Ordinal)));
        Assert.Contains($"{l["crashes"]}: 2", impact, StringComparison.Ordinal);
        Assert.Contains($"{l["failed_requests"]}: 2", impact, StringComparison.Ordinal);
        Assert.Contains("4×", impact, StringComparison.Ordinal);
        Assert.Contains(facts.Impact.GoroutinePeak!.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), impact, StringComparison.Ordinal);
        var pauses = Section(doc, l["impact"]);
        Assert.Equal(["60", "0.22", "0.24", "0.24"], ((TableRow)pauses[1]).Skip(1).Select(c => Plain(c)));
        Assert.Equal(["5", "3", "10", "10"], ((TableRow)pauses[2]).Skip(1).Select(c => Plain(c)));
        Assert.Contains(tables, t => t.Cast<TableRow>().Any(r => Plain(r).Contains($"{l["action"]}", StringComparison.Ordinal)));

        // As the dashboard shows it: every table a table, the escaped log text back as text.
        string html = Ingest.Api.DashboardApi.PostmortemHtml(md);
        Assert.Equal(tables.Count, System.Text.RegularExpressions.Regex.Count(html, "<table>"));
        Assert.Contains("POST /orders | 502 from payments upstream reset", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_formats_and_cli_formats_answer_the_same_facts()
    {
        string json = (await Writer().WriteAsync(PostmortemScenario.IncidentId, "zh", "json", CancellationToken.None))!;
        Assert.Equal(PostmortemWriter.Json((await Writer().FactsAsync(PostmortemScenario.IncidentId, CancellationToken.None))!), json);
        Assert.Null(await Writer().WriteAsync("incident:nope", "en", "json", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => Writer().WriteAsync(PostmortemScenario.IncidentId, "en", "html", CancellationToken.None));
    }

    [Fact]
    public async Task A_gc_caused_incident_is_classified_under_the_garbage_collector_with_no_crash_to_reproduce()
    {
        var facts = (await Writer().FactsAsync(PostmortemScenario.GcIncidentId, CancellationToken.None))!;
        Assert.Equal(("gc_thrash", "garbage_collector/gc_thrash"), (facts.Classification.Category, facts.Classification.Branch));
        Assert.Equal(0, facts.Impact.Crashes);
        Assert.Empty(facts.PanicSemantics);
        Assert.Null(facts.Reproduction);
        Assert.Single(facts.Evidence.AlertFingerprints);
        string md = (await Writer().WriteAsync(PostmortemScenario.GcIncidentId, "zh", "markdown", CancellationToken.None))!;
        Assert.Contains("- 垃圾回收", md, StringComparison.Ordinal);
        Assert.Contains("`gc_thrash` **← 本次事故**", md, StringComparison.Ordinal);
    }

    /// <summary>Every crash category (README) and GC alert kind has its own leaf; only unknown ones fall back.</summary>
    [Theory]
    [InlineData("nil_pointer_dereference", "memory_safety/nil_pointer_dereference")]
    [InlineData("index_out_of_range", "memory_safety/bounds")]
    [InlineData("slice_bounds_out_of_range", "memory_safety/bounds")]
    [InlineData("nil_map_assignment", "memory_safety/nil_pointer_dereference")]
    [InlineData("unsafe_pointer", "memory_safety/unsafe_pointer_misuse")]
    [InlineData("unexpected_signal", "memory_safety/unexpected_signal")]
    [InlineData("goroutine_leak", "concurrency/goroutine_leak")]
    [InlineData("deadlock", "concurrency/channel_deadlock")]
    [InlineData("concurrent_map_access", "concurrency/concurrent_map_access")]
    [InlineData("data_race", "concurrency/data_race")]
    [InlineData("contention", "concurrency/lock_contention")]
    [InlineData("closed_channel", "concurrency/sync_misuse")]
    [InlineData("negative_waitgroup", "concurrency/sync_misuse")]
    [InlineData("unlock_of_unlocked_mutex", "concurrency/sync_misuse")]
    [InlineData("out_of_memory", "resource_exhaustion/out_of_memory")]
    [InlineData("stack_overflow", "resource_exhaustion/stack_overflow")]
    [InlineData("gc_thrash", "garbage_collector/gc_thrash")]
    [InlineData("pause_slo", "garbage_collector/gc_pause_slo")]
    [InlineData("pause_outlier", "garbage_collector/gc_pause_slo")]
    [InlineData("heap_growth", "garbage_collector/heap_growth")]
    [InlineData("pacer_overshoot", "garbage_collector/heap_growth")]
    [InlineData("cgo", "cgo/cgo_call_blocking")]
    [InlineData("custom_panic", "logic/explicit_panic")]
    [InlineData("type_assertion", "logic/type_assertion")]
    [InlineData("integer_divide_by_zero", "logic/integer_divide_by_zero")]
    [InlineData("logged_error", "logic/error_path")]
    [InlineData("test_timeout", "logic/error_path")]
    [InlineData("other", "logic/error_path")]
    [InlineData("something_new", "logic/error_path")]
    public void Categories_map_onto_the_template_tree(string category, string branch) => Assert.Equal(branch, ClassificationTree.Branch(category));

    /// <summary>Trigger path and exception class of real Go crashes (the corpus).</summary>
    [Theory]
    [InlineData("01-nil-pointer-dereference.txt", "runtime_check", "runtime.Error")]
    [InlineData("02-index-out-of-range.txt", "compiler_check", "runtime.Error")]
    [InlineData("03-slice-bounds-out-of-range.txt", "compiler_check", "runtime.Error")]
    [InlineData("05-integer-divide-by-zero.txt", "compiler_check", "runtime.Error")]
    [InlineData("06-type-assertion.txt", "compiler_check", "runtime.Error")]
    [InlineData("07-send-on-closed-channel.txt", "runtime_check", "runtime.Error")]
    [InlineData("04-nil-map-assignment.txt", "runtime_check", "runtime.Error")]
    [InlineData("11-custom-panic-error.txt", "explicit", "error")]
    [InlineData("13-deadlock.txt", "fatal", "fatal")]
    [InlineData("14-concurrent-map-writes.txt", "fatal", "fatal")]
    [InlineData("16-out-of-memory.txt", "fatal", "fatal")]
    public void Trigger_and_exception_class_of_corpus_crashes(string file, string trigger, string exceptionClass)
    {
        var crash = Ingest.Pipeline.Analysis.StreamAnalyzer.Analyze(Path.Combine(Support.CorpusFeed.Dir, file)).OfType<Ingest.GoRuntime.Model.CrashEvent>().First();
        string actual = PostmortemFactsReader.Trigger(crash.Kind, crash.Category, crash.Recoverable, crash.CrashingGoroutine?.Frames.Select(f => f.Function) ?? []);
        Assert.Equal((trigger, exceptionClass), (actual, PostmortemFactsReader.ExceptionClass(actual, crash.Message)));
    }

    [Theory]
    [InlineData("(main.T) 0xc000012345", "value")]
    [InlineData("main.Code(3)", "value")]
    [InlineData("42", "value")]
    [InlineData("payment state corrupted: settle called in state \"refunded\" (retry later)", "error")]
    public void An_explicit_panic_value_printed_with_its_type_is_a_value(string message, string exceptionClass) =>
        Assert.Equal(exceptionClass, PostmortemFactsReader.ExceptionClass("explicit", message));

    /// <summary>Whatever log text holds, Markdig gives it back: as a code span, as text, and inside a table cell.</summary>
    [Theory]
    [InlineData("example.com/shop/internal/store.(*Store).PriceOf")]
    [InlineData("a `b` ``c``")]
    [InlineData("`edge`")]
    [InlineData(" both sides ")]
    [InlineData("pipe | inside")]
    [InlineData("<script>alert(1)</script> &amp; [x](javascript:y) **b** _i_ ~s~ # h \\ \\`")]
    [InlineData("- list? 1. no + no")]
    [InlineData("42) not a list")]
    public void Log_text_round_trips_through_markdig(string text)
    {
        var code = Markdown.Parse("x " + MarkdownText.Code(text), s_markdig).Descendants<CodeInline>().Single();
        Assert.Equal(text, code.Content);
        Assert.Equal(text.Trim(), Plain(Markdown.Parse(MarkdownText.Text(text), s_markdig)));
        var table = Markdown.Parse($"| a | b |\n|---|---|\n| {MarkdownText.CodeCell(text)} | {MarkdownText.Text(text)} |\n", s_markdig).Descendants<Table>().Single();
        var row = (TableRow)table[1];
        Assert.Equal(2, row.Count);
        Assert.Equal(text.Trim(), Plain(row[0]));
        Assert.Equal(text.Trim(), Plain(row[1]));
    }

    [Fact]
    public void Labels_are_complete_in_every_language_with_the_same_placeholders()
    {
        var keys = PostmortemLabels.English.Keys.Order(StringComparer.Ordinal).ToList();
        foreach (var labels in PostmortemLabels.All)
        {
            Assert.Equal(keys, labels.Keys.Order(StringComparer.Ordinal));
            foreach (string key in keys)
            {
                Assert.False(string.IsNullOrWhiteSpace(labels[key]), $"{labels.Language}:{key}");
                Assert.Equal(Placeholders(PostmortemLabels.English[key]), Placeholders(labels[key]));
            }
        }
        // Every branch of the tree and every trigger has a label.
        Assert.All(ClassificationTree.Tree, b => Assert.Contains("branch." + b.Branch, keys));
        Assert.All(new[] { "explicit", "runtime_check", "compiler_check", "fatal" }, t => Assert.Contains("trigger." + t, keys));
        Assert.Throws<KeyNotFoundException>(() => PostmortemLabels.Chinese["no_such_label"]);
    }

    [Fact]
    public void Alertmanager_fingerprint_matches_prometheus_common()
    {
        // prometheus/common model: TestMetricToFingerprint.
        Assert.Equal(14695981039346656037UL, AlertmanagerFingerprint.Compute(new Dictionary<string, string>()));
        Assert.Equal(5799056148416392346UL, AlertmanagerFingerprint.Compute(new Dictionary<string, string> { ["name"] = "garland, briggs", ["fear"] = "love is not enough" }));
        Assert.Equal("507a62d79ee76c9a", AlertmanagerFingerprint.Hex(new Dictionary<string, string> { ["name"] = "garland, briggs", ["fear"] = "love is not enough" }));
    }

    private static string Placeholders(string s) => string.Concat(System.Text.RegularExpressions.Regex.Matches(s, @"\{\d\}").Select(m => m.Value).Order(StringComparer.Ordinal));

    /// <summary>The first table after the heading with this text (and, given, the sub-heading after it).</summary>
    private static Table Section(MarkdownDocument doc, string heading, string? sub = null)
    {
        var blocks = doc.ToList();
        int i = blocks.FindIndex(b => b is HeadingBlock { Level: 2 } h && Plain(h.Inline) == heading);
        Assert.True(i >= 0, heading);
        if (sub is not null)
        {
            i = blocks.FindIndex(i, b => b is HeadingBlock { Level: 3 } h && Plain(h.Inline) == sub);
            Assert.True(i >= 0, sub);
        }
        return (Table)blocks.Skip(i).First(b => b is Table);
    }

    /// <summary>What a reader sees: literals, code and entities, without the Markdown.</summary>
    private static string Plain(MarkdownObject? node)
    {
        var sb = new StringBuilder();
        void Walk(MarkdownObject? n)
        {
            switch (n)
            {
                case null: return;
                case LiteralInline lit: sb.Append(lit.Content); return;
                case CodeInline c: sb.Append(c.Content); return;
                case HtmlEntityInline e: sb.Append(e.Transcoded); return;
                case LineBreakInline: sb.Append(' '); return;
                case LeafBlock leaf when leaf.Inline is not null: Walk(leaf.Inline); return;
                case ContainerInline ci: foreach (var child in ci) Walk(child); return;
                case ContainerBlock cb:
                    foreach (var child in cb) { Walk(child); sb.Append(' '); }
                    return;
            }
        }
        Walk(node);
        return sb.ToString().Trim();
    }
}
