using Ingest.Pipeline.Sources.Kafka.Decoding;

namespace Ingest.Pipeline.Correlation;

/// <summary>Where detected events and spans meet: two topics co-partitioned by trace id.</summary>
public sealed class CorrelationTopicsOptions
{
    public const string SectionName = "Correlation";

    public bool Enabled { get; set; } = true;

    /// <summary>Detected failures (small, rare) published by the detecting stage, keyed by trace id or service.</summary>
    public string DetectionsTopic { get; set; } = "ingest-detections";

    /// <summary>Spans from the OpenTelemetry Collector's Kafka exporter (partition_traces_by_id: true).</summary>
    public string SpansTopic { get; set; } = "otlp_spans";

    public MessageFormat SpansFormat { get; set; } = MessageFormat.OtlpProto;

    /// <summary>On (re)assignment the correlator re-reads this much history: its state is a time window.</summary>
    public TimeSpan Lookback { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Re-read all that the topics retain instead of the lookback window. The embedded development cluster
    /// needs it (librdkafka's mock brokers do not look offsets up by time); short-retention topics may too.
    /// </summary>
    public bool ReplayFromBeginning { get; set; }

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DetectionsTopic) || string.IsNullOrWhiteSpace(SpansTopic)) errors.Add("Correlation:DetectionsTopic and Correlation:SpansTopic are required");
        if (DetectionsTopic == SpansTopic) errors.Add("Correlation:DetectionsTopic and Correlation:SpansTopic must differ");
        if (SpansFormat is not (MessageFormat.OtlpProto or MessageFormat.OtlpJson)) errors.Add("Correlation:SpansFormat must be OtlpProto or OtlpJson");
        if (Lookback < TimeSpan.Zero) errors.Add("Correlation:Lookback must not be negative");
        return errors;
    }
}
