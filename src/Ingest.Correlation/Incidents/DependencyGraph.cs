namespace Ingest.Correlation.Incidents;

/// <summary>
/// Caller → callee edges between services, from parent/child spans and crashed calls, with the crashes that
/// spread along them. Bounded to <see cref="MaxEdges"/> edges (service pairs are few; a flood of invented
/// service names must not grow it without end).
/// </summary>
public sealed class DependencyGraph
{
    public const int MaxEdges = 10_000;

    private readonly Dictionary<(string Caller, string Callee), (long Calls, long Errors)> _edges = [];

    public void Call(string caller, string callee, bool failed)
    {
        if (!_edges.TryGetValue((caller, callee), out var counts) && _edges.Count >= MaxEdges) return;
        _edges[(caller, callee)] = failed ? (counts.Calls, counts.Errors + 1) : (counts.Calls + 1, counts.Errors);
    }

    /// <summary>
    /// The edges with their propagated crashes: an edge caller → callee counts an incident whose root cause is a
    /// crash in the callee when failures of the caller follow it in the incident.
    /// </summary>
    public IReadOnlyList<DependencyEdge> Edges(IEnumerable<Incident> incidents)
    {
        var propagated = new Dictionary<(string, string), long>();
        foreach (var incident in incidents)
        {
            if (incident.RootCause.Event.Kind != FailureKind.Crash) continue;
            string callee = incident.RootCause.Event.Service;
            foreach (var step in incident.Path)
            {
                // The path is in causal order from the root: every other service in it failed after the crash.
                if (step.Service == callee || !_edges.ContainsKey((step.Service, callee))) continue;
                propagated[(step.Service, callee)] = propagated.GetValueOrDefault((step.Service, callee)) + 1;
            }
        }
        return [.. _edges.Select(kv => new DependencyEdge(kv.Key.Caller, kv.Key.Callee, kv.Value.Calls, kv.Value.Errors, propagated.GetValueOrDefault(kv.Key)))
            .OrderBy(e => e.Caller, StringComparer.Ordinal).ThenBy(e => e.Callee, StringComparer.Ordinal)];
    }
}
