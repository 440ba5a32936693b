using Ingest.Correlation.Incidents;
using Ingest.Correlation.Model;

namespace Ingest.Correlation.Tests;

public sealed class CausalStamperTests
{
    private const long Ms = 1_000_000;
    private const long T0 = 1_764_410_400_000 * Ms;

    private sealed class Recording : ICausalObserver
    {
        public readonly List<(StampedEvent Event, bool FromSpan)> Failures = [];
        public readonly List<string> Calls = [];
        public void Call(string caller, string callee, bool failed) => Calls.Add($"{caller}>{callee}{(failed ? " failed" : "")}");
        public void Served(string service, long timeUnixNanos, bool ok) { }
        public void Failure(StampedEvent e, bool fromSpan) => Failures.Add((e, fromSpan));
        public void SurvivedCrash(StampedEvent e) => Failures.Add((e, false));
    }

    private static SpanRecord Span(string id, string? parent, string service, string node, long startMs, long endMs, SpanStatus status) => new()
    {
        TraceId = "t", SpanId = id, ParentSpanId = parent, Name = service, Service = service, Node = node,
        StartUnixNanos = T0 + startMs * Ms, EndUnixNanos = T0 + endMs * Ms, Status = status,
    };

    [Fact]
    public void A_callers_error_is_stamped_after_its_callees_crash_even_with_the_callers_clock_behind()
    {
        var o = new Recording();
        var stamper = new CausalStamper(new CorrelationOptions(), o);
        var callee = Span("c", "p", "payments", "node-c", 10, 400, SpanStatus.Error) with
        {
            Exceptions = [new SpanException("runtime.Error", "nil map", "goroutine 1 [running]:") { Crash = new CrashInfo("nil_map_assignment", null, "fp") }],
        };
        // The caller's node runs 300 ms behind: by its own clock it ended before the callee did.
        stamper.Process(new ReleasedTrace("t", [Span("p", null, "orders", "node-b", 0, 110, SpanStatus.Error), callee], [], Late: false));
        Assert.Equal(["crash:span:t:c", "span:t:p"], o.Failures.Select(f => f.Event.Event.Id));
        Assert.True(o.Failures[0].Event.Stamp < o.Failures[1].Event.Stamp);
        Assert.Equal(FailureKind.Crash, o.Failures[0].Event.Event.Kind);
        Assert.Equal("nil_map_assignment", o.Failures[0].Event.Event.Crash!.Category);
        Assert.All(o.Failures, f => Assert.True(f.FromSpan));
        Assert.Equal(["orders>payments", "orders>payments failed"], o.Calls);
    }

    [Fact]
    public void A_crash_of_an_unexported_callee_counts_the_call_and_orders_before_the_caller_ends()
    {
        var o = new Recording();
        var stamper = new CausalStamper(new CorrelationOptions(), o);
        var crash = new DetectedEvent
        {
            Id = "crash:logs:0:1:0", Kind = FailureKind.Crash, Service = "payments", Node = "node-c", TimeUnixNanos = T0 + 50 * Ms,
            TraceId = "t", SpanId = "gone", ParentSpanId = "p", Summary = "boom",
        };
        stamper.Process(new ReleasedTrace("t", [Span("p", null, "orders", "node-b", 0, 40, SpanStatus.Error)], [crash], Late: false));
        Assert.Equal([("crash:logs:0:1:0", false), ("span:t:p", true)], o.Failures.Select(f => (f.Event.Event.Id, f.FromSpan)));
        Assert.True(o.Failures[0].Event.Stamp < o.Failures[1].Event.Stamp);
        Assert.Equal(["orders>payments", "orders>payments failed"], o.Calls);
    }
}
