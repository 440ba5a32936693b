using System.Text;
using System.Text.Json;
using Ingest.Commands;
using Ingest.GoRuntime.Tests.Support;
using Ingest.Reporting;
using Spectre.Console;

namespace Ingest.GoRuntime.Tests.Cli;

public sealed class AnalyzeCommandTests
{
    private static (int Code, string Out, string Err) Run(string[] args, bool json = true, string stdin = "")
    {
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        int code = AnalyzeCommand.Run(args, json, [], noRaw: false, () => new MemoryStream(Encoding.UTF8.GetBytes(stdin)), stdout, stderr);
        return (code, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString());
    }

    [Fact]
    public void Json_output_is_one_object_per_event_with_the_documented_fields()
    {
        string file = Corpus.PathOf("shared/go119-extra/01-nil-deref-sigsegv.txt");
        var (code, output, err) = Run([file]);
        Assert.Equal(0, code);
        Assert.Empty(err);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var crash = JsonDocument.Parse(Assert.Single(lines)).RootElement;
        Assert.Equal("crash", crash.GetProperty("type").GetString());
        Assert.Equal(file, crash.GetProperty("stream").GetString());
        Assert.Equal(1, crash.GetProperty("line").GetInt64());
        Assert.Equal("nil_pointer_dereference", crash.GetProperty("category").GetString());
        Assert.True(crash.GetProperty("recoverable").GetBoolean());
        Assert.Equal("SIGSEGV", crash.GetProperty("signal").GetProperty("name").GetString());
        Assert.Equal(1, crash.GetProperty("goroutine_count").GetInt32());
        Assert.Single(crash.GetProperty("panics").EnumerateArray());
        var g = crash.GetProperty("crashing_goroutine");
        Assert.Equal(1, g.GetProperty("id").GetInt64());
        var frame = g.GetProperty("frames")[0];
        foreach (string field in new[] { "function", "package", "file", "line", "in_app", "layer", "intent" })
        {
            Assert.True(frame.TryGetProperty(field, out _), field);
        }
        Assert.Equal("main.nilDeref", crash.GetProperty("root_cause").GetProperty("function").GetString());
        Assert.Matches("^[0-9a-f]{32}$", crash.GetProperty("fingerprint").GetString());
        Assert.Equal(JsonValueKind.Array, crash.GetProperty("buckets").ValueKind);
    }

    [Fact]
    public void Gc_and_dump_events_carry_their_fields()
    {
        var (_, output, _) = Run([Corpus.PathOf("shared/gctrace/gctrace-pacer-scav-go1.19.txt"), Corpus.PathOf("shared/go119-misc/quit.txt")]);
        var docs = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var gc = docs.First(d => d.GetProperty("type").GetString() == "gc");
        foreach (string field in new[] { "num", "at_seconds", "cpu_percent", "pause_ms", "stw_sweep_termination_ms", "concurrent_mark_ms", "stw_mark_termination_ms", "heap_start_mb", "heap_end_mb", "heap_live_mb", "heap_goal_mb", "procs", "forced" })
        {
            Assert.True(gc.TryGetProperty(field, out _), field);
        }
        Assert.Equal(0.15 + 0.054, gc.GetProperty("pause_ms").GetDouble(), 6);
        var dump = docs.Single(d => d.GetProperty("type").GetString() == "goroutine_dump");
        Assert.Equal("SIGQUIT", dump.GetProperty("signal").GetString());
        Assert.Equal(6, dump.GetProperty("goroutine_count").GetInt32());
        var bucket = dump.GetProperty("buckets")[0];
        foreach (string field in new[] { "count", "state", "top_function", "created_by", "ids" })
        {
            Assert.True(bucket.TryGetProperty(field, out _), field);
        }
        Assert.Equal(JsonValueKind.Object, dump.GetProperty("states").ValueKind);
        Assert.Equal(JsonValueKind.Array, dump.GetProperty("findings").ValueKind);
    }

    [Fact]
    public void Stdin_is_read_when_no_file_is_given()
    {
        var (code, output, _) = Run([], stdin: "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:3 +0x1d\n");
        Assert.Equal(0, code);
        Assert.Equal("stdin", JsonDocument.Parse(output.Trim()).RootElement.GetProperty("stream").GetString());
    }

    [Fact]
    public void Unreadable_input_exits_2_with_one_line()
    {
        var (code, output, err) = Run(["/nonexistent/file.log"]);
        Assert.Equal(AnalyzeCommand.ExitBadInput, code);
        Assert.Empty(output);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("/nonexistent/file.log", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Hostile_text_is_escaped_in_json_and_in_the_report()
    {
        const string payload = "<script>alert(1)</script> [red]x[/] [[";
        string text = $"panic: {payload}\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:3 +0x1d\n";
        var (_, json, _) = Run([], stdin: text);
        Assert.DoesNotContain("<script>", json, StringComparison.Ordinal);
        Assert.Equal(payload, JsonDocument.Parse(json.Trim()).RootElement.GetProperty("message").GetString());

        var sw = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(sw), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        var report = new HumanReport(console);
        foreach (var e in Corpus.AnalyzeText(text)) report.Add(e);
        report.Render();
        Assert.Contains(payload, sw.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Human_report_shows_category_root_cause_and_buckets()
    {
        var sw = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(sw), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 200;
        var report = new HumanReport(console);
        foreach (var e in Corpus.Analyze("shared/go119-extra/08-concurrent-map-writes.txt")) report.Add(e);
        report.Render();
        string text = sw.ToString();
        Assert.Contains("concurrent_map_access", text, StringComparison.Ordinal);
        Assert.Contains("root cause: main.main.func2", text, StringComparison.Ordinal);
        Assert.Contains("► main.main.func2", text, StringComparison.Ordinal);
        Assert.Contains("count", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Gc_cycles_carry_derived_metrics_and_the_detectors_findings_in_both_outputs()
    {
        string file = Path.Combine(Path.GetTempPath(), $"ingest-gc-{Guid.NewGuid():N}.txt");
        File.WriteAllText(file, Analysis.Gc.SyntheticGcTrace.Write());
        try
        {
            var (code, output, _) = Run([file]);
            Assert.Equal(0, code);
            var cycles = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(Analysis.Gc.SyntheticGcTrace.Cycles, cycles.Count);
            var spike = cycles.Single(c => c.GetProperty("num").GetInt32() == Analysis.Gc.SyntheticGcTrace.PauseSpike);
            Assert.Equal("pause_outlier", spike.GetProperty("anomalies")[0].GetProperty("kind").GetString());
            Assert.True(spike.GetProperty("derived").GetProperty("gc_cpu_fraction").GetDouble() > 0);
            Assert.Equal(1 + 3 + 20 + 11, cycles.Sum(c => c.TryGetProperty("anomalies", out var a) ? a.GetArrayLength() : 0));

            // The human report lists each finding under its stream's GC summary.
            var sw = new StringWriter();
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(sw), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
            var report = new HumanReport(console);
            var analyzer = new Ingest.GoRuntime.Analysis.Gc.GcInstanceAnalyzer(new Ingest.GoRuntime.Analysis.Gc.GcAnalyticsOptions(), "svc");
            foreach (var e in Corpus.AnalyzeText(File.ReadAllText(file)).OfType<Ingest.GoRuntime.Model.GcCycleEvent>())
            {
                var found = new List<Ingest.GoRuntime.Analysis.Gc.GcAnomaly>();
                e.Derived = analyzer.Observe(e.Cycle, found);
                e.Anomalies = found;
                report.Add(e);
            }
            report.Render();
            string human = sw.ToString();
            Assert.Contains("gc_thrash gc 122", human, StringComparison.Ordinal);
            Assert.Contains("pacer_overshoot gc 82", human, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

public sealed class PostmortemEscapingTests
{
    // Text: every character Markdown or a GFM table reads as syntax is backslash-escaped, HTML becomes entities,
    // line breaks become spaces (they would end a table row).
    [Theory]
    [InlineData("<script>alert(1)</script>", "&lt;script&gt;alert\\(1\\)&lt;/script&gt;")]
    [InlineData("[click](javascript:alert(1))", "\\[click\\]\\(javascript:alert\\(1\\)\\)")]
    [InlineData("a|b\nc", "a\\|b c")]
    [InlineData("**bold** `code` _x_ #h", "\\*\\*bold\\*\\* \\`code\\` \\_x\\_ \\#h")]
    [InlineData("1. - + ~x~", "1\\. - + \\~x\\~")]
    [InlineData("- item", "\\- item")]
    [InlineData("2026-03-01T10:00:00.5Z v1.2.3", "2026-03-01T10:00:00.5Z v1.2.3")]
    public void Log_text_is_inert_in_the_markdown(string input, string expected) =>
        Assert.Equal(expected, Ingest.Reporting.Postmortem.MarkdownText.Text(input));

    // Code spans: Markdown does not unescape inside them, so the content stays verbatim and the fence is longer
    // than any backtick run in it (padded when a backtick touches the edge).
    [Theory]
    [InlineData("example.com/shop/internal/store.(*Store).PriceOf", "`example.com/shop/internal/store.(*Store).PriceOf`")]
    [InlineData("a`b", "``a`b``")]
    [InlineData("``x", "``` ``x ```")]
    [InlineData(" padded ", "`  padded  `")]
    [InlineData("line\nbreak", "`line break`")]
    [InlineData("", "")]
    public void Code_spans_need_no_escapes_and_survive_backticks(string input, string expected) =>
        Assert.Equal(expected, Ingest.Reporting.Postmortem.MarkdownText.Code(input));

    [Fact]
    public void Code_with_a_pipe_in_a_table_cell_is_escaped_text() =>
        Assert.Equal("a\\|b", Ingest.Reporting.Postmortem.MarkdownText.CodeCell("a|b"));
}
