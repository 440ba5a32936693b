using Ingest.Correlation.Clocks;
using Ingest.Correlation.Incidents;
using Ingest.Correlation.Model;

namespace Ingest.Correlation.Tests;

public sealed class IncidentGrouperTests
{
    private const long Ms = 1_000_000;
    private const long T0 = 1_764_410_400_000 * Ms;
    private static readonly CrashInfo s_nil = new("nil_pointer_dereference", "example.com/shop/payments.Charge", "fp-nil");

    private static StampedEvent At(DetectedEvent e) => new(e, new NodeStamp(new HybridTimestamp(e.TimeUnixNanos, 0), e.Node), false, false);

    private static DetectedEvent SpanCrash(string trace, long ms, CrashInfo? crash = null) => new()
    {
        Id = crash is null ? $"span:{trace}:s" : $"crash:span:{trace}:s", Kind = crash is null ? FailureKind.ErrorSpan : FailureKind.Crash,
        Service = "payments", Node = "node-c", TimeUnixNanos = T0 + ms * Ms, TraceId = trace, SpanId = "s", Summary = "runtime error: boom",
        Crash = crash, Fingerprint = crash?.Fingerprint,
    };

    private static DetectedEvent LogCrash(string id, long ms, string service = "payments", string node = "node-c", string? stream = "payments-1", CrashInfo? crash = null) => new()
    {
        Id = id, Kind = FailureKind.Crash, Service = service, Node = node, Stream = stream, TimeUnixNanos = T0 + ms * Ms,
        Summary = "nil_pointer_dereference: runtime error: boom", Crash = crash ?? s_nil, Fingerprint = (crash ?? s_nil).Fingerprint,
    };

    [Fact]
    public void Recovery_is_the_first_successful_answer_after_the_last_failure()
    {
        var g = new IncidentGrouper(new CorrelationOptions());
        g.Served("payments", T0 - 5 * Ms, ok: true);
        g.Add(At(LogCrash("crash:logs:0:7:0", 0)), fromSpan: false);
        g.Add(At(LogCrash("crash:logs:0:9:0", 40)), fromSpan: false);
        g.Served("payments", T0 + 20 * Ms, ok: true); // between the two failures: not a recovery
        g.Served("payments", T0 + 60 * Ms, ok: false);
        // Each crash is its own incident; the second holds the service's last failure.
        PropagationStep Step(string id) => Assert.Single(g.Incidents().Single(i => i.Id == id).Path);
        Assert.Equal((false, (long?)null), (Step("incident:crash:logs:0:9:0").Recovered, Step("incident:crash:logs:0:9:0").RecoveredAtUnixNanos));
        g.Served("payments", T0 + 90 * Ms, ok: true);
        g.Served("payments", T0 + 70 * Ms, ok: true); // earlier answer, arriving late
        g.Served("payments", T0 + 120 * Ms, ok: true);
        var last = Step("incident:crash:logs:0:9:0");
        Assert.Equal((true, (long?)(T0 + 70 * Ms)), (last.Recovered, last.RecoveredAtUnixNanos));
        // The first incident's service recovered too, but when is superseded by the later failure: not claimed.
        var first = Step("incident:crash:logs:0:7:0");
        Assert.Equal((true, (long?)null), (first.Recovered, first.RecoveredAtUnixNanos));
    }

    [Fact]
    public void A_logged_crash_and_the_span_carrying_the_same_panic_are_one_failure()
    {
        var g = new IncidentGrouper(new CorrelationOptions());
        g.Add(At(SpanCrash("t1", 0, s_nil)), fromSpan: true);
        g.Add(At(LogCrash("crash:logs:0:7:0", 20)), fromSpan: false);
        var incident = Assert.Single(g.Incidents());
        var crash = Assert.Single(incident.Events);
        Assert.Equal("crash:logs:0:7:0", crash.Event.Id);
        Assert.Equal(("t1", "s"), (crash.Event.TraceId, crash.Event.SpanId));
        Assert.Equal([new SpanCrashOutcome("crash:span:t1:s", "crash:logs:0:7:0")], g.TakeSettled(long.MaxValue));
    }

    [Fact]
    public void A_crash_its_span_survived_is_no_incident_unless_the_logs_show_the_same_panic()
    {
        var g = new IncidentGrouper(new CorrelationOptions());
        g.AddSurvivedCrash(At(SpanCrash("t1", 0, s_nil)));
        g.AddSurvivedCrash(At(SpanCrash("t2", 5_000, s_nil)));
        Assert.Empty(g.Incidents());
        g.Add(At(LogCrash("crash:logs:0:9:0", 5_010)), fromSpan: false);
        var incident = Assert.Single(g.Incidents());
        Assert.Equal(("crash:logs:0:9:0", "t2"), (Assert.Single(incident.Events).Event.Id, incident.TraceIds[0]));
        Assert.Equal([new SpanCrashOutcome("crash:span:t1:s", null), new SpanCrashOutcome("crash:span:t2:s", "crash:logs:0:9:0")], g.TakeSettled(long.MaxValue));
    }

    [Fact]
    public void Crashes_are_linked_one_to_one_to_the_nearest_failing_span_and_the_rest_stand_alone()
    {
        var g = new IncidentGrouper(new CorrelationOptions());
        g.Add(At(SpanCrash("t1", 0)), fromSpan: true);
        g.Add(At(SpanCrash("t2", 1_000)), fromSpan: true);
        g.Add(At(LogCrash("crash:a", 1_030)), fromSpan: false);
        g.Add(At(LogCrash("crash:b", 1_040)), fromSpan: false); // t2 is taken, t1 is beyond the offset bound
        g.Add(At(LogCrash("crash:c", 10)), fromSpan: false);
        var byTrace = g.Incidents().ToDictionary(i => i.TraceIds.Count > 0 ? i.TraceIds[0] : i.Id);
        Assert.Equal(["crash:a"], byTrace["t2"].Events.Where(e => e.Event.Kind == FailureKind.Crash).Select(e => e.Event.Id));
        Assert.Equal(["crash:c"], byTrace["t1"].Events.Where(e => e.Event.Kind == FailureKind.Crash).Select(e => e.Event.Id));
        Assert.Equal("crash:b", Assert.Single(byTrace["incident:crash:b"].Events).Event.Id);
    }

    [Fact]
    public void A_matching_fingerprint_beats_a_nearer_span()
    {
        var g = new IncidentGrouper(new CorrelationOptions());
        g.Add(At(SpanCrash("t1", 0, s_nil)), fromSpan: true);
        g.Add(At(SpanCrash("t2", 100, s_nil with { Fingerprint = "fp-other" })), fromSpan: true);
        g.Add(At(LogCrash("crash:a", 90)), fromSpan: false);
        Assert.Equal("crash:a", Assert.Single(g.Incidents().Single(i => i.TraceIds.Contains("t1")).Events).Event.Id);
        Assert.Equal("crash:span:t2:s", Assert.Single(g.Incidents().Single(i => i.TraceIds.Contains("t2")).Events).Event.Id);
    }

    [Fact]
    public void Unknown_service_streams_on_different_hosts_stay_apart()
    {
        var g = new IncidentGrouper(new CorrelationOptions());
        var custom = new CrashInfo("custom_panic", null, "fp-custom");
        g.Add(At(LogCrash("crash:file-a:1", 0, DetectedEvent.UnknownService, "host-1", "file-a.log", custom)), fromSpan: false);
        DetectedEvent Other(string id, FailureKind kind, long ms, string node, string stream) => new()
        {
            Id = id, Kind = kind, Service = DetectedEvent.UnknownService, Node = node, Stream = stream, TimeUnixNanos = T0 + ms * Ms, Summary = id,
        };
        g.Add(At(Other("alert:file-b:gc", FailureKind.GcAnomaly, 1_000, "host-2", "file-b.log")), fromSpan: false);
        g.Add(At(Other("dump:pod-x:block", FailureKind.Blocking, 2_000, "host-3", "pod-x")), fromSpan: false);
        // Same stream and host as the crash: that one does join it.
        g.Add(At(Other("alert:file-a:gc", FailureKind.GcAnomaly, 3_000, "host-1", "file-a.log")), fromSpan: false);
        var incidents = g.Incidents();
        Assert.Equal(3, incidents.Count);
        Assert.All(incidents, i => Assert.Single(i.Nodes));
        Assert.Equal(["alert:file-a:gc", "crash:file-a:1"], incidents.Single(i => i.Nodes[0] == "host-1").Events.Select(e => e.Event.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_known_service_joins_untraced_failures_to_its_nearest_crash_within_the_window()
    {
        var g = new IncidentGrouper(new CorrelationOptions { ServiceWindow = TimeSpan.FromMinutes(1) });
        g.Add(At(LogCrash("crash:a", 0)), fromSpan: false);
        g.Add(At(LogCrash("crash:b", 50_000)), fromSpan: false);
        DetectedEvent Gc(string id, long ms) => new()
        {
            Id = id, Kind = FailureKind.GcAnomaly, Service = "payments", Node = "node-x", Stream = "other", TimeUnixNanos = T0 + ms * Ms, Summary = id,
        };
        g.Add(At(Gc("gc:1", 40_000)), fromSpan: false);
        g.Add(At(Gc("gc:2", 200_000)), fromSpan: false);
        var incidents = g.Incidents().ToDictionary(i => i.Id);
        Assert.Equal(3, incidents.Count);
        Assert.Equal(["crash:b", "gc:1"], incidents["incident:crash:b"].Events.Select(e => e.Event.Id).Order(StringComparer.Ordinal));
        Assert.Single(incidents["incident:crash:a"].Events);
    }

    [Fact]
    public void Incidents_and_indexes_are_bounded()
    {
        var g = new IncidentGrouper(new CorrelationOptions { MaxIncidents = 10 });
        for (int n = 0; n < 5_000; n++) g.Add(At(LogCrash($"crash:{n}", n * 10L, "svc" + n)), fromSpan: false);
        Assert.Equal(10, g.Incidents().Count);
        Assert.Equal("incident:crash:4999", g.Incidents()[^1].Id);
    }
}
