using System.Text;

namespace Ingest.Pipeline.Tests.Support;

/// <summary>
/// Builds OTLP ExportLogsServiceRequest bytes field by field (protobuf wire format), as the Collector's Kafka
/// exporter writes them, so the decoder is tested against the wire layout of opentelemetry/proto/logs/v1.
/// </summary>
public static class OtlpEncoder
{
    public static byte[] Request(IDictionary<string, string> resource, params (string Body, ulong TimeNanos, byte[]? TraceId, IDictionary<string, string>? Attributes)[] records)
    {
        var scope = new List<byte>();
        foreach (var (body, time, trace, attrs) in records)
        {
            var rec = new List<byte>();
            rec.AddRange(Fixed64(1, time));
            rec.AddRange(Len(5, Len(1, Encoding.UTF8.GetBytes(body))));                 // body: AnyValue.string_value
            foreach (var (k, v) in attrs ?? new Dictionary<string, string>()) rec.AddRange(Len(6, KeyValue(k, v)));
            if (trace is not null) rec.AddRange(Len(9, trace));
            rec.AddRange(Varint(2, 17));                                                    // severity_number (skipped)
            scope.AddRange(Len(2, [.. rec]));                                               // ScopeLogs.log_records
        }
        var res = new List<byte>();
        foreach (var (k, v) in resource) res.AddRange(Len(1, KeyValue(k, v)));            // Resource.attributes
        var resourceLogs = new List<byte>();
        resourceLogs.AddRange(Len(1, [.. res]));                                           // ResourceLogs.resource
        resourceLogs.AddRange(Len(2, [.. scope]));                                         // ResourceLogs.scope_logs
        resourceLogs.AddRange(Len(3, Encoding.UTF8.GetBytes("https://opentelemetry.io/schemas/1.21.0")));
        return Len(1, [.. resourceLogs]);                                                   // ExportLogsServiceRequest.resource_logs
    }

    /// <summary>ExportTraceServiceRequest (opentelemetry/proto/trace/v1) with one resource and its spans.</summary>
    public static byte[] Spans(IDictionary<string, string> resource, IEnumerable<Ingest.Correlation.Model.SpanRecord> spans)
    {
        var scope = new List<byte>();
        scope.AddRange(Len(1, Len(1, Encoding.UTF8.GetBytes("example.com/shop"))));      // ScopeSpans.scope.name
        foreach (var sp in spans)
        {
            var span = new List<byte>();
            span.AddRange(Len(1, Convert.FromHexString(sp.TraceId)));
            span.AddRange(Len(2, Convert.FromHexString(sp.SpanId.PadLeft(16, '0'))));
            if (sp.ParentSpanId is { } p) span.AddRange(Len(4, Convert.FromHexString(p.PadLeft(16, '0'))));
            span.AddRange(Len(5, Encoding.UTF8.GetBytes(sp.Name)));
            span.AddRange(Varint(6, 2));                                                      // kind: SERVER
            span.AddRange(Fixed64(7, (ulong)sp.StartUnixNanos));
            span.AddRange(Fixed64(8, (ulong)sp.EndUnixNanos));
            span.AddRange(Len(9, KeyValue("http.route", "/orders")));
            foreach (var ex in sp.Exceptions)
            {
                var ev = new List<byte>();
                ev.AddRange(Fixed64(1, (ulong)sp.EndUnixNanos));
                ev.AddRange(Len(2, Encoding.UTF8.GetBytes("exception")));
                if (ex.Type is { } t) ev.AddRange(Len(3, KeyValue("exception.type", t)));
                if (ex.Message is { } m) ev.AddRange(Len(3, KeyValue("exception.message", m)));
                if (ex.StackTrace is { } st) ev.AddRange(Len(3, KeyValue("exception.stacktrace", st)));
                span.AddRange(Len(11, [.. ev]));
            }
            if (sp.Status != Ingest.Correlation.Model.SpanStatus.Unset || sp.StatusMessage is not null)
            {
                var status = new List<byte>();
                if (sp.StatusMessage is { } msg) status.AddRange(Len(2, Encoding.UTF8.GetBytes(msg)));
                status.AddRange(Varint(3, (ulong)sp.Status));
                span.AddRange(Len(15, [.. status]));
            }
            scope.AddRange(Len(2, [.. span]));                                                // ScopeSpans.spans
        }
        var res = new List<byte>();
        foreach (var (k, v) in resource) res.AddRange(Len(1, KeyValue(k, v)));
        var resourceSpans = new List<byte>();
        resourceSpans.AddRange(Len(1, [.. res]));
        resourceSpans.AddRange(Len(2, [.. scope]));
        return Len(1, [.. resourceSpans]);                                                  // ExportTraceServiceRequest.resource_spans
    }

    private static byte[] KeyValue(string k, string v) => [.. Len(1, Encoding.UTF8.GetBytes(k)), .. Len(2, Len(1, Encoding.UTF8.GetBytes(v)))];

    private static byte[] Len(int field, byte[] payload) => [.. Tag(field, 2), .. VarintBytes((ulong)payload.Length), .. payload];

    private static byte[] Varint(int field, ulong v) => [.. Tag(field, 0), .. VarintBytes(v)];

    private static byte[] Fixed64(int field, ulong v) => [.. Tag(field, 1), .. BitConverter.GetBytes(v)];

    private static byte[] Tag(int field, int wire) => VarintBytes((ulong)((field << 3) | wire));

    private static byte[] VarintBytes(ulong v)
    {
        var b = new List<byte>();
        while (v >= 0x80)
        {
            b.Add((byte)(v | 0x80));
            v >>= 7;
        }
        b.Add((byte)v);
        return [.. b];
    }
}
