using Prometheus;

namespace Ingest.Pipeline.Analysis;

/// <summary>
/// What SREs alert on, per monitored service (never per pod by default: pods come and go, series would not).
/// </summary>
public static class GcMetrics
{
    private static readonly Histogram s_pause = Metrics.CreateHistogram("ingest_gc_pause_seconds",
        "Stop-the-world pause per GC cycle (sweep termination + mark termination) of the monitored Go services.",
        new HistogramConfiguration
        {
            LabelNames = ["service"],
            // 50 µs .. ~3 s: Go's pauses are usually well under a millisecond; the tail is what matters.
            Buckets = Histogram.ExponentialBuckets(0.00005, 2, 16),
        });

    private static readonly Counter s_anomalies = Metrics.CreateCounter("ingest_gc_anomalies_total",
        "GC cycles a detector flagged, by service and kind (pause_outlier, pause_slo, pacer_overshoot, gc_thrash, heap_growth).", "service", "kind");

    private static readonly Gauge s_firing = Metrics.CreateGauge("ingest_gc_alerts_firing",
        "Open GC alert episodes (deduplicated: one per instance and kind while the anomaly persists).", "service", "kind");

    private static readonly Counter s_crashes = Metrics.CreateCounter("ingest_crashes_total",
        "Crashes (panics, fatal errors, races) of the monitored services, by service and category.", "service", "category");

    public static void Pause(string service, double ms) => s_pause.WithLabels(service).Observe(ms / 1000);
    public static void Anomaly(string service, string kind) => s_anomalies.WithLabels(service, kind).Inc();
    public static void Firing(string service, string kind, int delta) => s_firing.WithLabels(service, kind).Inc(delta);
    public static void Crash(string service, string category) => s_crashes.WithLabels(service, category).Inc();
}
