using Prometheus;

namespace Ingest.Pipeline.Sources.Kafka;

/// <summary>
/// The pipeline's own metrics, in prometheus-net's default registry (served at /metrics by the worker): the one
/// metrics path. Prometheus scrapes it (ServiceMonitor, PrometheusRule, Alertmanager are built on these names),
/// and its exposition is stable where OpenTelemetry's Prometheus exporter is still a beta; an OpenTelemetry
/// Collector that wants them scrapes the same endpoint. Each quantity is counted once, at one point.
/// Labels stay low-cardinality: event type, never stream or pod.
/// </summary>
public sealed class PipelineMetrics : IDisposable
{
    private static readonly Counter s_messages = Metrics.CreateCounter("ingest_messages_consumed_total", "Kafka messages consumed.");
    private static readonly Counter s_lines = Metrics.CreateCounter("ingest_lines_total", "Log lines read.");
    private static readonly Counter s_events = Metrics.CreateCounter("ingest_events_total", "Runtime events emitted, by type.", "type");
    private static readonly Counter s_deadLetters = Metrics.CreateCounter("ingest_dead_letters_total", "Messages sent to the dead-letter topic.");
    private static readonly Counter s_pauses = Metrics.CreateCounter("ingest_consumer_pauses_total", "Times consumption paused because the sink fell behind.");
    private static readonly Counter s_budgetClosed = Metrics.CreateCounter("ingest_assembly_budget_closed_total",
        "Open events closed as truncated because the assembly memory budget (open_bytes) or the open-event cap (open_events) was reached.", "reason");
    private static readonly Counter s_offsetsLost = Metrics.CreateCounter("ingest_offsets_lost_total",
        "Messages never read because the broker's retention deleted them before the committed offset reached them.", "topic", "partition");
    private static readonly Gauge s_openBytes = Metrics.CreateGauge("ingest_assembly_open_bytes", "Bytes the events being assembled hold, as the budget accounts them.");
    private static readonly Counter s_indexed = Metrics.CreateCounter("ingest_index_documents_total", "Documents the sink stored or refused, by outcome.", "outcome");
    private static readonly Histogram s_indexDuration = Metrics.CreateHistogram("ingest_index_duration_seconds", "Time to store one batch, retries included.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) });
    private static readonly Histogram s_batchSize = Metrics.CreateHistogram("ingest_process_batch_size", "Kafka messages per processed batch.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 9) });
    private static readonly Gauge s_openStreams = Metrics.CreateGauge("ingest_open_streams", "Streams being reassembled.");
    private static readonly Gauge s_sinkPending = Metrics.CreateGauge("ingest_sink_pending", "Events queued for the sink.");
    private static readonly Gauge s_paused = Metrics.CreateGauge("ingest_consumer_paused", "1 while consumption is paused.");
    private static readonly Gauge s_lag = Metrics.CreateGauge("ingest_consumer_lag_messages",
        "Messages of an assigned partition not yet consumed (high watermark minus position).", "topic", "partition");

    private Func<int>? _openStreams;
    private Func<int>? _sinkPending;
    private Func<int>? _paused;
    private Func<long>? _openBytes;

    public PipelineMetrics() => Metrics.DefaultRegistry.AddBeforeCollectCallback(Refresh);

    public void Messages(long n) => s_messages.Inc(n);
    public void Lines(long n) => s_lines.Inc(n);
    public void Event(string type) => s_events.WithLabels(type).Inc();
    public void DeadLetter() => s_deadLetters.Inc();
    public void Paused() => s_pauses.Inc();
    public void BudgetClosed(string reason) => s_budgetClosed.WithLabels(reason).Inc();
    public void Batch(int messages) => s_batchSize.Observe(messages);

    /// <summary>A batch the sink host finished: how long it took, what was stored and refused.</summary>
    public static void Indexed(int stored, int rejected, double seconds)
    {
        s_indexDuration.Observe(seconds);
        s_indexed.WithLabels("stored").Inc(stored);
        if (rejected > 0) s_indexed.WithLabels("rejected").Inc(rejected);
    }

    public void OffsetsLost(string topic, int partition, long count) =>
        s_offsetsLost.WithLabels(topic, partition.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc(count);

    public void Lag(string topic, int partition, long lag) =>
        s_lag.WithLabels(topic, partition.ToString(System.Globalization.CultureInfo.InvariantCulture)).Set(Math.Max(0, lag));

    /// <summary>A revoked partition's series goes with it (its new owner reports it).</summary>
    public void ForgetLag(string topic, int partition) =>
        s_lag.RemoveLabelled(topic, partition.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void ObserveGauges(Func<int> openStreams, Func<int> sinkPending, Func<int> paused, Func<long>? openBytes = null)
    {
        _openBytes = openBytes;
        _openStreams = openStreams;
        _sinkPending = sinkPending;
        _paused = paused;
    }

    private void Refresh()
    {
        if (_openStreams is not null) s_openStreams.Set(_openStreams());
        if (_sinkPending is not null) s_sinkPending.Set(_sinkPending());
        if (_paused is not null) s_paused.Set(_paused());
        if (_openBytes is not null) s_openBytes.Set(_openBytes());
    }

    public void Dispose()
    {
        _openStreams = _sinkPending = _paused = null;
        _openBytes = null;
    }
}
