using System.Diagnostics;
using Ingest.Hosting;
using Ingest.Pipeline.Telemetry;
using Ingest.Pipeline.Tests.Support;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Ingest.Pipeline.Tests.Telemetry;

/// <summary>
/// The worker's own traces (captured with OpenTelemetry's in-memory exporter) and metrics (read from the
/// Prometheus registry /metrics serves: the one metrics path).
/// </summary>
public sealed class SelfTelemetryTests
{
    private static readonly string[] s_allowedTagPrefixes = ["messaging.", "ingest."];

    [Fact]
    public void The_pipeline_traces_consume_assemble_parse_and_index_and_counts_events()
    {
        var spans = new List<Activity>();
        using var tracer = Sdk.CreateTracerProviderBuilder().AddSource(PipelineTelemetry.SourceName).AddInMemoryExporter(spans).Build();
        // The registry is process-wide: what this run adds is the difference.
        var before = Scrape();

        using var h = new PipelineHarness(brokers: 1);
        h.CreateTopic("logs", 1);
        var file = Path.Combine(CorpusFeed.Dir, "21-http-panic-serving.txt");
        h.Produce("logs", CorpusFeed.Interleaved([file]));
        var worker = h.StartWorker("telemetry");
        Wait.Until(() => h.Store.Count("crash") == 2 && worker.Sink.Pending == 0, TimeSpan.FromSeconds(60), "two crashes stored");
        worker.StopGracefully();
        tracer.ForceFlush();
        var after = Scrape();
        double Added(string series) => after.GetValueOrDefault(series) - before.GetValueOrDefault(series);

        Assert.Contains(spans, s => s.OperationName == PipelineTelemetry.Consume && (int)s.GetTagItem("messaging.batch.message_count")! > 0);
        Assert.Contains(spans, s => s.OperationName == PipelineTelemetry.Assemble);
        var parsed = spans.Where(s => s.OperationName == PipelineTelemetry.Parse && (string?)s.GetTagItem("ingest.event.type") == "crash").ToList();
        Assert.Equal(2, parsed.Count);
        Assert.All(parsed, s => Assert.StartsWith("crash:logs:0:", (string)s.GetTagItem("ingest.event.id")!, StringComparison.Ordinal));
        Assert.Contains(spans, s => s.OperationName == PipelineTelemetry.Index && (int)s.GetTagItem("ingest.batch.size")! > 0);
        // Counts, types and coordinates only: no log content, no configuration.
        Assert.All(spans.SelectMany(s => s.TagObjects), t => Assert.Contains(s_allowedTagPrefixes, p => t.Key.StartsWith(p, StringComparison.Ordinal)));

        double events = Added("ingest_events_total{type=\"crash\"}");
        Assert.True(events >= 2, $"ingest_events_total{{type=crash}} grew by {events}");
        Assert.True(Added("ingest_index_duration_seconds_count") > 0);
        Assert.True(Added("ingest_index_documents_total{outcome=\"stored\"}") >= 2);
        Assert.True(Added("ingest_messages_consumed_total") > 0);
        Assert.True(Added("ingest_process_batch_size_count") > 0);
    }

    /// <summary>Every series of the Prometheus registry, as /metrics exposes it.</summary>
    private static Dictionary<string, double> Scrape()
    {
        using var text = new MemoryStream();
        Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(text).GetAwaiter().GetResult();
        return System.Text.Encoding.UTF8.GetString(text.ToArray()).Split('\n')
            .Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => (Series: l[..l.LastIndexOf(' ')], Value: double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)))
            .ToDictionary(x => x.Series, x => x.Value, StringComparer.Ordinal);
    }

    [Fact]
    public void Urls_are_printed_without_credentials()
    {
        Assert.Equal("https://***@es.example:9200/", Ingest.Hosting.Telemetry.Redact("https://elastic:hunter2@es.example:9200"));
        Assert.Equal("https://es.example:9200", Ingest.Hosting.Telemetry.Redact("https://es.example:9200"));
        Assert.DoesNotContain("hunter2", Ingest.Hosting.Telemetry.Redact("http://u:hunter2@h/"), StringComparison.Ordinal);
    }
}
