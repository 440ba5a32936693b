using System.Text.Json;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Sinks;

/// <summary>Reads a stored alert document (the API shape, from either store) back into the episode it describes.</summary>
public static class AlertDocuments
{
    public static (GcAlertEvent Alert, IndexedEvent Origin) Parse(string document)
    {
        using var json = JsonDocument.Parse(document);
        var d = json.RootElement;
        var ev = d.GetProperty("event");
        static string? Str(JsonElement el, string name) => el.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        long offset = ev.GetProperty("offset").GetInt64();
        int lineIndex = ev.GetProperty("line_index").GetInt32();
        var stream = new StreamKey(Str(d, "topic")!, d.GetProperty("partition").GetInt32(), Str(d, "source")!);
        var alert = new GcAlertEvent
        {
            Stream = Str(ev, "stream") ?? stream.Source,
            Line = offset * LogRecord.MaxLinesPerMessage + lineIndex,
            EndLine = ev.GetProperty("end_offset").GetInt64() * LogRecord.MaxLinesPerMessage,
            Service = Str(ev, "service")!,
            Instance = Str(ev, "instance")!,
            Kind = Str(ev, "kind")!,
            Fingerprint = Str(ev, "fingerprint")!,
            Status = Str(ev, "status")!,
            StartedAt = ev.GetProperty("started_at").GetDateTimeOffset(),
            LastSeenAt = ev.GetProperty("last_seen_at").GetDateTimeOffset(),
            EndedAt = ev.TryGetProperty("ended_at", out var ended) ? ended.GetDateTimeOffset() : null,
            FirstCycle = ev.GetProperty("first_cycle").GetInt32(),
            LastCycle = ev.GetProperty("last_cycle").GetInt32(),
            Cycles = ev.GetProperty("cycles").GetInt32(),
            Value = ev.GetProperty("value").GetDouble(),
            Threshold = ev.GetProperty("threshold").GetDouble(),
            PeakValue = ev.GetProperty("peak_value").GetDouble(),
            Reason = Str(ev, "reason") ?? string.Empty,
        };
        var metadata = new SourceMetadata
        {
            Service = Str(d, "service"), Host = Str(d, "host"), Pod = Str(d, "pod"), Namespace = Str(d, "namespace"), Container = Str(d, "container"),
        };
        var origin = new IndexedEvent
        {
            Id = Str(d, "id")!, Event = alert, Stream = stream, FirstOffset = offset,
            Timestamp = d.GetProperty("@timestamp").GetDateTimeOffset(), Metadata = metadata,
        };
        return (alert, origin);
    }
}
