using System.Text.Json;
using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Analysis;

/// <summary>
/// One GC anomaly episode of one instance: opened by the first anomalous cycle, updated while the anomaly
/// persists (one document, not one per cycle), resolved by the first cycle without it or when the instance
/// goes quiet. <see cref="RuntimeEvent.Line"/> is the position of the cycle that opened it.
/// </summary>
public sealed class GcAlertEvent : DerivedEvent
{
    public override string TypeName => "alert";
    public required string Service { get; init; }
    public required string Instance { get; init; }
    /// <summary>pause_outlier, pause_slo, pacer_overshoot, gc_thrash, heap_growth.</summary>
    public required string Kind { get; init; }
    /// <summary>Stable per (service, instance, kind): what Alertmanager and postmortems group by.</summary>
    public required string Fingerprint { get; init; }
    public required string Status { get; set; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset LastSeenAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public required int FirstCycle { get; init; }
    public required int LastCycle { get; set; }
    /// <summary>Anomalous cycles in the episode.</summary>
    public required int Cycles { get; set; }
    public required double Value { get; set; }
    public required double Threshold { get; set; }
    public required double PeakValue { get; set; }
    public required string Reason { get; set; }

    public const string Firing = "firing";
    public const string Resolved = "resolved";

    public override void WriteFields(Utf8JsonWriter w)
    {
        w.WriteString("service", Service);
        w.WriteString("instance", Instance);
        w.WriteString("kind", Kind);
        w.WriteString("fingerprint", Fingerprint);
        w.WriteString("status", Status);
        w.WriteString("started_at", StartedAt);
        w.WriteString("last_seen_at", LastSeenAt);
        if (EndedAt is { } ended) w.WriteString("ended_at", ended);
        w.WriteNumber("first_cycle", FirstCycle);
        w.WriteNumber("last_cycle", LastCycle);
        w.WriteNumber("cycles", Cycles);
        w.WriteNumber("value", Math.Round(Value, 6));
        w.WriteNumber("peak_value", Math.Round(PeakValue, 6));
        w.WriteNumber("threshold", Math.Round(Threshold, 6));
        w.WriteString("reason", Reason);
    }
}
