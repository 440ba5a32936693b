using System.Text.Json;
using Ingest.Correlation.Clocks;
using Ingest.Correlation.Incidents;
using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Correlation;

/// <summary>An incident as a stored document (event type "incident"): one per incident id, rewritten as it grows.</summary>
public sealed class IncidentEvent : DerivedEvent
{
    public override string TypeName => "incident";
    public required Incident Incident { get; init; }

    public static IncidentEvent From(Incident incident) => new() { Stream = "correlation", Line = 0, Incident = incident };

    public override void WriteFields(Utf8JsonWriter w)
    {
        var i = Incident;
        w.WriteString("classification", i.Classification);
        w.WriteStartObject("root_cause");
        WriteEventFields(w, i.RootCause);
        w.WriteEndObject();
        w.WriteStartArray("path");
        foreach (var p in i.Path)
        {
            w.WriteStartObject();
            w.WriteString("service", p.Service);
            w.WriteString("first_failure", FailureKinds.Name(p.FirstFailure));
            w.WriteString("hlc", p.At.Stamp.ToString());
            w.WriteString("node", p.At.Node);
            w.WriteBoolean("recovered", p.Recovered);
            if (p.RecoveredAtUnixNanos is long at) w.WriteString("recovered_at", Rfc3339.FromUnixNanos(at));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("events");
        foreach (var e in i.Events)
        {
            w.WriteStartObject();
            WriteEventFields(w, e);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        WriteStrings(w, "services", i.Services);
        WriteStrings(w, "nodes", i.Nodes);
        WriteStrings(w, "trace_ids", i.TraceIds);
        w.WriteNumber("event_count", i.Events.Count);
        w.WriteBoolean("clock_skew", i.Events.Any(e => e.ClockSkew));
        w.WriteString("first_hlc", i.RootCause.Stamp.Stamp.ToString());
        w.WriteString("started_at", Rfc3339.FromUnixNanos(i.Events.Min(e => e.Event.TimeUnixNanos)));
        w.WriteString("last_at", Rfc3339.FromUnixNanos(i.Events.Max(e => e.Event.TimeUnixNanos)));
    }

    private static void WriteEventFields(Utf8JsonWriter w, StampedEvent e)
    {
        w.WriteString("id", e.Event.Id);
        w.WriteString("kind", FailureKinds.Name(e.Event.Kind));
        w.WriteString("service", e.Event.Service);
        w.WriteString("node", e.Event.Node);
        w.WriteString("time", Rfc3339.FromUnixNanos(e.Event.TimeUnixNanos));
        w.WriteString("hlc", e.Stamp.Stamp.ToString());
        if (e.Event.TraceId is { } t) w.WriteString("trace_id", t);
        if (e.Event.SpanId is { } s) w.WriteString("span_id", s);
        w.WriteString("summary", e.Event.Summary);
        if (e.Event.Fingerprint is { } f) w.WriteString("fingerprint", f);
        if (e.Event.Crash is { } crash)
        {
            w.WriteString("category", crash.Category);
            if (crash.RootCauseFrame is { } frame) w.WriteString("root_cause_frame", frame);
        }
        w.WriteBoolean("clock_skew", e.ClockSkew);
        w.WriteBoolean("late", e.Late);
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
