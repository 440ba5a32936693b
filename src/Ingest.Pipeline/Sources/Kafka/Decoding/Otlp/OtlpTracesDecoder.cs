using System.Globalization;
using System.Text;
using System.Text.Json;
using Ingest.Correlation.Model;

namespace Ingest.Pipeline.Sources.Kafka.Decoding.Otlp;

/// <summary>
/// OTLP traces (ExportTraceServiceRequest) as the OpenTelemetry Collector's Kafka exporter writes them,
/// protobuf or JSON, decoded by hand on the same wire reader as the logs (why not generated code: see
/// <see cref="ProtoReader"/>). Spans without trace or span id are skipped; a malformed message is an error for
/// the dead-letter topic.
/// </summary>
public static class OtlpTracesDecoder
{
    private const int MaxSpansPerMessage = 100_000;

    public static string? DecodeProto(ReadOnlySpan<byte> message, List<SpanRecord> into) =>
        ProtoMessages.ForEachResource(message, into, ResourceSpans);

    private static void ResourceSpans(ReadOnlySpan<byte> data, List<SpanRecord> into)
    {
        var resource = new Dictionary<string, string>(StringComparer.Ordinal);
        var scopes = new List<byte[]>();
        var r = new ProtoReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (field == 1 && wire == 2) OtlpLogsDecoder.Attributes(r.ReadBytes(), 1, resource);
            else if (field == 2 && wire == 2) scopes.Add(r.ReadBytes().ToArray());
            else r.Skip(wire);
        }
        foreach (var scope in scopes)
        {
            var s = new ProtoReader(scope);
            while (!s.End)
            {
                var (field, wire) = s.ReadTag();
                if (field == 2 && wire == 2 && into.Count < MaxSpansPerMessage) Span(s.ReadBytes(), resource, into);
                else s.Skip(wire);
            }
        }
    }

    private static void Span(ReadOnlySpan<byte> data, Dictionary<string, string> resource, List<SpanRecord> into)
    {
        string? traceId = null, spanId = null, parent = null, name = null, statusMessage = null;
        long start = 0, end = 0;
        var status = SpanStatus.Unset;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        var exceptions = new List<SpanException>();
        var r = new ProtoReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            switch (field)
            {
                case 1 when wire == 2: traceId = ProtoMessages.Id(r.ReadBytes()); break;
                case 2 when wire == 2: spanId = ProtoMessages.Id(r.ReadBytes()); break;
                case 4 when wire == 2: parent = ProtoMessages.Id(r.ReadBytes()); break;
                case 5 when wire == 2: name = Encoding.UTF8.GetString(r.ReadBytes()); break;
                case 7 when wire == 1: start = (long)r.ReadFixed64(); break;
                case 8 when wire == 1: end = (long)r.ReadFixed64(); break;
                case 9 when wire == 2: OtlpLogsDecoder.Attributes(r.ReadBytes(), 0, attributes, single: true); break;
                case 11 when wire == 2: if (Event(r.ReadBytes()) is { } ex && exceptions.Count < 64) exceptions.Add(ex); break;
                case 15 when wire == 2: (status, statusMessage) = Status(r.ReadBytes()); break;
                default: r.Skip(wire); break;
            }
        }
        Add(into, traceId, spanId, parent, name, start, end, status, statusMessage, attributes, exceptions, resource);
    }

    private static SpanException? Event(ReadOnlySpan<byte> data)
    {
        string? name = null;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        var r = new ProtoReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (field == 2 && wire == 2) name = Encoding.UTF8.GetString(r.ReadBytes());
            else if (field == 3 && wire == 2) OtlpLogsDecoder.Attributes(r.ReadBytes(), 0, attributes, single: true);
            else r.Skip(wire);
        }
        return name == "exception" ? Exception(attributes) : null;
    }

    private static (SpanStatus, string?) Status(ReadOnlySpan<byte> data)
    {
        var status = SpanStatus.Unset;
        string? message = null;
        var r = new ProtoReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (field == 2 && wire == 2) message = Encoding.UTF8.GetString(r.ReadBytes());
            else if (field == 3 && wire == 0) status = r.ReadVarint() switch { 1 => SpanStatus.Ok, 2 => SpanStatus.Error, _ => SpanStatus.Unset };
            else r.Skip(wire);
        }
        return (status, message);
    }

    // --- JSON ---------------------------------------------------------------------------------------

    public static string? DecodeJson(ReadOnlySpan<byte> message, List<SpanRecord> into)
    {
        if (ProtoMessages.ParseJson(message, "resourceSpans", out var doc, out var resourceSpans) is { } error) return error;
        using (doc)
        {
            foreach (var rs in resourceSpans.EnumerateArray())
            {
                var resource = new Dictionary<string, string>(StringComparer.Ordinal);
                if (rs.TryGetProperty("resource", out var res) && res.TryGetProperty("attributes", out var ra)) OtlpLogsDecoder.JsonAttributes(ra, resource);
                if (!rs.TryGetProperty("scopeSpans", out var scopeSpans) || scopeSpans.ValueKind != JsonValueKind.Array) continue;
                foreach (var ss in scopeSpans.EnumerateArray())
                {
                    if (!ss.TryGetProperty("spans", out var spans) || spans.ValueKind != JsonValueKind.Array) continue;
                    foreach (var sp in spans.EnumerateArray())
                    {
                        if (into.Count >= MaxSpansPerMessage) return null;
                        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
                        if (sp.TryGetProperty("attributes", out var a)) OtlpLogsDecoder.JsonAttributes(a, attributes);
                        var exceptions = new List<SpanException>();
                        if (sp.TryGetProperty("events", out var events) && events.ValueKind == JsonValueKind.Array)
                        {
                            foreach (var ev in events.EnumerateArray())
                            {
                                if (Str(ev, "name") != "exception" || exceptions.Count >= 64) continue;
                                var ea = new Dictionary<string, string>(StringComparer.Ordinal);
                                if (ev.TryGetProperty("attributes", out var eattrs)) OtlpLogsDecoder.JsonAttributes(eattrs, ea);
                                exceptions.Add(Exception(ea));
                            }
                        }
                        var status = SpanStatus.Unset;
                        string? statusMessage = null;
                        if (sp.TryGetProperty("status", out var st) && st.ValueKind == JsonValueKind.Object)
                        {
                            statusMessage = Str(st, "message");
                            if (st.TryGetProperty("code", out var code))
                            {
                                status = code.ValueKind == JsonValueKind.Number ? code.GetInt32() switch { 1 => SpanStatus.Ok, 2 => SpanStatus.Error, _ => SpanStatus.Unset }
                                    : code.GetString() switch { "STATUS_CODE_OK" => SpanStatus.Ok, "STATUS_CODE_ERROR" => SpanStatus.Error, _ => SpanStatus.Unset };
                            }
                        }
                        Add(into, ProtoMessages.Id(Str(sp, "traceId")), ProtoMessages.Id(Str(sp, "spanId")), ProtoMessages.Id(Str(sp, "parentSpanId")), Str(sp, "name"),
                            (long)OtlpLogsDecoder.JsonUInt64(sp, "startTimeUnixNano"), (long)OtlpLogsDecoder.JsonUInt64(sp, "endTimeUnixNano"),
                            status, statusMessage, attributes, exceptions, resource);
                    }
                }
            }
            return null;
        }
    }

    // --- shared -------------------------------------------------------------------------------------

    private static void Add(List<SpanRecord> into, string? traceId, string? spanId, string? parent, string? name, long start, long end,
        SpanStatus status, string? statusMessage, Dictionary<string, string> attributes, List<SpanException> exceptions, Dictionary<string, string> resource)
    {
        if (traceId is null || spanId is null) return;
        string service = resource.GetValueOrDefault("service.name") ?? "unknown";
        into.Add(new SpanRecord
        {
            TraceId = traceId,
            SpanId = spanId,
            ParentSpanId = parent,
            Name = name ?? string.Empty,
            Service = service,
            Node = resource.GetValueOrDefault("host.name") ?? resource.GetValueOrDefault("k8s.node.name") ?? resource.GetValueOrDefault("k8s.pod.name") ?? service,
            StartUnixNanos = start,
            EndUnixNanos = Math.Max(start, end),
            Status = status,
            StatusMessage = statusMessage,
            Exceptions = exceptions,
            Hlc = attributes.GetValueOrDefault("hlc"),
        });
    }

    private static SpanException Exception(Dictionary<string, string> a) =>
        new(a.GetValueOrDefault("exception.type"), a.GetValueOrDefault("exception.message"), a.GetValueOrDefault("exception.stacktrace"));

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
