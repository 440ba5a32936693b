using System.Diagnostics.Metrics;

namespace Ingest.Pipeline.Sources.Kafka;

/// <summary>The pipeline's own metrics (System.Diagnostics.Metrics; the worker exports them for Prometheus).</summary>
public sealed class PipelineMetrics : IDisposable
{
    public const string MeterName = "Ingest.Pipeline";
    private readonly Meter _meter = new(MeterName);

    public PipelineMetrics()
    {
        Messages = _meter.CreateCounter<long>("ingest_messages_consumed", description: "Kafka messages consumed");
        Lines = _meter.CreateCounter<long>("ingest_lines", description: "log lines read");
        Events = _meter.CreateCounter<long>("ingest_events", description: "runtime events emitted, by type");
        DeadLetters = _meter.CreateCounter<long>("ingest_dead_letters", description: "messages sent to the dead-letter topic");
        Pauses = _meter.CreateCounter<long>("ingest_consumer_pauses", description: "times consumption paused for backpressure");
    }

    public Counter<long> Messages { get; }
    public Counter<long> Lines { get; }
    public Counter<long> Events { get; }
    public Counter<long> DeadLetters { get; }
    public Counter<long> Pauses { get; }

    public void ObserveGauges(Func<int> openStreams, Func<int> sinkPending, Func<int> paused)
    {
        _meter.CreateObservableGauge("ingest_open_streams", openStreams, description: "streams being reassembled");
        _meter.CreateObservableGauge("ingest_sink_pending", sinkPending, description: "events queued for the sink");
        _meter.CreateObservableGauge("ingest_consumer_paused", paused, description: "1 while consumption is paused");
    }

    public void Dispose() => _meter.Dispose();
}
