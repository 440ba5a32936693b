using System.Diagnostics;

namespace Ingest.Pipeline.Telemetry;

/// <summary>
/// The pipeline's own traces (System.Diagnostics, exported by OpenTelemetry when the worker is configured to).
/// Spans are per batch or per event, never per line: a span per line would cost more than the line. Attributes
/// carry counts, types and Kafka coordinates, never log content or configuration. Metrics have one path, the
/// Prometheus registry (<see cref="Sources.Kafka.PipelineMetrics"/>).
/// </summary>
public static class PipelineTelemetry
{
    public const string SourceName = "Ingest.Pipeline";

    public static readonly ActivitySource Source = new(SourceName, "1.0");

    /// <summary>Span names: polling Kafka for a batch; decoding, assembling and parsing it; one completed event; storing a batch.</summary>
    public const string Consume = "ingest.consume";
    public const string Assemble = "ingest.assemble";
    public const string Parse = "ingest.parse";
    public const string Index = "ingest.index";
}
