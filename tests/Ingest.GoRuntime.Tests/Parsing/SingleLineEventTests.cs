using System.Text;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Parsing.Crashes;
using Ingest.GoRuntime.Parsing.GcTrace;
using Ingest.GoRuntime.Scanning;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Parsing;

/// <summary>
/// The scanner tries a single-line parser only at a candidate that begins the parser's token, without searching
/// the whole line. That must find exactly what the rule says: each kind's parser at its first token, the earliest
/// token first, whatever near misses ("scavenger", "pacer") come before.
/// </summary>
public sealed class SingleLineEventTests
{
    private static readonly string[] s_fragments =
    [
        "gc 12 @1.005s 2%: 0.15+0.68+0.054 ms clock, 0.30+0.33/0.30/0.36+0.10 ms cpu, 4->4->2 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P",
        "pacer: assist ratio=+1.520695e+000 (scan 0 MB in 4->4 MB) workers=0++2.500000e-001",
        "pacer: 45% CPU (25 exp.) for 27496+1312+203344 B work (203344 B exp.) in 3997696 B -> 4456448 B (∆goal 262144, cons/mark +0.000000e+000)",
        "scav 0 KiB work, 2528 KiB total, 99% util",
        "scvg3: inuse: 4, idle: 1, sys: 6, released: 0, consumed: 6 (MB)",
        "scvg3: 2 MB released",
        "http: panic serving 127.0.0.1:53608: assignment to entry in nil map",
        // Near misses of every trigger.
        "scavenger", "xscav 1 KiB work", "scvgx", "agc 3 @1s", "gc 7", "\"gc 9 @", "pace", "pacer", "spacer: x", "panic serving",
        "http: panic", "magic", "grace", "scan", "logic", "specific", "gc #3", "level=info", "msg=\"", "0.5", "ok",
    ];

    /// <summary>The rule, written plainly: each kind's parser at its first token, the earliest token first.</summary>
    private static string Reference(string text)
    {
        byte[] line = Encoding.UTF8.GetBytes(text);
        static int First(params int[] at) => at.Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        var kinds = new (int At, Func<string?> Parse)[]
        {
            (line.AsSpan().IndexOf("http: panic serving "u8), () => CrashLines.TryParseHttpPanic(line, out var remote, out var value)
                ? $"http {Encoding.UTF8.GetString(remote)} {Encoding.UTF8.GetString(value)}" : null),
            (GcTraceReader.IndexOfGcLine(line), () => GcTraceReader.TryReadCycle(line, out var cycle) ? $"gc {cycle!.Num} {cycle.PauseMs}" : null),
            (line.AsSpan().IndexOf("pacer: "u8), () => GcTraceReader.TryReadPacer(line, null, out _) ? "pacer" : null),
            (First(line.AsSpan().IndexOf("scav "u8), line.AsSpan().IndexOf("scvg"u8)), () => GcTraceReader.TryReadScavenge(line, out var scav)
                ? $"scav {scav!.WorkKib} {scav.InuseMb} {scav.ReleasedMb}" : null),
        };
        foreach (var (_, parse) in kinds.Where(k => k.At >= 0).OrderBy(k => k.At))
        {
            if (parse() is { } found) return found;
        }
        return "none";
    }

    private static string Scanned(string text)
    {
        var events = new List<RuntimeEvent>();
        var scanner = new RuntimeOutputScanner("test", new AnalyzerOptions(), events.Add);
        bool claimed = scanner.Push(Encoding.UTF8.GetBytes(text), 1);
        scanner.Complete();
        return Describe(events, claimed);
    }

    /// <summary>Through the file reader, whose block prefilter tells the scanner where the first candidate is.</summary>
    private static string Read(string text)
    {
        // A pacer line is held for the next cycle: a cycle line after it shows whether it was taken.
        var events = Corpus.AnalyzeText(text + "\ngc 99 @9.000s 1%: 0.1+1.0+0.1 ms clock, 0.2+0/1/2+0.2 ms cpu, 4->4->2 MB, 5 MB goal, 2 P\n");
        var probe = Assert.IsType<GcCycleEvent>(events[^1]);
        Assert.Equal(99, probe.Cycle.Num);
        return Describe(events[..^1], claimed: probe.Pacer is not null);
    }

    private static string Describe(List<RuntimeEvent> events, bool claimed)
    {
        return events.SingleOrDefault() switch
        {
            CrashEvent c => $"http {c.RemoteAddr} {c.Message}",
            GcCycleEvent g => $"gc {g.Cycle.Num} {g.Cycle.PauseMs}",
            GcScavengeEvent s => $"scav {s.Scavenge.WorkKib} {s.Scavenge.InuseMb} {s.Scavenge.ReleasedMb}",
            null => claimed ? "pacer" : "none",
            var e => e.TypeName,
        };
    }

    [Fact]
    public void Gated_candidates_find_what_the_whole_line_rule_finds()
    {
        var random = new Random(7);
        var found = new HashSet<string>();
        for (int n = 0; n < 5000; n++)
        {
            int parts = random.Next(1, 6);
            var sb = new StringBuilder(random.Next(3) == 0 ? "" : "2026-12-01T10:00:00.000Z ");
            for (int k = 0; k < parts; k++)
            {
                if (k > 0) sb.Append(random.Next(4) == 0 ? "" : " ");
                sb.Append(s_fragments[random.Next(s_fragments.Length)]);
            }
            string line = sb.ToString();
            string expected = Reference(line);
            Assert.True(expected == Scanned(line), $"'{line}': expected {expected}, scanned {Scanned(line)}");
            // The same behind the CRI prefix, read as a file: the prefilter's offsets count the prefix.
            string read = Read("2026-12-01T10:00:00.123456789Z stderr F " + line);
            Assert.True(expected == read, $"'{line}' behind a CRI prefix: expected {expected}, read {read}");
            found.Add(expected.Split(' ')[0]);
        }
        // Every kind was found, and lines with none: the comparison covered each path.
        Assert.Equal(["gc", "http", "none", "pacer", "scav"], found.Order(StringComparer.Ordinal));
    }
}
