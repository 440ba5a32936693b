using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Ingest.Pipeline.Telemetry;

/// <summary>
/// The pipeline's own traces and metrics (System.Diagnostics, exported by OpenTelemetry when the worker is
/// configured to). Spans are per batch or per event, never per line: a span per line would cost more than
/// the line. Attributes carry counts, types and Kafka coordinates, never log content or configuration.
/// </summary>
public static class PipelineTelemetry
{
    public const string SourceName = "Ingest.Pipeline";

    public static readonly ActivitySource Source = new(SourceName, "1.0");
    public static readonly Meter Meter = new(SourceName, "1.0");

    public static readonly Counter<long> Messages = Meter.CreateCounter<long>("ingest.messages", "{message}", "Kafka messages consumed.");
    public static readonly Counter<long> Events = Meter.CreateCounter<long>("ingest.events", "{event}", "Runtime events emitted, by type.");
    public static readonly Counter<long> Indexed = Meter.CreateCounter<long>("ingest.index.documents", "{document}", "Documents stored by the sink, by outcome.");
    public static readonly Histogram<double> IndexDuration = Meter.CreateHistogram<double>("ingest.index.duration", "s", "Time to store one batch, retries included.");
    public static readonly Histogram<long> BatchSize = Meter.CreateHistogram<long>("ingest.process.batch_size", "{message}", "Messages per processed batch.");

    /// <summary>Span names: polling Kafka for a batch; decoding, assembling and parsing it; one completed event; storing a batch.</summary>
    public const string Consume = "ingest.consume";
    public const string Assemble = "ingest.assemble";
    public const string Parse = "ingest.parse";
    public const string Index = "ingest.index";
}
