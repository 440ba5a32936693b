using System.Text;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Parsing.Detection;
using Ingest.GoRuntime.Parsing.Prefixes;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Parsing;

public sealed class LinePrefixTests
{
    [Theory]
    [InlineData("2024-05-01T10:00:00.123456789Z stderr F panic: boom", "panic: boom")]
    [InlineData("2024-05-01T10:00:00.123456789+02:00 stdout P goroutine 1 [running]:", "goroutine 1 [running]:")]
    [InlineData("2024-05-01T10:00:00.123Z goroutine 1 [running]:", "goroutine 1 [running]:")]
    [InlineData("2024-05-01T10:00:00Z \tmain.go:12 +0x1d", "\tmain.go:12 +0x1d")]
    [InlineData("[pod/shop-7f9c/shop] panic: boom", "panic: boom")]
    [InlineData("shop-1  | panic: boom", "panic: boom")]
    [InlineData("shop_web.1 | fatal error: x", "fatal error: x")]
    [InlineData("time=2024-05-01T10:00:00Z level=info", "time=2024-05-01T10:00:00Z level=info")]
    [InlineData("2024/05/01 10:00:00 http: panic serving", "2024/05/01 10:00:00 http: panic serving")]
    [InlineData("{\"log\":\"x\"}", "{\"log\":\"x\"}")]
    [InlineData("a | b", "b")]
    [InlineData("level=info msg=\"a | b\"", "level=info msg=\"a | b\"")]
    public void Strips_the_plumbing_prefix(string line, string body) =>
        Assert.Equal(body, Encoding.UTF8.GetString(LinePrefix.Strip(Encoding.UTF8.GetBytes(line))));

    [Fact]
    public void A_crash_read_from_a_cri_log_file_equals_the_crash_read_raw()
    {
        string raw = File.ReadAllText(Corpus.PathOf("go1.19/01-nil-pointer-dereference.txt"));
        string cri = string.Concat(raw.TrimEnd('\n').Split('\n').Select((l, i) => $"2024-05-01T10:00:{i % 60:00}.123456789Z stderr F {l}\n"));
        var a = Corpus.AnalyzeText(raw).OfType<CrashEvent>().Single();
        var b = Corpus.AnalyzeText(cri).OfType<CrashEvent>().Single();
        Assert.Equal(a.Fingerprint, b.Fingerprint);
        Assert.Equal(a.RootCause, b.RootCause);
        Assert.Equal(a.GoroutineCount, b.GoroutineCount);
        Assert.Equal(a.RawTextHash, b.RawTextHash); // the hash covers the runtime text, not the shipper's prefix
    }

    [Fact]
    public void Vector_trigger_search_agrees_with_a_naive_search()
    {
        string[] real = ["gc 12 @", "pacer: ", "scav 0", "scvg3", "http: panic serving"];
        string[] decoys = ["trace_id", "cache", "scale", "public ", "magic word", "gc x", "placer", "panic sauce", "c", "sc", "gc"];
        var rng = new Random(11);
        for (int n = 0; n < 3000; n++)
        {
            var sb = new StringBuilder();
            int parts = rng.Next(1, 12);
            for (int k = 0; k < parts; k++)
            {
                sb.Append(rng.Next(4) switch
                {
                    0 => real[rng.Next(real.Length)],
                    1 => decoys[rng.Next(decoys.Length)],
                    _ => new string((char)rng.Next('a', 'z' + 1), rng.Next(0, 40)),
                });
                if (rng.Next(2) == 0) sb.Append(' ');
            }
            byte[] line = Encoding.UTF8.GetBytes(sb.ToString());
            int from = 0;
            var got = AnywhereTriggers.Next(line, ref from);
            var (wantAt, want) = Naive(line);
            Assert.Equal(want, got);
            if (want != AnywhereTrigger.None) Assert.Equal(wantAt, from);
        }
    }

    [Fact]
    public void Vector_trigger_search_agrees_on_text_dense_in_the_trigger_bytes()
    {
        // Every near miss of each trigger, at every alignment against the 32-byte blocks and at both line ends.
        string[] real = ["gc 1 @", "gc #", "pacer: ", "scav 0", "scvg3", "http: panic serving"];
        string[] decoys = ["grace", "pace ", "paces", "pacex", "facade", "scan", "scale", "scvx", "scab", "magic ", "panic ", "panic x", "nic s", "gc ", "gc a", "ace", "ic s", "cc", "c"];
        var rng = new Random(23);
        for (int n = 0; n < 20_000; n++)
        {
            var sb = new StringBuilder(new string('x', rng.Next(0, 40)));
            int parts = rng.Next(1, 20);
            for (int k = 0; k < parts; k++)
            {
                sb.Append(rng.Next(8) == 0 ? real[rng.Next(real.Length)] : decoys[rng.Next(decoys.Length)]);
                if (rng.Next(3) == 0) sb.Append(' ');
            }
            byte[] line = Encoding.UTF8.GetBytes(sb.ToString());
            int from = rng.Next(3) == 0 ? rng.Next(0, line.Length + 1) : 0;
            int start = from;
            var got = AnywhereTriggers.Next(line, ref from);
            var (wantAt, want) = Naive(line, start);
            Assert.Equal((sb.ToString(), start, want), (sb.ToString(), start, got));
            if (want != AnywhereTrigger.None) Assert.Equal(wantAt, from);
        }
    }

    private static (int At, AnywhereTrigger Kind) Naive(byte[] s, int from = 1)
    {
        string t = Encoding.UTF8.GetString(s);
        for (int c = Math.Max(from, 1); c + 1 < t.Length; c++)
        {
            if (t[c] != 'c') continue;
            string w = t[Math.Max(0, c - 4)..Math.Min(t.Length, c + 3)];
            int o = c - Math.Max(0, c - 4);
            if (t[c - 1] == 'g' && t[c + 1] == ' ' && c + 2 < t.Length && (char.IsAsciiDigit(t[c + 2]) || t[c + 2] == '#')) return (c, AnywhereTrigger.GcTrace);
            if (o >= 2 && w[(o - 2)..].StartsWith("pacer", StringComparison.Ordinal)) return (c, AnywhereTrigger.Pacer);
            if (w[(o - 1)..].StartsWith("scav", StringComparison.Ordinal) || w[(o - 1)..].StartsWith("scvg", StringComparison.Ordinal)) return (c, AnywhereTrigger.Scavenger);
            if (o >= 4 && w[(o - 4)..].StartsWith("panic s", StringComparison.Ordinal)) return (c, AnywhereTrigger.HttpPanic);
        }
        return (-1, AnywhereTrigger.None);
    }
}
