using System.Net;
using System.Text.Json;
using Ingest.Commands;
using Ingest.Pipeline.Sources.Kafka;
using Ingest.Pipeline.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.Pipeline.Tests.Worker;

/// <summary>`ingest serve` on its defaults (embedded cluster, embedded store, loopback API), fed by `ingest replay`.</summary>
public sealed class ServeTests
{
    [Fact]
    public void Serve_with_no_kafka_configured_ingests_replayed_files_and_answers_the_api()
    {
        using var serve = new ServedWorker((dir, port) => new
        {
            Serve = new { DataDirectory = Path.Combine(dir, "data"), Urls = $"http://127.0.0.1:{port}" },
            Assembly = new { IdleFlush = "00:00:00.300" },
        });
        string dir = serve.Dir, config = serve.ConfigPath;
        int port = serve.Port;
        string[] files = [Path.Combine(CorpusFeed.Dir, "01-nil-pointer-dereference.txt"), Path.Combine(CorpusFeed.Dir, "21-http-panic-serving.txt"), Path.Combine(CorpusFeed.Dir, "31-gctrace.txt")];
        Assert.Equal(0, ReplayCommand.Run(files, "logs", serve.Bootstrap!, null, TextWriter.Null));

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        JsonElement crashes = default;
        Wait.Until(() =>
        {
            crashes = JsonDocument.Parse(Get(http, "/api/v1/crashes")).RootElement;
            return crashes.GetArrayLength() == 3;
        }, TimeSpan.FromSeconds(60), "three crashes in the API");

        string id = crashes[0].GetProperty("id").GetString()!;
        var one = JsonDocument.Parse(Get(http, $"/api/v1/crashes/{Uri.EscapeDataString(id)}")).RootElement;
        Assert.Equal(id, one.GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.NotFound, Status(http, "/api/v1/crashes/nope"));
        Assert.Equal(HttpStatusCode.BadRequest, Status(http, "/api/v1/events/nope"));
        Assert.Equal(2, JsonDocument.Parse(Get(http, "/api/v1/events/crash?limit=2")).RootElement.GetArrayLength());
        // Pages: a full page gives the cursor of the next; together they are every crash once.
        var (firstBody, firstHeaders) = GetWithHeaders(http, "/api/v1/crashes?limit=2");
        {
            string cursor = firstHeaders.GetValues("X-Next-Cursor").Single();
            Assert.Contains("rel=\"next\"", firstHeaders.GetValues("Link").Single(), StringComparison.Ordinal);
            var page1 = JsonDocument.Parse(firstBody).RootElement.EnumerateArray().Select(c => c.GetProperty("id").GetString()).ToList();
            var page2 = JsonDocument.Parse(Get(http, $"/api/v1/crashes?limit=2&before={Uri.EscapeDataString(cursor)}")).RootElement.EnumerateArray().Select(c => c.GetProperty("id").GetString()).ToList();
            Assert.Equal(2, page1.Count);
            Assert.Single(page2);
            Assert.Equal(3, page1.Concat(page2).Distinct().Count());
        }
        Assert.Equal(HttpStatusCode.BadRequest, Status(http, "/api/v1/crashes?before=nonsense"));

        var groups = JsonDocument.Parse(Get(http, "/api/v1/crash-groups")).RootElement;
        // 01 and the second panic of 21 are the same bug: two groups for three crashes.
        Assert.Equal(2, groups.GetArrayLength());
        Assert.Contains(groups.EnumerateArray(), g => g.GetProperty("count").GetInt32() == 2);

        var health = JsonDocument.Parse(Get(http, "/healthz")).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        // GC: the real gctrace stream (no service header: "unknown") as a series, its impact table, no alerts.
        JsonElement cycles = default;
        Wait.Until(() =>
        {
            cycles = JsonDocument.Parse(Get(http, "/api/v1/gc/cycles?service=unknown&from=2000-01-01T00:00:00Z")).RootElement;
            return cycles.GetArrayLength() == 135;
        }, TimeSpan.FromSeconds(60), "135 gc cycles in the API", () => $"{cycles.GetArrayLength()}");
        Assert.True(cycles[1].GetProperty("event").GetProperty("derived").GetProperty("interval_seconds").GetDouble() > 0);
        var impact = JsonDocument.Parse(Get(http, "/api/v1/gc/impact?service=unknown")).RootElement;
        Assert.Equal(134, impact.GetProperty("samples").GetInt32());
        Assert.Equal(5, impact.GetProperty("factors").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, Status(http, "/api/v1/gc/impact"));
        Assert.Equal(0, JsonDocument.Parse(Get(http, "/api/v1/alerts?status=firing")).RootElement.GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, Status(http, "/api/v1/alerts?status=bogus"));

        string metrics = Get(http, "/metrics");
        Assert.True(metrics.Contains("ingest_messages_consumed_total", StringComparison.Ordinal), string.Join("\n", metrics.Split("\n").Where(l => l.Contains("ingest", StringComparison.Ordinal))));
        Assert.Contains("ingest_gc_pause_seconds_bucket{service=\"unknown\",le=", metrics, StringComparison.Ordinal);
        Assert.Contains("ingest_crashes_total{service=\"unknown\",category=\"nil_pointer_dereference\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("ingest_consumer_lag_messages{topic=\"logs\",partition=", metrics, StringComparison.Ordinal);
        // Every metric the Helm chart's PrometheusRule alerts on is one this worker exports.
        string rules = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Helm", "prometheusrule.yaml"));
        var referenced = System.Text.RegularExpressions.Regex.Matches(rules, @"\bingest_[a-z_]+").Select(m => m.Value)
            .Select(n => n.EndsWith("_bucket", StringComparison.Ordinal) ? n[..^"_bucket".Length] : n).Distinct().ToList();
        Assert.True(referenced.Count >= 6, string.Join(", ", referenced));
        Assert.All(referenced, name => Assert.Contains($"# TYPE {name} ", metrics, StringComparison.Ordinal));
        Assert.Equal(0, serve.Stop());
    }

    [Fact]
    public void Serve_with_the_elasticsearch_sink_bootstraps_and_indexes_into_data_streams()
    {
        using var es = new FakeElasticsearch();
        using var serve = new ServedWorker((dir, port) => new
        {
            Serve = new { DataDirectory = Path.Combine(dir, "data"), Urls = $"http://127.0.0.1:{port}" },
            Assembly = new { IdleFlush = "00:00:00.300" },
            Sink = new { Kind = "elasticsearch" },
            Elasticsearch = new { Urls = new[] { es.Url }, Namespace = "staging" },
        });
        string dir = serve.Dir, config = serve.ConfigPath;
        int port = serve.Port;
        Assert.Equal(0, ReplayCommand.Run([Path.Combine(CorpusFeed.Dir, "21-http-panic-serving.txt")], "logs", serve.Bootstrap!, null, TextWriter.Null));
        Wait.Until(() => es.Documents.Keys.Count(k => k.StartsWith("logs-go.crash-staging/", StringComparison.Ordinal)) == 2, TimeSpan.FromSeconds(60), "two crashes indexed",
            () => string.Join(", ", es.Documents.Keys));
        Assert.Contains("/_ilm/policy/ingest-go", es.TemplatePaths);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var health = JsonDocument.Parse(Get(http, "/healthz")).RootElement;
        Assert.Equal("closed", health.GetProperty("elasticsearch_circuit").GetString());
        // The API asks Elasticsearch (this fake answers every search empty).
        Assert.Equal(0, JsonDocument.Parse(Get(http, "/api/v1/crashes")).RootElement.GetArrayLength());
        Assert.False(File.Exists(Path.Combine(dir, "data", "events.db")), "no embedded store when Elasticsearch is the sink");
        Assert.Equal(0, serve.Stop());
    }

    [Fact]
    public void Serve_correlates_logs_and_spans_into_incidents_with_the_dependency_graph_and_clock_skew()
    {
        using var serve = new ServedWorker((dir, port) => new
        {
            Serve = new { DataDirectory = Path.Combine(dir, "data"), Urls = $"http://127.0.0.1:{port}" },
            Assembly = new { IdleFlush = "00:00:00.300" },
            Correlation = new { ReorderWindow = "00:00:10", MinHold = "00:00:05" },
            Postmortem = new { RepositoryUrl = "https://github.com/acme/shop", SourceRoot = "/home/dev/src/shop/" },
        });
        string dir = serve.Dir, config = serve.ConfigPath;
        int port = serve.Port;
        string? incidentId = null;
        Correlation.CorrelationEndToEndTests.ProduceAll(serve.Bootstrap!, Correlation.CorrelationEndToEndTests.Build(traces: 4));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        JsonElement incidents = default;
        Wait.Until(() =>
        {
            incidents = JsonDocument.Parse(Get(http, "/api/v1/incidents")).RootElement;
            return incidents.GetArrayLength() == 1 && incidents[0].GetProperty("event").GetProperty("path").GetArrayLength() == 3;
        }, TimeSpan.FromSeconds(90), "the incident in the API", () => incidents.ValueKind == JsonValueKind.Array ? incidents.GetRawText() : "-");
        var incident = incidents[0];
        Assert.Equal("payments", incident.GetProperty("event").GetProperty("root_cause").GetProperty("service").GetString());
        string id = incident.GetProperty("id").GetString()!;
        Assert.Equal(id, JsonDocument.Parse(Get(http, $"/api/v1/incidents/{Uri.EscapeDataString(id)}")).RootElement.GetProperty("id").GetString());
        JsonElement graph = default;
        Wait.Until(() => Status(http, "/api/v1/dependency-graph") == HttpStatusCode.OK &&
            (graph = JsonDocument.Parse(Get(http, "/api/v1/dependency-graph")).RootElement.GetProperty("event").GetProperty("edges")).GetArrayLength() >= 2,
            TimeSpan.FromSeconds(30), "the stored dependency graph");
        Assert.Contains(graph.EnumerateArray(), e => e.GetProperty("caller").GetString() == "orders" && e.GetProperty("callee").GetString() == "payments");
        var skew = JsonDocument.Parse(Get(http, "/api/v1/clock-skew")).RootElement;
        Assert.Contains(skew.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("node").GetString() == "node-b" && n.GetProperty("behind_ms").GetDouble() >= 200);
        Assert.Contains("ingest_clock_lag_seconds{node=\"node-b\"}", Get(http, "/metrics"), StringComparison.Ordinal);

        // The postmortem draft, in both languages, from the same facts.
        string en = Get(http, $"/api/v1/incidents/{Uri.EscapeDataString(id)}/postmortem");
        foreach (string section in new[] { "## Summary", "## Timeline", "## Impact quantification", "## Root-cause classification", "## Panic stack semantic analysis", "## Goroutine dump correlation matrix", "## Evidence anchors", "## Deliverables", "## Action items" })
            Assert.Contains(section, en, StringComparison.Ordinal);
        Assert.Contains("Template 3.2", en, StringComparison.Ordinal);
        Assert.Matches(@"\| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \| `\d+,\d+` \|", en);
        Assert.Contains("Category: `nil_pointer_dereference`", en, StringComparison.Ordinal);
        Assert.Contains("`order_repo.go:65`", en, StringComparison.Ordinal);
        Assert.Contains("### node node-c", en, StringComparison.Ordinal);
        // Versions from the build information payments logged; code references link to that revision.
        Assert.Contains("`go1.19.8`", en, StringComparison.Ordinal);
        Assert.Contains("`0a1b2c3d4e5f`", en, StringComparison.Ordinal);
        Assert.Contains("CI/CD pipeline: `4711`", en, StringComparison.Ordinal);
        Assert.Contains("(https://github.com/acme/shop/blob/0a1b2c3d4e5f/internal/store/order_repo.go#L65)", en, StringComparison.Ordinal);
        string zh = Get(http, $"/api/v1/incidents/{Uri.EscapeDataString(id)}/postmortem?lang=zh");
        Assert.Contains("## 时间线", zh, StringComparison.Ordinal);
        Assert.Contains("`order_repo.go:65`", zh, StringComparison.Ordinal);
        var facts = JsonDocument.Parse(Get(http, $"/api/v1/incidents/{Uri.EscapeDataString(id)}/postmortem?format=json")).RootElement;
        Assert.Equal("memory_safety/nil_pointer_dereference", facts.GetProperty("classification").GetProperty("branch").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, Status(http, $"/api/v1/incidents/{Uri.EscapeDataString(id)}/postmortem?format=html"));
        Assert.Equal(HttpStatusCode.BadRequest, Status(http, $"/api/v1/incidents/{Uri.EscapeDataString(id)}/postmortem?lang=fr"));
        Assert.Equal(HttpStatusCode.NotFound, Status(http, "/api/v1/incidents/nope/postmortem"));
        incidentId = id;
        Assert.Equal(0, serve.Stop());
        // The CLI writes the same draft from the store the worker left.
        string outFile = Path.Combine(dir, "postmortem.md");
        Assert.Equal(0, PostmortemCommand.Run(incidentId!, "en", "markdown", outFile, config, TextWriter.Null, TextWriter.Null));
        Assert.Contains("## Root-cause classification", File.ReadAllText(outFile), StringComparison.Ordinal);
        Assert.Equal(0, PostmortemCommand.Run(incidentId!, "en", "json", outFile, config, TextWriter.Null, TextWriter.Null));
        Assert.Equal(incidentId, JsonDocument.Parse(File.ReadAllText(outFile)).RootElement.GetProperty("incident_id").GetString());
        Assert.Equal(AnalyzeCommand.ExitBadInput, PostmortemCommand.Run("nope", "en", "markdown", null, config, TextWriter.Null, TextWriter.Null));
    }

    [Fact]
    public void Beyond_loopback_the_api_requires_the_bearer_token_but_probes_and_metrics_stay_open()
    {
        const string token = "s3cret-token-0123456789";
        using var serve = new ServedWorker((dir, port) => new
        {
            Serve = new { DataDirectory = Path.Combine(dir, "data"), Urls = $"http://0.0.0.0:{port}", ApiToken = token },
        });
        string dir = serve.Dir, config = serve.ConfigPath;
        int port = serve.Port;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal(HttpStatusCode.Unauthorized, Status(http, "/api/v1/crashes"));
        Assert.Equal(HttpStatusCode.OK, Status(http, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, Status(http, "/metrics"));
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "wrong-token-0123456789");
        Assert.Equal(HttpStatusCode.Unauthorized, Status(http, "/api/v1/crashes"));
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, Status(http, "/api/v1/crashes"));
        Assert.Equal(0, serve.Stop());
    }

    [Fact]
    public void Serve_refuses_an_api_address_off_loopback()
    {
        string dir = Directory.CreateTempSubdirectory("ingest-serve-").FullName;
        string config = Path.Combine(dir, "appsettings.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new { Serve = new { Urls = "http://0.0.0.0:8080" } }));
        Assert.Equal(AnalyzeCommand.ExitBadInput, ServeCommand.Run(config, [], CancellationToken.None));
        File.WriteAllText(config, JsonSerializer.Serialize(new { Serve = new { Urls = "http://0.0.0.0:8080", ApiToken = "short" } }));
        Assert.Equal(AnalyzeCommand.ExitBadInput, ServeCommand.Run(config, [], CancellationToken.None));
        Assert.Equal(AnalyzeCommand.ExitBadInput, ServeCommand.Run(Path.Combine(dir, "missing.json"), [], CancellationToken.None));
        Directory.Delete(dir, recursive: true);
    }

    private static (string Body, System.Net.Http.Headers.HttpResponseHeaders Headers) GetWithHeaders(HttpClient http, string path)
    {
        var response = http.GetAsync(path).GetAwaiter().GetResult();
        return (response.Content.ReadAsStringAsync().GetAwaiter().GetResult(), response.Headers);
    }

    // Synchronous on purpose: called from polling conditions.
    private static string Get(HttpClient http, string path) => http.GetStringAsync(path).GetAwaiter().GetResult();

    private static HttpStatusCode Status(HttpClient http, string path) => http.GetAsync(path).GetAwaiter().GetResult().StatusCode;
}
