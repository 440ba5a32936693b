using Ingest.Correlation.Clocks;
using Ingest.Correlation.Incidents;

namespace Ingest.Correlation.Tests;

public sealed class DependencyGraphTests
{
    private static StampedEvent Failure(string service, FailureKind kind, long wall) =>
        new(new DetectedEvent { Id = service + wall, Kind = kind, Service = service, Node = service, TimeUnixNanos = wall, Summary = "x" }, new NodeStamp(new HybridTimestamp(wall, 0), service), false, false);

    private static Incident Incident(params StampedEvent[] events) => new()
    {
        Id = "incident:" + events[0].Event.Id, Events = events, RootCause = events[0], TraceIds = [], Services = [], Nodes = [],
        Path = [.. events.Select(e => new PropagationStep(e.Event.Service, e.Event.Kind, e.Stamp, false))],
    };

    [Fact]
    public void Counts_calls_errors_and_crashes_that_spread_into_the_caller()
    {
        var g = new DependencyGraph();
        g.Call("gateway", "orders", failed: false);
        g.Call("orders", "payments", failed: false);
        g.Call("orders", "payments", failed: false);
        g.Call("orders", "payments", failed: true);
        var crashed = Incident(Failure("payments", FailureKind.Crash, 1), Failure("orders", FailureKind.ErrorSpan, 2), Failure("gateway", FailureKind.ErrorSpan, 3));
        // Not a crash at the root: nothing propagated.
        var errors = Incident(Failure("payments", FailureKind.ErrorSpan, 5), Failure("orders", FailureKind.ErrorSpan, 6));
        // The crash is in the caller: the edge into payments did not carry it.
        var upstream = Incident(Failure("orders", FailureKind.Crash, 8), Failure("payments", FailureKind.ErrorSpan, 9));
        var edges = g.Edges([crashed, errors, upstream]).ToDictionary(e => (e.Caller, e.Callee));
        Assert.Equal(new DependencyEdge("orders", "payments", 2, 1, 1), edges[("orders", "payments")]);
        Assert.Equal(new DependencyEdge("gateway", "orders", 1, 0, 0), edges[("gateway", "orders")]);
    }
}
