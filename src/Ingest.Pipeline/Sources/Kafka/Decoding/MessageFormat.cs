namespace Ingest.Pipeline.Sources.Kafka.Decoding;

/// <summary>How the messages of a topic are encoded.</summary>
public enum MessageFormat
{
    /// <summary>The value is log text (one line, or several separated by '\n'); identity from key and headers.</summary>
    Raw,
    /// <summary>A JSON envelope as Fluent Bit, Vector or Filebeat (ECS) ship it; field mapping configurable.</summary>
    Json,
    /// <summary>OTLP logs, protobuf-JSON (the Collector's Kafka exporter, encoding otlp_json).</summary>
    OtlpJson,
    /// <summary>OTLP logs, protobuf (the Collector's Kafka exporter, encoding otlp_proto; its default topic is otlp_logs).</summary>
    OtlpProto,
}

/// <summary>Where a JSON envelope keeps each field: lists of candidate paths, first present wins. Dotted paths
/// match nested objects ("kubernetes.pod_name") and flat dotted keys ("host.name") alike.</summary>
public sealed class JsonFieldMapping
{
    public List<string> Message { get; set; } = ["log", "message", "msg"];
    public List<string> Timestamp { get; set; } = ["@timestamp", "timestamp", "time"];
    public List<string> Stream { get; set; } = ["stream"];
    public List<string> Pod { get; set; } = ["kubernetes.pod_name"];
    public List<string> Namespace { get; set; } = ["kubernetes.namespace_name", "kubernetes.pod_namespace"];
    public List<string> Container { get; set; } = ["kubernetes.container_name", "container.id", "container.name"];
    public List<string> Host { get; set; } = ["kubernetes.host", "kubernetes.pod_node_name", "host.name", "host", "hostname"];
    public List<string> Service { get; set; } = ["service.name", "kubernetes.labels.app.kubernetes.io/name", "kubernetes.labels.app", "service"];
    public List<string> ServiceVersion { get; set; } = ["service.version"];
    public List<string> TraceId { get; set; } = ["trace.id", "trace_id", "traceId"];
    public List<string> SpanId { get; set; } = ["span.id", "span_id", "spanId"];
    /// <summary>A hybrid logical clock stamp the service wrote ("&lt;unix-nanos&gt;,&lt;logical&gt;").</summary>
    public List<string> Hlc { get; set; } = ["hlc"];
    public List<string> CiPipelineId { get; set; } = ["cicd.pipeline.run.id", "ci.pipeline.id", "ci_pipeline_id"];
    /// <summary>
    /// A Go stack the shipper lifted out of the service's record into the envelope (Filebeat's ECS
    /// <c>error.stack_trace</c>, Fluent Bit/Vector merging zap's or logrus's JSON): zap, logrus, ECS names.
    /// </summary>
    public List<string> Stack { get; set; } = ["stacktrace", "stack", "error.stack_trace", "stack_trace"];
    /// <summary>The error text beside such a stack; ECS's nested <c>error.message</c> first (an <c>error</c> object is not text).</summary>
    public List<string> Error { get; set; } = ["error.message", "error", "err", "panic"];
    /// <summary>The record's own message beside such a stack, before the shipper's whole-line fields.</summary>
    public List<string> StackMessage { get; set; } = ["msg", "message", "log"];
}

/// <summary>The lines of one message, or why it could not be decoded.</summary>
public readonly record struct DecodedLine(ReadOnlyMemory<byte> Line, Model.SourceMetadata Metadata, DateTimeOffset? Timestamp);
