using System.Text.Json;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.Correlation;

/// <summary>
/// <c>ingest serve</c> on its embedded defaults (embedded cluster and store; ECS JSON logs on <c>logs-json</c>, OTLP
/// JSON spans on <c>otlp_spans</c>) fed a generated <see cref="ServedScenario"/>: the API's incidents, crash groups
/// and dependency graph count each panic once and put each in its own incident.
/// </summary>
public sealed class ServedIncidentTests
{
    /// <summary>The shipped defaults' topics (config/appsettings.json), the embedded cluster, the embedded store.</summary>
    internal static object Settings(string dir, int port) => new
    {
        Kafka = new { Topics = new[] { new { Name = "logs", Format = "Raw" }, new { Name = "logs-json", Format = "Json" }, new { Name = "otlp_logs", Format = "OtlpProto" } } },
        Serve = new { DataDirectory = Path.Combine(dir, "data"), Urls = $"http://127.0.0.1:{port}" },
        Assembly = new { IdleFlush = "00:00:00.300" },
        // A reorder window of margin: the logged panics trail their spans by the assembly of the log stream.
        Correlation = new { ReorderWindow = "00:00:05", MinHold = "00:00:02", SpansFormat = "OtlpJson" },
    };

    private static JsonElement Get(HttpClient http, string path) => JsonDocument.Parse(http.GetStringAsync(path).GetAwaiter().GetResult()).RootElement;

    internal static List<JsonElement> Incidents(HttpClient http) => [.. Get(http, "/api/v1/incidents?limit=100").EnumerateArray().Select(i => i.GetProperty("event").Clone())];

    /// <summary>The incidents, crash groups and graph the API serves once the scenario is fully correlated.</summary>
    internal static (List<JsonElement> Incidents, Dictionary<string, long> CrashGroups, Dictionary<(string, string), (long Calls, long Errors, long Propagated)> Graph) Settled(HttpClient http, ServedScenario s)
    {
        List<JsonElement> incidents = [];
        // Settled: the logged panics are in incidents, every service of them has served again, and search's span
        // crash is indexed.
        Wait.Until(() =>
        {
            incidents = Incidents(http);
            return incidents.Count(i => i.GetProperty("root_cause").GetProperty("id").GetString()!.StartsWith("crash:logs-json:", StringComparison.Ordinal)) >= s.PanicTraces.Count &&
                incidents.Any(i => i.GetProperty("classification").GetString() == "index_out_of_range") &&
                incidents.All(i => i.GetProperty("path").EnumerateArray().All(p => p.GetProperty("recovered").GetBoolean())) &&
                Get(http, "/api/v1/crash-groups").EnumerateArray().Any(g => g.GetProperty("fingerprint").GetString() == s.Index.Fingerprint);
        }, TimeSpan.FromSeconds(120), "the incidents settled", () => string.Join("\n", incidents.Select(i => i.GetProperty("root_cause").GetProperty("id").GetString())) + "\ncrashes: " +
            string.Join(", ", Get(http, "/api/v1/crashes?limit=100").EnumerateArray().Select(c => c.GetProperty("id").GetString())) + "\n" +
            string.Join("\n", http.GetStringAsync("/metrics").GetAwaiter().GetResult().Split('\n').Where(l => l.StartsWith("ingest_", StringComparison.Ordinal))));
        var groups = Get(http, "/api/v1/crash-groups").EnumerateArray().ToDictionary(g => g.GetProperty("fingerprint").GetString()!, g => g.GetProperty("count").GetInt64());
        JsonElement edges = default;
        Wait.Until(() => (edges = Get(http, "/api/v1/dependency-graph").GetProperty("event").GetProperty("edges")).EnumerateArray()
                .Any(e => e.GetProperty("callee").GetString() == "search" && e.GetProperty("crashes_propagated").GetInt64() == 1),
            TimeSpan.FromSeconds(30), "the graph stored", () => edges.ValueKind == JsonValueKind.Array ? edges.GetRawText() : "-");
        var graph = edges.EnumerateArray().ToDictionary(e => (e.GetProperty("caller").GetString()!, e.GetProperty("callee").GetString()!),
            e => (e.GetProperty("calls").GetInt64(), e.GetProperty("errors").GetInt64(), e.GetProperty("crashes_propagated").GetInt64()));
        return (incidents, groups, graph);
    }

    internal static void AssertScenario(ServedScenario s, List<JsonElement> incidents, Dictionary<string, long> groups, Dictionary<(string, string), (long Calls, long Errors, long Propagated)> graph)
    {
        Assert.Equal(s.PanicTraces.Count + 1, incidents.Count);
        var crashIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (string trace in s.PanicTraces)
        {
            var incident = Assert.Single(incidents, i => i.GetProperty("trace_ids").EnumerateArray().Any(t => t.GetString() == trace));
            var crash = Assert.Single(incident.GetProperty("events").EnumerateArray(), e => e.GetProperty("kind").GetString() == "crash");
            string id = crash.GetProperty("id").GetString()!;
            Assert.StartsWith("crash:logs-json:", id, StringComparison.Ordinal);
            Assert.True(crashIds.Add(id), $"{id} in two incidents");
            Assert.Equal(trace, crash.GetProperty("trace_id").GetString());
            var root = incident.GetProperty("root_cause");
            Assert.Equal(id, root.GetProperty("id").GetString());
            Assert.Equal("nil_pointer_dereference", incident.GetProperty("classification").GetString());
            Assert.Equal(s.Nil.RootCause!.Function, root.GetProperty("root_cause_frame").GetString());
            Assert.Equal(s.Nil.Fingerprint, root.GetProperty("fingerprint").GetString());
            Assert.Equal(["payments", "orders", "gateway"], incident.GetProperty("path").EnumerateArray().Select(p => p.GetProperty("service").GetString()));
        }
        var search = Assert.Single(incidents, i => i.GetProperty("trace_ids").EnumerateArray().Any(t => t.GetString() == s.SearchTrace));
        Assert.Equal("index_out_of_range", search.GetProperty("classification").GetString());
        Assert.StartsWith("crash:span:", search.GetProperty("root_cause").GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(["search", "gateway"], search.GetProperty("path").EnumerateArray().Select(p => p.GetProperty("service").GetString()));

        // Each panic once: the logged crashes (not their span views), and search's span crash.
        Assert.Equal(s.PanicTraces.Count, groups[s.Nil.Fingerprint]);
        Assert.Equal(1, groups[s.Index.Fingerprint]);
        Assert.Equal(2, groups.Count);

        Assert.Equal(s.PanicTraces.Count, graph[("orders", "payments")].Propagated);
        Assert.Equal(s.PanicTraces.Count, graph[("orders", "payments")].Errors);
        Assert.Equal(1, graph[("gateway", "search")].Propagated);
        Assert.Equal(0, graph[("gateway", "orders")].Propagated);
        Assert.Equal(0, graph[("orders", "inventory")].Propagated);
    }

    [Fact]
    public void Serve_on_embedded_defaults_puts_each_panic_in_its_own_incident_and_counts_it_once()
    {
        using var serve = new ServedWorker(Settings);
        var s = ServedScenario.Generate(seed: 7);
        s.ProduceAll(serve.Bootstrap!, seed: 7);
        var (incidents, groups, graph) = Settled(serve.Http, s);
        AssertScenario(s, incidents, groups, graph);
        // The stored crashes: one document per panic.
        var crashes = Get(serve.Http, "/api/v1/crashes?limit=100").EnumerateArray().ToList();
        Assert.Equal(s.PanicTraces.Count + 1, crashes.Count);
        Assert.Equal(0, serve.Stop());
    }
}
