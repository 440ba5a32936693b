using System.Diagnostics;
using Ingest.Hosting;
using Ingest.Pipeline.Telemetry;
using Ingest.Pipeline.Tests.Support;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Ingest.Pipeline.Tests.Telemetry;

/// <summary>The worker's own traces and metrics, captured with OpenTelemetry's in-memory exporter.</summary>
public sealed class SelfTelemetryTests
{
    private static readonly string[] s_allowedTagPrefixes = ["messaging.", "ingest."];

    [Fact]
    public void The_pipeline_traces_consume_assemble_parse_and_index_and_counts_events()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        using var tracer = Sdk.CreateTracerProviderBuilder().AddSource(PipelineTelemetry.SourceName).AddInMemoryExporter(spans).Build();
        using var meter = Sdk.CreateMeterProviderBuilder().AddMeter(PipelineTelemetry.SourceName).AddInMemoryExporter(metrics).Build();

        using var h = new PipelineHarness(brokers: 1);
        h.CreateTopic("logs", 1);
        var file = Path.Combine(CorpusFeed.Dir, "21-http-panic-serving.txt");
        h.Produce("logs", CorpusFeed.Interleaved([file]));
        var worker = h.StartWorker("telemetry");
        Wait.Until(() => h.Store.Count("crash") == 2 && worker.Sink.Pending == 0, TimeSpan.FromSeconds(60), "two crashes stored");
        worker.StopGracefully();
        tracer.ForceFlush();
        meter.ForceFlush();

        Assert.Contains(spans, s => s.OperationName == PipelineTelemetry.Consume && (int)s.GetTagItem("messaging.batch.message_count")! > 0);
        Assert.Contains(spans, s => s.OperationName == PipelineTelemetry.Assemble);
        var parsed = spans.Where(s => s.OperationName == PipelineTelemetry.Parse && (string?)s.GetTagItem("ingest.event.type") == "crash").ToList();
        Assert.Equal(2, parsed.Count);
        Assert.All(parsed, s => Assert.StartsWith("crash:logs:0:", (string)s.GetTagItem("ingest.event.id")!, StringComparison.Ordinal));
        Assert.Contains(spans, s => s.OperationName == PipelineTelemetry.Index && (int)s.GetTagItem("ingest.batch.size")! > 0);
        // Counts, types and coordinates only: no log content, no configuration.
        Assert.All(spans.SelectMany(s => s.TagObjects), t => Assert.Contains(s_allowedTagPrefixes, p => t.Key.StartsWith(p, StringComparison.Ordinal)));

        long events = metrics.Where(m => m.Name == "ingest.events").SelectMany(Points).Sum();
        Assert.True(events >= 2, $"ingest.events = {events}");
        Assert.Contains(metrics, m => m.Name == "ingest.index.duration");
        Assert.True(metrics.Where(m => m.Name == "ingest.messages").SelectMany(Points).Sum() > 0);
    }

    private static IEnumerable<long> Points(Metric metric)
    {
        foreach (ref readonly var point in metric.GetMetricPoints()) yield return point.GetSumLong();
    }

    [Fact]
    public void Urls_are_printed_without_credentials()
    {
        Assert.Equal("https://***@es.example:9200/", Ingest.Hosting.Telemetry.Redact("https://elastic:hunter2@es.example:9200"));
        Assert.Equal("https://es.example:9200", Ingest.Hosting.Telemetry.Redact("https://es.example:9200"));
        Assert.DoesNotContain("hunter2", Ingest.Hosting.Telemetry.Redact("http://u:hunter2@h/"), StringComparison.Ordinal);
    }
}
