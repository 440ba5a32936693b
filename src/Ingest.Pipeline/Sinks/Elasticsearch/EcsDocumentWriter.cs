using System.Globalization;
using System.Text.Json;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Serialization;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Correlation;
using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Sinks.Elasticsearch;

/// <summary>
/// Turns an event into the document its data stream holds: ECS fields where ECS has them (what Kibana and
/// SIEM rules expect), our own under go.* (the event exactly as the API serves it, raw text aside), and the
/// Kafka origin under go.origin so the API can give back the same document from either store.
/// </summary>
public sealed class EcsDocumentWriter(EventDocument? documents = null)
{
    private readonly EventDocument _documents = documents ?? new EventDocument();

    public sealed record Written(string DataStream, string DocumentId, byte[] Source, byte[] ApiDocument);

    /// <summary>
    /// Data streams accept only `create`: a document that changes (an alert episode, a leak suspect) is written
    /// once per state, with the state in its id, and the API reads the latest state per <c>go.episode</c>.
    /// </summary>
    public static string DocumentId(IndexedEvent e) => e.Event switch
    {
        GcAlertEvent a => $"{e.Id}:{a.Status}:{a.Cycles}",
        LeakSuspectEvent l => $"{e.Id}:{l.Counts.Count}",
        IncidentEvent or DependencyGraphEvent => $"{e.Id}:{e.Timestamp.ToUnixTimeMilliseconds()}",
        _ => e.Id,
    };

    public Written Write(IndexedEvent e, string ns)
    {
        byte[] api = _documents.Serialize(e);
        using var doc = JsonDocument.Parse(api);
        var root = doc.RootElement;
        var ev = root.GetProperty("event");
        string type = e.Event.TypeName;
        var stream = DataStreams.For(type);
        var m = e.Metadata;

        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, EventJsonWriter.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("@timestamp", e.Timestamp);
            w.WriteString("message", Message(e.Event));
            w.WriteStartObject("data_stream");
            w.WriteString("type", stream.Type);
            w.WriteString("dataset", stream.Dataset);
            w.WriteString("namespace", ns);
            w.WriteEndObject();
            w.WriteStartObject("event");
            w.WriteString("kind", stream.EventKind);
            WriteArray(w, "category", stream.Categories);
            WriteArray(w, "type", stream.EventTypes);
            w.WriteString("dataset", stream.Dataset);
            w.WriteString("module", "go");
            w.WriteString("id", e.Id);
            w.WriteEndObject();
            string? raw = ev.TryGetProperty("raw_text", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            if (e.Event is CrashEvent crash)
            {
                w.WriteStartObject("error");
                w.WriteString("type", crash.Category);
                w.WriteString("message", crash.Message);
                if (raw is not null) w.WriteString("stack_trace", raw);
                w.WriteString("grouping_key", crash.Fingerprint);
                w.WriteEndObject();
            }
            w.WriteStartObject("service");
            w.WriteString("name", (e.Event as GcAlertEvent)?.Service ?? m.ServiceName ?? SourceMetadata.UnknownService);
            if (m.ServiceVersion is not null) w.WriteString("version", m.ServiceVersion);
            w.WriteEndObject();
            if (m.Host is not null)
            {
                w.WriteStartObject("host");
                w.WriteString("name", m.Host);
                w.WriteEndObject();
            }
            if (m.Container is not null)
            {
                w.WriteStartObject("container");
                w.WriteString("name", m.Container);
                w.WriteEndObject();
            }
            if (m.Pod is not null || m.Namespace is not null)
            {
                w.WriteStartObject("orchestrator");
                w.WriteString("type", "kubernetes");
                if (m.Namespace is not null) w.WriteString("namespace", m.Namespace);
                w.WriteEndObject();
                w.WriteStartObject("kubernetes");
                if (m.Pod is not null)
                {
                    w.WriteStartObject("pod");
                    w.WriteString("name", m.Pod);
                    w.WriteEndObject();
                }
                if (m.Namespace is not null) w.WriteString("namespace", m.Namespace);
                if (m.Container is not null)
                {
                    w.WriteStartObject("container");
                    w.WriteString("name", m.Container);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            if (m.TraceId is not null)
            {
                w.WriteStartObject("trace");
                w.WriteString("id", m.TraceId);
                w.WriteEndObject();
            }
            if (m.SpanId is not null)
            {
                w.WriteStartObject("span");
                w.WriteString("id", m.SpanId);
                w.WriteEndObject();
            }

            // go.*: the event as the API shows it. A crash's raw text lives once, in error.stack_trace.
            w.WriteStartObject("go");
            foreach (var p in ev.EnumerateObject())
            {
                if (p.NameEquals("raw_text")) continue;
                p.WriteTo(w);
            }
            if (raw is not null && e.Event is not CrashEvent) w.WriteString("raw_text", raw);
            w.WriteString("episode", e.Id);
            w.WriteStartObject("origin");
            w.WriteString("id", e.Id);
            w.WriteString("topic", e.Stream.Topic);
            w.WriteNumber("partition", e.Stream.Partition);
            w.WriteNumber("offset", e.FirstOffset);
            w.WriteNumber("end_pos", e.Event.EndLine);
            w.WriteString("source", e.Stream.Source);
            if (m.Service is not null) w.WriteString("service", m.Service);
            if (m.CiPipelineId is not null) w.WriteString("ci_pipeline_id", m.CiPipelineId);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return new Written(stream.Name(ns), DocumentId(e), ms.ToArray(), api);
    }

    /// <summary>The API's document back from a stored _source (the inverse of <see cref="Write"/>).</summary>
    public static string ToApiDocument(JsonElement source)
    {
        var go = source.GetProperty("go");
        var origin = go.GetProperty("origin");
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, EventJsonWriter.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("id", origin.GetProperty("id").GetString());
            w.WriteString("@timestamp", source.GetProperty("@timestamp").GetString());
            w.WriteString("topic", origin.GetProperty("topic").GetString());
            w.WriteNumber("partition", origin.GetProperty("partition").GetInt32());
            w.WriteString("source", origin.GetProperty("source").GetString());
            if (origin.TryGetProperty("service", out var svc)) w.WriteString("service", svc.GetString());
            if (source.TryGetProperty("service", out var service) && service.TryGetProperty("version", out var version)) w.WriteString("service_version", version.GetString());
            if (origin.TryGetProperty("ci_pipeline_id", out var pipeline)) w.WriteString("ci_pipeline_id", pipeline.GetString());
            if (source.TryGetProperty("host", out var host)) w.WriteString("host", host.GetProperty("name").GetString());
            if (source.TryGetProperty("kubernetes", out var k8s))
            {
                if (k8s.TryGetProperty("pod", out var pod)) w.WriteString("pod", pod.GetProperty("name").GetString());
                if (k8s.TryGetProperty("namespace", out var ns)) w.WriteString("namespace", ns.GetString());
            }
            if (source.TryGetProperty("container", out var container)) w.WriteString("container", container.GetProperty("name").GetString());
            if (source.TryGetProperty("trace", out var trace)) w.WriteString("trace_id", trace.GetProperty("id").GetString());
            if (source.TryGetProperty("span", out var span)) w.WriteString("span_id", span.GetProperty("id").GetString());
            w.WriteStartObject("event");
            string? raw = null;
            foreach (var p in go.EnumerateObject())
            {
                if (p.NameEquals("origin") || p.NameEquals("episode")) continue;
                if (p.NameEquals("raw_text"))
                {
                    raw = p.Value.GetString();
                    continue;
                }
                p.WriteTo(w);
            }
            if (raw is null && source.TryGetProperty("error", out var error) && error.TryGetProperty("stack_trace", out var st)) raw = st.GetString();
            if (raw is not null) w.WriteString("raw_text", raw);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteArray(Utf8JsonWriter w, string name, string[] values)
    {
        w.WriteStartArray(name);
        foreach (string v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static string Message(RuntimeEvent e) => e switch
    {
        CrashEvent c => c.Message,
        GoroutineDumpEvent d => $"goroutine dump: {d.GoroutineCount} goroutines",
        GcCycleEvent g => string.Create(CultureInfo.InvariantCulture, $"gc {g.Cycle.Num}: pause {g.Cycle.PauseMs:0.###} ms, {g.Cycle.HeapLiveMb} MB live, {g.Cycle.HeapGoalMb} MB goal"),
        TaggedLogEvent t => t.Message,
        GcAlertEvent a => $"{a.Kind} {a.Status}: {a.Reason}",
        LeakSuspectEvent l => $"goroutine leak suspect: {l.TopFunction}",
        GcScavengeEvent => "scavenger",
        BuildInfoEvent b => $"build: {b.MainModule ?? b.Path} {b.MainVersion} with {b.GoVersion}",
        _ => e.TypeName,
    };
}
