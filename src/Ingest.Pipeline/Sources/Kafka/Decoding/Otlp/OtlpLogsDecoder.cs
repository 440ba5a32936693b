using System.Globalization;
using System.Text;
using System.Text.Json;
using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Sources.Kafka.Decoding.Otlp;

/// <summary>
/// OTLP logs as the OpenTelemetry Collector's Kafka exporter writes them: one ExportLogsServiceRequest per
/// message, protobuf (<c>otlp_proto</c>) or protobuf-JSON (<c>otlp_json</c>). Resource attributes give the
/// producer (service.name, host.name, k8s.*); each record's string body is split into lines.
/// </summary>
public static class OtlpLogsDecoder
{
    private sealed class Record
    {
        public string? Body;
        public ulong TimeUnixNano;
        public ulong ObservedUnixNano;
        public string? TraceId;
        public string? SpanId;
    }

    // --- protobuf ---------------------------------------------------------------------------------

    public static string? DecodeProto(ReadOnlySpan<byte> message, List<DecodedLine> into) =>
        ProtoMessages.ForEachResource(message, into, ResourceLogs);

    private static void ResourceLogs(ReadOnlySpan<byte> data, List<DecodedLine> into)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        var records = new List<(Record Record, Dictionary<string, string> Attributes)>();
        var r = new ProtoReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (field == 1 && wire == 2) Attributes(r.ReadBytes(), 1, attributes);     // Resource.attributes = 1
            else if (field == 2 && wire == 2) ScopeLogs(r.ReadBytes(), records);
            else r.Skip(wire);
        }
        var resource = Metadata(attributes);
        foreach (var (rec, attrs) in records) Emit(rec, attrs, resource, into);
    }

    private static void ScopeLogs(ReadOnlySpan<byte> data, List<(Record, Dictionary<string, string>)> records)
    {
        var r = new ProtoReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (field == 2 && wire == 2) records.Add(LogRecord(r.ReadBytes()));
            else r.Skip(wire);
        }
    }

    private static (Record, Dictionary<string, string>) LogRecord(ReadOnlySpan<byte> data)
    {
        var rec = new Record();
        var attrs = new Dictionary<string, string>(StringComparer.Ordinal);
        var r = new ProtoReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            switch (field)
            {
                case 1 when wire == 1: rec.TimeUnixNano = r.ReadFixed64(); break;
                case 11 when wire == 1: rec.ObservedUnixNano = r.ReadFixed64(); break;
                case 5 when wire == 2: rec.Body = AnyValue(r.ReadBytes()); break;
                case 6 when wire == 2: KeyValue(r.ReadBytes(), attrs); break;
                case 9 when wire == 2: rec.TraceId = ProtoMessages.Id(r.ReadBytes()); break;
                case 10 when wire == 2: rec.SpanId = ProtoMessages.Id(r.ReadBytes()); break;
                default: r.Skip(wire); break;
            }
        }
        return (rec, attrs);
    }

    /// <summary>A message whose field <paramref name="field"/> holds repeated KeyValue.</summary>
    internal static void Attributes(ReadOnlySpan<byte> data, int field, Dictionary<string, string> into, bool single = false)
    {
        // single: data is one KeyValue (a repeated attributes field read element by element).
        if (single)
        {
            KeyValue(data, into);
            return;
        }
        var r = new ProtoReader(data);
        while (!r.End)
        {
            var (f, wire) = r.ReadTag();
            if (f == field && wire == 2) KeyValue(r.ReadBytes(), into);
            else r.Skip(wire);
        }
    }

    private static void KeyValue(ReadOnlySpan<byte> data, Dictionary<string, string> into)
    {
        string? key = null, value = null;
        var r = new ProtoReader(data);
        while (!r.End)
        {
            var (f, wire) = r.ReadTag();
            if (f == 1 && wire == 2) key = Encoding.UTF8.GetString(r.ReadBytes());
            else if (f == 2 && wire == 2) value = AnyValue(r.ReadBytes());
            else r.Skip(wire);
        }
        if (key is not null && value is not null && into.Count < 256) into[key] = value;
    }

    /// <summary>AnyValue as text: strings as they are, scalars formatted, nested values skipped.</summary>
    private static string? AnyValue(ReadOnlySpan<byte> data)
    {
        string? result = null;
        var r = new ProtoReader(data);
        while (!r.End)
        {
            var (f, wire) = r.ReadTag();
            switch (f)
            {
                case 1 when wire == 2: result = Encoding.UTF8.GetString(r.ReadBytes()); break;
                case 2 when wire == 0: result = r.ReadVarint() != 0 ? "true" : "false"; break;
                case 3 when wire == 0: result = ((long)r.ReadVarint()).ToString(CultureInfo.InvariantCulture); break;
                case 4 when wire == 1: result = BitConverter.UInt64BitsToDouble(r.ReadFixed64()).ToString(CultureInfo.InvariantCulture); break;
                case 7 when wire == 2: result = Encoding.UTF8.GetString(r.ReadBytes()); break;
                default: r.Skip(wire); break;
            }
        }
        return result;
    }

    // --- JSON ---------------------------------------------------------------------------------------

    public static string? DecodeJson(ReadOnlySpan<byte> message, List<DecodedLine> into)
    {
        if (ProtoMessages.ParseJson(message, "resourceLogs", out var doc, out var resourceLogs) is { } error) return error;
        using (doc)
        {
            foreach (var rl in resourceLogs.EnumerateArray())
            {
                var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
                if (rl.TryGetProperty("resource", out var res) && res.TryGetProperty("attributes", out var ra)) JsonAttributes(ra, attributes);
                var resource = Metadata(attributes);
                if (!rl.TryGetProperty("scopeLogs", out var scopeLogs) || scopeLogs.ValueKind != JsonValueKind.Array) continue;
                foreach (var sl in scopeLogs.EnumerateArray())
                {
                    if (!sl.TryGetProperty("logRecords", out var logRecords) || logRecords.ValueKind != JsonValueKind.Array) continue;
                    foreach (var lr in logRecords.EnumerateArray())
                    {
                        var rec = new Record
                        {
                            Body = lr.TryGetProperty("body", out var body) ? JsonAnyValue(body) : null,
                            TimeUnixNano = JsonUInt64(lr, "timeUnixNano"),
                            ObservedUnixNano = JsonUInt64(lr, "observedTimeUnixNano"),
                            TraceId = lr.TryGetProperty("traceId", out var t) && t.ValueKind == JsonValueKind.String ? ProtoMessages.Id(t.GetString()) : null,
                            SpanId = lr.TryGetProperty("spanId", out var s) && s.ValueKind == JsonValueKind.String ? ProtoMessages.Id(s.GetString()) : null,
                        };
                        var attrs = new Dictionary<string, string>(StringComparer.Ordinal);
                        if (lr.TryGetProperty("attributes", out var la)) JsonAttributes(la, attrs);
                        Emit(rec, attrs, resource, into);
                    }
                }
            }
            return null;
        }
    }

    internal static void JsonAttributes(JsonElement array, Dictionary<string, string> into)
    {
        if (array.ValueKind != JsonValueKind.Array) return;
        foreach (var kv in array.EnumerateArray())
        {
            if (kv.ValueKind == JsonValueKind.Object && kv.TryGetProperty("key", out var k) && k.ValueKind == JsonValueKind.String &&
                kv.TryGetProperty("value", out var v) && JsonAnyValue(v) is { } value && into.Count < 256)
            {
                into[k.GetString()!] = value;
            }
        }
    }

    private static string? JsonAnyValue(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Object) return null;
        foreach (var p in v.EnumerateObject())
        {
            switch (p.Name)
            {
                case "stringValue" when p.Value.ValueKind == JsonValueKind.String: return p.Value.GetString();
                case "intValue":
                case "doubleValue":
                case "boolValue":
                    return p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText();
            }
        }
        return null;
    }

    internal static ulong JsonUInt64(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v)) return 0;
        if (v.ValueKind == JsonValueKind.String && ulong.TryParse(v.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong s)) return s;
        return v.ValueKind == JsonValueKind.Number && v.TryGetUInt64(out ulong n) ? n : 0;
    }

    // --- shared -------------------------------------------------------------------------------------

    private static SourceMetadata Metadata(Dictionary<string, string> a) => new()
    {
        Service = a.GetValueOrDefault("service.name"),
        ServiceVersion = a.GetValueOrDefault("service.version"),
        CiPipelineId = a.GetValueOrDefault("cicd.pipeline.run.id") ?? a.GetValueOrDefault("ci.pipeline.id"),
        Host = a.GetValueOrDefault("host.name") ?? a.GetValueOrDefault("k8s.node.name"),
        Pod = a.GetValueOrDefault("k8s.pod.name"),
        Namespace = a.GetValueOrDefault("k8s.namespace.name"),
        Container = a.GetValueOrDefault("k8s.container.name") ?? a.GetValueOrDefault("container.name") ?? a.GetValueOrDefault("container.id"),
    };

    private static void Emit(Record rec, Dictionary<string, string> attrs, SourceMetadata resource, List<DecodedLine> into)
    {
        if (rec.Body is null) return;
        var meta = resource with
        {
            Stream = attrs.GetValueOrDefault("log.iostream") ?? attrs.GetValueOrDefault("stream"),
            TraceId = rec.TraceId is { Length: > 0 } ? rec.TraceId : attrs.GetValueOrDefault("trace_id"),
            SpanId = rec.SpanId is { Length: > 0 } ? rec.SpanId : attrs.GetValueOrDefault("span_id"),
            Hlc = attrs.GetValueOrDefault("hlc"),
        };
        ulong nanos = rec.TimeUnixNano != 0 ? rec.TimeUnixNano : rec.ObservedUnixNano;
        DateTimeOffset? ts = nanos == 0 || nanos > (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() * 1_000_000 ? null
            : DateTimeOffset.FromUnixTimeMilliseconds((long)(nanos / 1_000_000)).AddTicks((long)(nanos % 1_000_000) / 100);
        MessageDecoder.SplitLines(Encoding.UTF8.GetBytes(rec.Body), meta, ts, into);
    }
}
