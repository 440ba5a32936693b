using System.IO.Pipes;
using System.Text;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;
using Ingest.Pipeline.Analysis;
using Ingest.Reporting;
using Spectre.Console;

namespace Ingest.GoRuntime.Tests.Cli;

/// <summary>The human report prints each event as it completes and keeps none of them.</summary>
public sealed class StreamingReportTests
{
    private static (HumanReport Report, StringWriter Text) NewReport()
    {
        var sw = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Synchronized(sw)), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 200;
        return (new HumanReport(console), sw);
    }

    [Fact]
    public void A_crash_is_reported_while_the_input_is_still_open()
    {
        var (report, text) = NewReport();
        using var writer = new AnonymousPipeServerStream(PipeDirection.Out);
        using var input = new AnonymousPipeClientStream(PipeDirection.In, writer.ClientSafePipeHandle);
        var reader = new Thread(() => StreamAnalyzer.Analyze(input, "stdin", new AnalyzerOptions(), report.Add));
        reader.Start();
        writer.Write(Encoding.UTF8.GetBytes("panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:3 +0x1d\nexit status 2\nlevel=info msg=restarted\n"));
        writer.Flush();
        // The input stays open: the section must already be out.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!text.ToString().Contains("root cause: main.main", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the crash was not reported before the input ended:\n" + text);
            Thread.Sleep(10); // polling for the condition, not synchronisation
        }
        Assert.DoesNotContain("lines,", text.ToString(), StringComparison.Ordinal);
        writer.Dispose();
        Assert.True(reader.Join(TimeSpan.FromSeconds(30)));
        report.EndStream("stdin", 7);
        report.Render();
        Assert.Contains("stdin: 7 lines, 1 events, 1 crashes", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_report_keeps_no_event_after_printing_it()
    {
        var (report, text) = NewReport();
        var refs = new List<WeakReference>();
        void Feed()
        {
            foreach (var e in Corpus.Analyze("shared/go119-extra/08-concurrent-map-writes.txt").Concat(Corpus.Analyze("shared/gctrace/gctrace-pacer-scav-go1.19.txt")))
            {
                refs.Add(new WeakReference(e));
                report.Add(e);
            }
        }
        Feed();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.NotEmpty(refs);
        Assert.All(refs, r => Assert.False(r.IsAlive, $"{r.Target} is still referenced"));
        report.Render();
        // The summary is built from the kept totals alone.
        Assert.Contains("cycles, pause p50", text.ToString(), StringComparison.Ordinal);
        Assert.Contains("concurrent_map_access", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Pause_quantiles_are_within_one_percent()
    {
        var (report, text) = NewReport();
        var trace = new StringBuilder();
        for (int i = 1; i <= 1000; i++)
        {
            trace.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"gc {i} @{i}.000s 1%: {i / 100.0:0.00}+1.0+0 ms clock, 0.1+0.1/0.1/0.1+0.1 ms cpu, 4->4->2 MB, 8 MB goal, 0 MB stacks, 0 MB globals, 4 P\n");
        }
        var cycles = Corpus.AnalyzeText(trace.ToString(), stream: "svc").OfType<GcCycleEvent>().ToList();
        Assert.Equal(1000, cycles.Count);
        foreach (var c in cycles) report.Add(c);
        report.Render();
        // Pauses 0.01 to 10 ms: exactly p50 5 ms, p99 9.9 ms, max 10 ms.
        var line = text.ToString().Split('\n').Single(l => l.StartsWith("GC svc:", StringComparison.Ordinal));
        double P(string name) => double.Parse(line[(line.IndexOf(name, StringComparison.Ordinal) + name.Length)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(P("p50 "), 5 * 0.99, 5);
        Assert.InRange(P("p99 "), 9.9 * 0.99, 9.9);
        Assert.Equal(10, P("max "));
    }
}
