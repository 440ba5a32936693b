using System.Text.Json;

namespace Ingest.Pipeline.Correlation;

/// <summary>
/// The group's dependency graph from its workers' stored documents: each covers the partitions its worker held,
/// so the newest document for each partition counts (one written before a rebalance is superseded by the newer
/// ones over its partitions) and their edges add up.
/// </summary>
public static class DependencyGraphDocuments
{
    /// <param name="newestFirst">Stored dependency_graph documents, newest first.</param>
    /// <returns>One document of the same shape, or null when there is none.</returns>
    public static string? Merge(IReadOnlyList<string> newestFirst)
    {
        var covered = new HashSet<int>();
        var ids = new List<string>();
        var edges = new SortedDictionary<(string Caller, string Callee), long[]>();
        var lag = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (string raw in newestFirst)
        {
            using var doc = JsonDocument.Parse(raw);
            var e = doc.RootElement.GetProperty("event");
            int[] partitions = e.TryGetProperty("partitions", out var p) ? [.. p.EnumerateArray().Select(x => x.GetInt32())] : [];
            // A document without partitions (one worker, older version) stands for all of them.
            if (partitions.Length == 0 ? ids.Count > 0 : partitions.Any(covered.Contains)) continue;
            covered.UnionWith(partitions);
            ids.Add(doc.RootElement.TryGetProperty("id", out var id) ? id.GetString() ?? "" : "");
            foreach (var edge in e.GetProperty("edges").EnumerateArray())
            {
                var key = (edge.GetProperty("caller").GetString()!, edge.GetProperty("callee").GetString()!);
                if (!edges.TryGetValue(key, out var counts)) edges[key] = counts = new long[3];
                counts[0] += edge.GetProperty("calls").GetInt64();
                counts[1] += edge.GetProperty("errors").GetInt64();
                counts[2] += edge.GetProperty("crashes_propagated").GetInt64();
            }
            if (e.TryGetProperty("clock_lag", out var lags))
            {
                foreach (var l in lags.EnumerateArray()) lag[l.GetProperty("node").GetString()!] = Math.Max(lag.GetValueOrDefault(l.GetProperty("node").GetString()!), l.GetProperty("behind_ms").GetDouble());
            }
            if (partitions.Length == 0) break;
        }
        if (ids.Count == 0) return null;
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("type", "dependency_graph");
            w.WriteStartArray("documents");
            foreach (string id in ids) w.WriteStringValue(id);
            w.WriteEndArray();
            w.WriteStartObject("event");
            w.WriteStartArray("edges");
            foreach (var ((caller, callee), c) in edges)
            {
                w.WriteStartObject();
                w.WriteString("caller", caller);
                w.WriteString("callee", callee);
                w.WriteNumber("calls", c[0]);
                w.WriteNumber("errors", c[1]);
                w.WriteNumber("crashes_propagated", c[2]);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("clock_lag");
            foreach (var (node, ms2) in lag)
            {
                w.WriteStartObject();
                w.WriteString("node", node);
                w.WriteNumber("behind_ms", ms2);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("partitions");
            foreach (int p in covered.Order()) w.WriteNumberValue(p);
            w.WriteEndArray();
            w.WriteStartArray("services");
            foreach (string s in edges.Keys.SelectMany(k => new[] { k.Caller, k.Callee }).Distinct().Order(StringComparer.Ordinal)) w.WriteStringValue(s);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
