using Ingest.Correlation.Incidents;
using Ingest.Correlation.Model;

namespace Ingest.Correlation.Tests;

public sealed class ReorderBufferTests
{
    private const long Ms = 1_000_000;
    private const long T0 = 1_764_410_400_000 * Ms;

    private sealed class Recorder
    {
        public readonly List<string> Released = [];
        public ReorderBuffer Buffer(CorrelationOptions options) => new(options, TimeProvider.System,
            t => Released.Add((t.Late ? "late " : "") + t.TraceId), (e, late) => Released.Add((late ? "late " : "") + e.Id));
    }

    private static SpanRecord Span(string trace, long ms) => new()
    {
        TraceId = trace, SpanId = trace + "s", Name = "x", Service = "svc", Node = "n", StartUnixNanos = T0 + ms * Ms, EndUnixNanos = T0 + (ms + 10) * Ms,
    };

    private static DetectedEvent Crash(string id, long ms) => new()
    {
        Id = id, Kind = FailureKind.Crash, Service = "svc", Node = "n", TimeUnixNanos = T0 + ms * Ms, Summary = "boom",
    };

    private static readonly CorrelationOptions s_options = new() { ReorderWindow = TimeSpan.FromSeconds(1), MinHold = TimeSpan.Zero, MaxClockOffset = TimeSpan.FromMilliseconds(500) };

    [Fact]
    public void Items_go_out_in_time_order_once_the_watermark_passes_them()
    {
        var r = new Recorder();
        var b = r.Buffer(s_options);
        b.Add(Span("t2", 300));
        b.Add(Span("t1", 100));
        Assert.Empty(r.Released);
        b.Add(Span("t9", 5_000));
        Assert.Equal(["t1", "t2"], r.Released);
    }

    [Fact]
    public void An_untraced_crash_waits_for_the_spans_within_the_clock_offset_after_it()
    {
        var r = new Recorder();
        var b = r.Buffer(s_options);
        b.Add(Crash("crash", 100));
        b.Add(Span("t1", 400)); // ends 410: its host's clock may be that far from the crash's
        b.Flush();
        Assert.Equal(["t1", "crash"], r.Released);
        Assert.Equal(long.MaxValue, b.Horizon);
    }

    [Fact]
    public void An_item_behind_the_watermark_is_released_flagged_late()
    {
        var r = new Recorder();
        var b = r.Buffer(s_options);
        b.Add(Span("t9", 10_000));
        b.Add(Crash("old", 100));
        Assert.Equal(["late old"], r.Released);
        b.Add(Span("t0", 200));
        b.Flush();
        Assert.Equal(["late old", "late t0", "t9"], r.Released);
    }

    [Fact]
    public void A_late_untraced_failure_still_waits_for_the_traces_held_before_it()
    {
        var r = new Recorder();
        var b = r.Buffer(new CorrelationOptions { ReorderWindow = TimeSpan.FromSeconds(1), MinHold = TimeSpan.FromHours(1) });
        b.Add(Span("t0", 0));
        b.Add(Span("t9", 10_000));
        b.Add(Crash("old", 100)); // its span's trace, t0, is still held
        Assert.Empty(r.Released);
        b.Flush();
        Assert.Equal(["t0", "late old", "t9"], r.Released);
    }

    [Fact]
    public void Beyond_its_bound_the_oldest_go_regardless()
    {
        var r = new Recorder();
        var b = r.Buffer(new CorrelationOptions { ReorderWindow = TimeSpan.FromHours(1), MinHold = TimeSpan.FromHours(1), MaxBuffered = 10 });
        for (int n = 0; n < 11; n++) b.Add(Span("t" + n, n));
        Assert.Equal(["t0", "t1", "t2", "t3", "t4", "t5"], r.Released);
        Assert.Equal(5, b.Count);
    }
}
