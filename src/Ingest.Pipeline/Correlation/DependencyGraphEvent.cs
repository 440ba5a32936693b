using System.Text.Json;
using Ingest.Correlation.Incidents;
using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Correlation;

/// <summary>The service dependency graph as a stored document (type dependency_graph), rewritten as it changes:
/// one per correlating worker, over the partitions it holds (the API adds up the workers' documents).</summary>
public sealed class DependencyGraphEvent : DerivedEvent
{
    public override string TypeName => "dependency_graph";
    public required IReadOnlyList<DependencyEdge> Edges { get; init; }
    public required IReadOnlyDictionary<string, long> ClockLagNanos { get; init; }
    /// <summary>The partitions (of the co-partitioned spans and detections topics) it was computed from.</summary>
    public required IReadOnlyList<int> Partitions { get; init; }

    public override void WriteFields(Utf8JsonWriter w)
    {
        w.WriteStartArray("edges");
        foreach (var e in Edges)
        {
            w.WriteStartObject();
            w.WriteString("caller", e.Caller);
            w.WriteString("callee", e.Callee);
            w.WriteNumber("calls", e.Calls);
            w.WriteNumber("errors", e.Errors);
            w.WriteNumber("crashes_propagated", e.CrashesPropagated);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("clock_lag");
        foreach (var (node, lag) in ClockLagNanos.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.WriteStartObject();
            w.WriteString("node", node);
            w.WriteNumber("behind_ms", lag / 1e6);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("partitions");
        foreach (int p in Partitions) w.WriteNumberValue(p);
        w.WriteEndArray();
        w.WriteStartArray("services");
        foreach (string s in Edges.SelectMany(e => new[] { e.Caller, e.Callee }).Distinct().Order(StringComparer.Ordinal)) w.WriteStringValue(s);
        w.WriteEndArray();
    }
}
