using System.Text.Json;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Serialization;
using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Sinks;

/// <summary>The stored JSON document of an event: the analyser's event shape plus origin and producer fields.</summary>
public sealed class EventDocument(FrameSemanticsOptions? semantics = null)
{
    private readonly EventJsonWriter _writer = new(semantics)
    {
        WritePosition = static (w, e) =>
        {
            w.WriteNumber("offset", LogRecord.OffsetOf(e.Line));
            w.WriteNumber("line_index", LogRecord.LineIndexOf(e.Line));
            w.WriteNumber("end_offset", LogRecord.OffsetOf(e.EndLine));
        },
    };

    public byte[] Serialize(IndexedEvent e)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, EventJsonWriter.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("id", e.Id);
            w.WriteString("@timestamp", e.Timestamp);
            w.WriteString("topic", e.Stream.Topic);
            w.WriteNumber("partition", e.Stream.Partition);
            w.WriteString("source", e.Stream.Source);
            var m = e.Metadata;
            if (m.Service is not null) w.WriteString("service", m.Service);
            if (m.ServiceVersion is not null) w.WriteString("service_version", m.ServiceVersion);
            if (m.CiPipelineId is not null) w.WriteString("ci_pipeline_id", m.CiPipelineId);
            if (m.Host is not null) w.WriteString("host", m.Host);
            if (m.Pod is not null) w.WriteString("pod", m.Pod);
            if (m.Namespace is not null) w.WriteString("namespace", m.Namespace);
            if (m.Container is not null) w.WriteString("container", m.Container);
            if (m.TraceId is not null) w.WriteString("trace_id", m.TraceId);
            if (m.SpanId is not null) w.WriteString("span_id", m.SpanId);
            w.WritePropertyName("event");
            if (e.Event is DerivedEvent derived)
            {
                _writer.WriteHeader(w, derived);
                derived.WriteFields(w);
                w.WriteEndObject();
            }
            else
            {
                _writer.Write(w, e.Event);
            }
            w.WriteEndObject();
        }
        return ms.ToArray();
    }
}
