using System.Text.Json;
using Ingest.Correlation.Clocks;
using Ingest.Correlation.Incidents;
using Ingest.Correlation.Model;

namespace Ingest.Pipeline.Correlation;

/// <summary>Detected events on the detections topic: one small JSON object per message.</summary>
public static class DetectionCodec
{
    public static byte[] Encode(DetectedEvent e)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("id", e.Id);
            w.WriteString("kind", FailureKinds.Name(e.Kind));
            w.WriteString("service", e.Service);
            w.WriteString("node", e.Node);
            w.WriteNumber("time_unix_nano", e.TimeUnixNanos);
            if (e.TraceId is { } t) w.WriteString("trace_id", t);
            if (e.SpanId is { } s) w.WriteString("span_id", s);
            if (e.ParentSpanId is { } p) w.WriteString("parent_span_id", p);
            w.WriteString("summary", e.Summary);
            if (e.Fingerprint is { } f) w.WriteString("fingerprint", f);
            if (e.Hlc is { } h) w.WriteString("hlc", h.ToString());
            if (e.Stream is { } stream) w.WriteString("stream", stream);
            if (e.Crash is { } crash)
            {
                w.WriteString("category", crash.Category);
                if (crash.RootCauseFrame is { } frame) w.WriteString("root_cause_frame", frame);
            }
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>Null for anything that is not a detection this version understands.</summary>
    public static DetectedEvent? Decode(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
            using var doc = JsonDocument.ParseValue(ref reader);
            var r = doc.RootElement;
            string? Str(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            FailureKind? kind = FailureKinds.Parse(Str("kind"));
            if (kind is null || Str("id") is not { } id || Str("service") is not { } service || Str("node") is not { } node) return null;
            if (!r.TryGetProperty("time_unix_nano", out var time) || !time.TryGetInt64(out long nanos)) return null;
            return new DetectedEvent
            {
                Id = id, Kind = kind.Value, Service = service, Node = node, TimeUnixNanos = nanos,
                TraceId = Str("trace_id"), SpanId = Str("span_id"), ParentSpanId = Str("parent_span_id"),
                Summary = Str("summary") ?? string.Empty, Fingerprint = Str("fingerprint"),
                Hlc = Str("hlc") is { } h && HybridTimestamp.TryParse(h, out var stamp) ? stamp : null,
                Stream = Str("stream"),
                Crash = kind == FailureKind.Crash && Str("category") is { } category ? new CrashInfo(category, Str("root_cause_frame"), Str("fingerprint")) : null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
