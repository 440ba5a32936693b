using Ingest.Correlation.Incidents;
using Ingest.Correlation.Model;

namespace Ingest.Correlation.Tests;

/// <summary>
/// A multi-node scenario: gateway (node-a) → orders (node-b, clock 250 ms behind) → payments (node-c, 300 ms
/// ahead) and inventory (node-d, 2 s ahead: beyond the 500 ms maximum offset). Payments panics inside a
/// request; its span is never exported; orders and gateway fail upstream. Later requests succeed again.
/// </summary>
public sealed class IncidentScenarioTests
{
    private const long Ms = 1_000_000;
    private static readonly long T0 = 1_764_410_400_000 * Ms;

    private static readonly Dictionary<string, long> s_skew = new()
    {
        ["node-a"] = 0, ["node-b"] = -250 * Ms, ["node-c"] = 300 * Ms, ["node-d"] = 2_000 * Ms,
    };

    private static SpanRecord Span(string trace, string id, string? parent, string service, string node, long startMs, long endMs, SpanStatus status = SpanStatus.Ok, string? message = null) => new()
    {
        TraceId = trace, SpanId = id, ParentSpanId = parent, Name = service + " handler", Service = service, Node = node,
        StartUnixNanos = T0 + startMs * Ms + s_skew[node], EndUnixNanos = T0 + endMs * Ms + s_skew[node], Status = status, StatusMessage = message,
    };

    private static (List<SpanRecord> Spans, List<DetectedEvent> Events) Scenario()
    {
        const string t1 = "4bf92f3577b34da6a3ce929d0e0e4736", t2 = "0af7651916cd43dd8448eb211c80319c", t3 = "b7ad6b7169203331b7ad6b7169203331";
        var spans = new List<SpanRecord>
        {
            Span(t1, "g1", null, "gateway", "node-a", 0, 120, SpanStatus.Error, "502 from orders"),
            Span(t1, "o1", "g1", "orders", "node-b", 5, 110, SpanStatus.Error, "payment failed: EOF"),
            Span(t1, "i1", "o1", "inventory", "node-d", 6, 9),
            // payments' span p1 (parent o1) was never exported: the process died.
            Span(t2, "g2", null, "gateway", "node-a", 30_000, 30_050),
            Span(t2, "o2", "g2", "orders", "node-b", 30_005, 30_045),
            Span(t2, "p2", "o2", "payments", "node-c", 30_010, 30_040),
            // An unrelated lone error: not an incident.
            Span(t3, "g3", null, "gateway", "node-a", 10_000, 10_002, SpanStatus.Error, "404"),
        };
        var events = new List<DetectedEvent>
        {
            new()
            {
                Id = "crash:logs:2:8812:0", Kind = FailureKind.Crash, Service = "payments", Node = "node-c",
                TimeUnixNanos = T0 + 40 * Ms + s_skew["node-c"], TraceId = t1, SpanId = "p1", ParentSpanId = "o1",
                Summary = "runtime error: invalid memory address or nil pointer dereference", Fingerprint = "fp-payments",
            },
            // The restarted payments pod logs a GC anomaly right after (untraced): joins by service and time.
            new()
            {
                Id = "alert:logs:2:8900:0:heap_growth", Kind = FailureKind.GcAnomaly, Service = "payments", Node = "node-c",
                TimeUnixNanos = T0 + 5_000 * Ms + s_skew["node-c"], Summary = "live heap 3x",
            },
        };
        return (spans, events);
    }

    /// <summary>As the worker sees them: spans when they end (the exporter sends finished spans), events when they happen.</summary>
    private static Correlator Run(IEnumerable<SpanRecord> spans, IEnumerable<DetectedEvent> events)
    {
        var c = new Correlator(new CorrelationOptions());
        var arrivals = spans.Select(s => (Time: s.EndUnixNanos, Item: (object)s)).Concat(events.Select(e => (Time: e.TimeUnixNanos, Item: (object)e))).OrderBy(x => x.Time);
        foreach (var (_, item) in arrivals)
        {
            if (item is SpanRecord s) c.AddSpan(s);
            else c.AddEvent((DetectedEvent)item);
        }
        c.Flush();
        return c;
    }

    [Fact]
    public void The_downstream_panic_is_the_root_cause_and_the_failure_propagates_upstream_in_causal_order()
    {
        var (spans, events) = Scenario();
        var c = Run(spans, events);
        var incident = Assert.Single(c.Incidents());

        Assert.Equal(["gateway", "orders", "payments"], incident.Services);
        Assert.Equal("crash:logs:2:8812:0", incident.RootCause.Event.Id);
        // Causal order despite orders' clock running 550 ms behind payments'.
        Assert.Equal(["payments", "orders", "gateway"], incident.Events.Where(e => e.Event.Kind != FailureKind.GcAnomaly).Select(e => e.Event.Service));
        Assert.Equal(["payments", "orders", "gateway"], incident.Path.Select(p => p.Service));
        Assert.Equal(FailureKind.Crash, incident.Path[0].FirstFailure);
        Assert.Equal(FailureKind.ErrorSpan, incident.Path[1].FirstFailure);
        // Every service served requests successfully afterwards (trace t2).
        Assert.All(incident.Path, p => Assert.True(p.Recovered, p.Service));
        // Stamps strictly increase along the path.
        Assert.True(incident.Path[0].At < incident.Path[1].At && incident.Path[1].At < incident.Path[2].At);
        // The untraced GC anomaly of payments joined by service and time.
        Assert.Contains(incident.Events, e => e.Event.Kind == FailureKind.GcAnomaly);
    }

    [Fact]
    public void A_crash_known_only_from_logs_sits_under_the_caller_that_saw_it_fail()
    {
        // The log line carries the crashed span's id, never its parent: the caller is inferred (the deepest
        // error span of another service without a failed child).
        var (spans, events) = Scenario();
        var fromLogs = events.Select(e => e.Kind == FailureKind.Crash ? e with { ParentSpanId = null } : e).ToList();
        var incident = Assert.Single(Run(spans, fromLogs).Incidents());
        Assert.Equal("crash:logs:2:8812:0", incident.RootCause.Event.Id);
        Assert.Equal(["payments", "orders", "gateway"], incident.Path.Select(p => p.Service));
    }

    [Fact]
    public void The_node_beyond_the_maximum_offset_is_flagged_and_cannot_drag_the_order()
    {
        var (spans, events) = Scenario();
        var c = Run(spans, events);
        Assert.Contains("node-d", c.SkewedNodes);
        Assert.True(c.SkewRejections > 0);
        // node-b runs behind: a child (inventory on node-d aside) … orders' children started "before" it by its clock.
        Assert.Equal(0, c.Skew.LagNanos("node-a"));
        Assert.True(c.Skew.LagNanos("node-b") >= 250 * Ms - 5 * Ms, $"node-b lag {c.Skew.LagNanos("node-b")}");
        var incident = Assert.Single(c.Incidents());
        Assert.DoesNotContain(incident.Events, e => e.Event.Node == "node-d");
    }

    [Fact]
    public void The_dependency_graph_counts_calls_errors_and_propagated_crashes()
    {
        var (spans, events) = Scenario();
        var graph = Run(spans, events).Graph().ToDictionary(e => (e.Caller, e.Callee));
        Assert.Equal(2, graph[("gateway", "orders")].Calls);
        Assert.Equal(1, graph[("gateway", "orders")].Errors);
        Assert.Equal(2, graph[("orders", "payments")].Calls); // the crashed call and the later good one
        Assert.Equal(1, graph[("orders", "payments")].CrashesPropagated);
        // The crash was in payments: the edge into payments counts it, not the edges above it.
        Assert.Equal(0, graph[("gateway", "orders")].CrashesPropagated);
        Assert.Equal(1, graph[("orders", "inventory")].Calls);
        Assert.Equal(0, graph[("orders", "inventory")].CrashesPropagated);
    }

    [Fact]
    public void Arrival_order_does_not_change_the_incident()
    {
        var (spans, events) = Scenario();
        var reference = Assert.Single(Run(spans, events).Incidents());
        var rng = new Random(11);
        for (int round = 0; round < 20; round++)
        {
            // Shuffled within the reorder window: the same incident, the same order.
            var shuffledSpans = spans.OrderBy(_ => rng.Next()).ToList();
            var shuffledEvents = events.OrderBy(_ => rng.Next()).ToList();
            var c = new Correlator(new CorrelationOptions { ReorderWindow = TimeSpan.FromMinutes(5) });
            var all = shuffledSpans.Cast<object>().Concat(shuffledEvents).OrderBy(_ => rng.Next()).ToList();
            foreach (var item in all)
            {
                if (item is SpanRecord s) c.AddSpan(s);
                else c.AddEvent((DetectedEvent)item);
            }
            c.Flush();
            var incident = Assert.Single(c.Incidents());
            Assert.Equal(reference.Id, incident.Id);
            Assert.Equal(reference.RootCause.Event.Id, incident.RootCause.Event.Id);
            Assert.Equal(reference.Path.Select(p => p.Service), incident.Path.Select(p => p.Service));
        }
    }

    [Fact]
    public void A_trace_arriving_after_the_window_is_still_stamped_and_flagged_late()
    {
        var (spans, events) = Scenario();
        var c = new Correlator(new CorrelationOptions { ReorderWindow = TimeSpan.FromSeconds(1) });
        foreach (var s in spans.Where(s => s.TraceId != "4bf92f3577b34da6a3ce929d0e0e4736")) c.AddSpan(s);
        // The failing trace shows up 30 s of event time later than its peers.
        foreach (var s in spans.Where(s => s.TraceId == "4bf92f3577b34da6a3ce929d0e0e4736")) c.AddSpan(s);
        foreach (var e in events) c.AddEvent(e);
        // Held for one more window, not processed piecemeal.
        Assert.DoesNotContain(c.Incidents(), i => i.Events.Any(e => e.Event.Kind == FailureKind.Crash));
        c.Flush();
        Assert.True(c.LateEvents > 0);
        // Still one incident with every failure, each flagged late. (The causal order of a late trace is only as
        // good as the clocks: it was processed after later events of the same nodes.)
        var incident = c.Incidents().Single(i => i.Services.Contains("payments"));
        Assert.All(incident.Events.Where(e => e.Event.TraceId is not null), e => Assert.True(e.Late));
        Assert.Equal(["gateway", "orders", "payments"], incident.Services);
        Assert.Contains(incident.Events, e => e.Event.Id == "crash:logs:2:8812:0");
    }

    [Fact]
    public void Incidents_are_bounded_and_an_evicted_trace_starts_afresh()
    {
        var c = new Correlator(new CorrelationOptions { MaxIncidents = 5, MinHold = TimeSpan.Zero });
        for (int n = 0; n < 50; n++)
        {
            c.AddEvent(new DetectedEvent
            {
                Id = $"crash:logs:0:{n}:0", Kind = FailureKind.Crash, Service = "svc" + n, Node = "node-a",
                TimeUnixNanos = T0 + n * 1_000 * Ms, TraceId = n.ToString("x32", System.Globalization.CultureInfo.InvariantCulture), Summary = "boom",
            });
        }
        c.Flush();
        Assert.Equal(5, c.Incidents().Count);
        // A late failure of an evicted trace opens a new incident instead of joining a dropped one.
        c.AddEvent(new DetectedEvent
        {
            Id = "crash:logs:0:999:0", Kind = FailureKind.Crash, Service = "svc0", Node = "node-a",
            TimeUnixNanos = T0, TraceId = 0.ToString("x32", System.Globalization.CultureInfo.InvariantCulture), Summary = "again",
        });
        c.Flush();
        Assert.Contains(c.Incidents(), i => i.Id == "incident:crash:logs:0:999:0");
    }
}
