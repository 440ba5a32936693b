using Prometheus;

namespace Ingest.Pipeline.Correlation;

/// <summary>Clock health of the monitored nodes and the correlator's own counters, for /metrics.</summary>
internal static class CorrelationMetrics
{
    private static readonly Gauge s_lag = Metrics.CreateGauge("ingest_clock_lag_seconds",
        "How far a node's clock is at least behind its callers', from causal span pairs.", "node");
    private static readonly Gauge s_skewed = Metrics.CreateGauge("ingest_clock_beyond_max_offset",
        "1 for nodes whose stamps were refused for being beyond the maximum clock offset.", "node");
    private static readonly Gauge s_rejections = Metrics.CreateGauge("ingest_clock_skew_rejections",
        "Remote stamps not merged because they were beyond the maximum offset (since the last assignment).");
    private static readonly Gauge s_late = Metrics.CreateGauge("ingest_correlation_late_events",
        "Events that arrived after the reorder window (since the last assignment).");
    private static readonly Counter s_incidents = Metrics.CreateCounter("ingest_incidents_written_total", "Incident documents written (new or updated).");

    public static void Publish(IReadOnlyDictionary<string, long> lagNanos, IEnumerable<string> skewed, long rejections, long late)
    {
        foreach (var (node, lag) in lagNanos) s_lag.WithLabels(node).Set(lag / 1e9);
        foreach (string node in skewed) s_skewed.WithLabels(node).Set(1);
        s_rejections.Set(rejections);
        s_late.Set(late);
    }

    public static void IncidentWritten() => s_incidents.Inc();
}
