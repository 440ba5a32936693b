using System.Security.Cryptography;
using System.Text;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Sinks.Elasticsearch;

namespace Ingest.Pipeline.Model;

/// <summary>
/// Every event type the pipeline stores, declared once: its name (the JSON <c>type</c>, the API's
/// <c>/events/{type}</c>), its data stream and ECS categorisation, and how its document id is derived. The store,
/// the Elasticsearch templates, the API and the id scheme read this table; a test checks it covers every type.
/// </summary>
public static class EventTypes
{
    public sealed record EventType(DataStreams.Stream Stream, Func<RuntimeEvent, StreamKey, string> IdOf)
    {
        public string Name => Stream.EventType;
    }

    public static readonly IReadOnlyList<EventType> All =
    [
        new(new("crash", "logs", "go.crash", "event", ["process"], ["error"]), ByOrigin),
        new(new("goroutine_dump", "logs", "go.goroutine_dump", "event", ["process"], ["info"]), ByOrigin),
        new(new("gc", "metrics", "go.gc", "metric", ["process"], ["info"]), ByOrigin),
        new(new("gc_scavenge", "metrics", "go.gc_scavenge", "metric", ["process"], ["info"]), ByOrigin),
        new(new("tagged_log", "logs", "go.tagged", "event", ["process"], ["info"]), ByOrigin),
        // One document per stream and creation site: a suspect re-derived after a restart upserts the same one.
        new(new("leak_suspect", "logs", "go.leak_suspect", "alert", ["process"], ["indicator"]), (e, stream) =>
        {
            var leak = (LeakSuspectEvent)e;
            byte[] h = SHA256.HashData(Encoding.UTF8.GetBytes($"{stream}|{leak.CreatedBy}|{leak.TopFunction}"));
            return $"leak_suspect:{Convert.ToHexStringLower(h.AsSpan(0, 12))}";
        }),
        // One document per episode: where it opened, and which detector.
        new(new("alert", "logs", "go.alert", "alert", ["process"], ["indicator"]), (e, stream) => $"{ByOrigin(e, stream)}:{((GcAlertEvent)e).Kind}"),
        new(new("build_info", "logs", "go.build_info", "event", ["configuration"], ["info"]), ByOrigin),
        // Correlation names its own documents (incident ids, one graph per worker's partitions).
        new(new("incident", "logs", "go.incident", "alert", ["process"], ["indicator"]), ByOrigin),
        // The dependency graph lives in the incident stream (one document per state; the latest is the graph).
        new(new("dependency_graph", "logs", "go.incident", "state", ["process"], ["info"]), ByOrigin),
    ];

    private static readonly Dictionary<string, EventType> s_byName = All.ToDictionary(t => t.Name, StringComparer.Ordinal);

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(t => t.Name)];

    /// <summary>The declaration of the event's type; an undeclared type is a programming error, caught by a test.</summary>
    public static EventType For(RuntimeEvent e) => s_byName[e.TypeName];

    public static bool TryFor(string name, out EventType type) => s_byName.TryGetValue(name, out type!);

    /// <summary>"crash:logs:3:1024:0": type, topic, partition, offset and line index of the first line.</summary>
    private static string ByOrigin(RuntimeEvent e, StreamKey stream) =>
        $"{e.TypeName}:{stream.Topic}:{stream.Partition}:{LogRecord.OffsetOf(e.Line)}:{LogRecord.LineIndexOf(e.Line)}";
}
