using Ingest.Correlation.Incidents;
using Ingest.Correlation.Tests.Support;

namespace Ingest.Correlation.Tests;

/// <summary>Generated multi-node scenarios (<see cref="MultiNodeScenario"/>), several seeds each.</summary>
public sealed class MultiNodeIncidentTests
{
    public static TheoryData<int> Seeds => [1, 2, 3, 17, 42, 2026];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Each_panic_is_one_incident_with_exactly_its_own_crash_as_classified_root_cause(int seed)
    {
        var scenario = MultiNodeScenario.Generate(new(seed));
        var c = scenario.Run();
        var incidents = c.Incidents();
        Assert.Equal(scenario.Panics.Count + 1, incidents.Count);
        foreach (var panic in scenario.Panics)
        {
            var incident = Assert.Single(incidents, i => i.TraceIds.Contains(panic.TraceId));
            // Its own crash, once (the log's document, linked to the span), and no other panic's.
            var crash = Assert.Single(incident.Events, e => e.Event.Kind == FailureKind.Crash);
            Assert.Equal(panic.LogCrashId, crash.Event.Id);
            Assert.Equal(panic.TraceId, crash.Event.TraceId);
            Assert.NotNull(crash.Event.SpanId);
            Assert.Equal(crash, incident.RootCause);
            Assert.Equal("nil_pointer_dereference", incident.Classification);
            Assert.Equal("example.com/shop/payments.(*Charger).Charge", incident.RootCause.Event.Crash!.RootCauseFrame);
            Assert.Equal(MultiNodeScenario.NilFingerprint, incident.RootCause.Event.Fingerprint);
            Assert.Equal(["payments", "orders", "gateway"], incident.Path.Select(p => p.Service));
            Assert.Equal([FailureKind.Crash, FailureKind.ErrorSpan, FailureKind.ErrorSpan], incident.Path.Select(p => p.FirstFailure));
            Assert.All(incident.Path, p => Assert.True(p.Recovered, p.Service));
            Assert.Equal([panic.TraceId], incident.TraceIds);
        }
        var search = Assert.Single(incidents, i => i.TraceIds.Contains(scenario.SearchTrace));
        Assert.Equal(scenario.SearchSpanCrashId, search.RootCause.Event.Id);
        Assert.Equal("index_out_of_range", search.Classification);
        Assert.Equal(["search", "gateway"], search.Path.Select(p => p.Service));
        Assert.All(search.Path, p => Assert.True(p.Recovered, p.Service));
        Assert.Contains("node-d", c.SkewedNodes);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Crash_documents_count_each_panic_once(int seed)
    {
        var scenario = MultiNodeScenario.Generate(new(seed));
        var c = scenario.Run();
        var settled = c.TakeSettledSpanCrashes();
        // Every span's crash is decided: payments' are the logged ones, search's (recovered by net/http) stands alone.
        Assert.Equal(scenario.Panics.Select(p => (p.SpanCrashId, (string?)p.LogCrashId)).Order(), settled.Where(s => s.LinkedCrashId is not null).Select(s => (s.SpanCrashId, s.LinkedCrashId)).Order());
        Assert.Equal([scenario.SearchSpanCrashId], settled.Where(s => s.LinkedCrashId is null).Select(s => s.SpanCrashId));
        // The documents a worker stores: the logged crashes, plus the span crashes nothing else shows.
        var documents = c.Incidents().SelectMany(i => i.Events).Where(e => e.Event.Kind == FailureKind.Crash).Select(e => e.Event).ToList();
        var groups = documents.GroupBy(d => d.Fingerprint).ToDictionary(g => g.Key!, g => g.Select(d => d.Id).Distinct().Count());
        Assert.Equal(scenario.Panics.Count, groups[MultiNodeScenario.NilFingerprint]);
        Assert.Equal(1, groups[MultiNodeScenario.SearchFingerprint]);
        Assert.Empty(c.TakeSettledSpanCrashes());
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Propagated_crashes_are_counted_on_the_edge_into_the_crashed_service(int seed)
    {
        var scenario = MultiNodeScenario.Generate(new(seed));
        var graph = scenario.Run().Graph().ToDictionary(e => (e.Caller, e.Callee));
        Assert.Equal(scenario.Panics.Count, graph[("orders", "payments")].CrashesPropagated);
        Assert.Equal(scenario.Panics.Count, graph[("orders", "payments")].Errors);
        Assert.Equal(1, graph[("gateway", "search")].CrashesPropagated);
        Assert.Equal(0, graph[("gateway", "orders")].CrashesPropagated);
        Assert.Equal(0, graph[("orders", "inventory")].CrashesPropagated);
        Assert.Equal(19, graph[("gateway", "orders")].Calls);
    }

    [Fact]
    public void A_crashed_service_that_never_serves_again_has_not_recovered()
    {
        var scenario = MultiNodeScenario.Generate(new(5, PaymentsServesAgain: false));
        var last = scenario.Panics[^1];
        var incident = Assert.Single(scenario.Run().Incidents(), i => i.TraceIds.Contains(last.TraceId));
        var path = incident.Path.ToDictionary(p => p.Service, p => p.Recovered);
        Assert.False(path["payments"]);
        Assert.True(path["orders"]);
        Assert.True(path["gateway"]);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Arrival_order_and_restarts_give_the_same_incidents(int seed)
    {
        static string Shape(Correlator c) => string.Join("\n", c.Incidents().Select(i =>
            $"{i.Id}|{i.RootCause.Event.Id}|{i.Classification}|{string.Join(",", i.Events.Select(e => e.Event.Id).Order(StringComparer.Ordinal))}").Order(StringComparer.Ordinal));

        var reference = Shape(MultiNodeScenario.Generate(new(seed)).Run());
        // The same data, shuffled within the reorder window, and read again by a fresh correlator (a restart).
        var scenario = MultiNodeScenario.Generate(new(seed));
        var rng = new Random(seed * 7);
        var shuffled = new Correlator(new CorrelationOptions { ReorderWindow = TimeSpan.FromMinutes(5) });
        foreach (var item in scenario.Arrivals.OrderBy(_ => rng.Next()))
        {
            if (item is Ingest.Correlation.Model.SpanRecord s) shuffled.AddSpan(s);
            else shuffled.AddEvent((DetectedEvent)item);
        }
        shuffled.Flush();
        Assert.Equal(reference, Shape(shuffled));
        Assert.Equal(reference, Shape(scenario.Run()));
    }
}
