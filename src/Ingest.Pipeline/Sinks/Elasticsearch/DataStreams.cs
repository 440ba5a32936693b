using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Serialization;

namespace Ingest.Pipeline.Sinks.Elasticsearch;

/// <summary>
/// One data stream per event type, named {type}-{dataset}-{namespace} as the Elastic data stream naming scheme
/// wants: logs-go.crash-default, metrics-go.gc-default, and so on.
/// </summary>
public static class DataStreams
{
    public sealed record Stream(string EventType, string Type, string Dataset, string EventKind, string[] Categories, string[] EventTypes)
    {
        public string Name(string ns) => $"{Type}-{Dataset}-{ns}";
        public string Pattern => $"{Type}-{Dataset}-*";
        public string TemplateName => $"ingest-{Type}-{Dataset}";
    }

    public static readonly IReadOnlyList<Stream> All =
    [
        new("crash", "logs", "go.crash", "event", ["process"], ["error"]),
        new("goroutine_dump", "logs", "go.goroutine_dump", "event", ["process"], ["info"]),
        new("gc", "metrics", "go.gc", "metric", ["process"], ["info"]),
        new("gc_scavenge", "metrics", "go.gc_scavenge", "metric", ["process"], ["info"]),
        new("tagged_log", "logs", "go.tagged", "event", ["process"], ["info"]),
        new("leak_suspect", "logs", "go.leak_suspect", "alert", ["process"], ["indicator"]),
        new("alert", "logs", "go.alert", "alert", ["process"], ["indicator"]),
        new("build_info", "logs", "go.build_info", "event", ["configuration"], ["info"]),
        new("incident", "logs", "go.incident", "alert", ["process"], ["indicator"]),
        // The dependency graph lives in the incident stream (one document per state; the latest is the graph).
        new("dependency_graph", "logs", "go.incident", "state", ["process"], ["info"]),
    ];

    private static readonly Dictionary<string, Stream> s_byType = All.ToDictionary(s => s.EventType, StringComparer.Ordinal);

    public static Stream For(string eventType) => s_byType[eventType];

    public static Stream For(RuntimeEvent e) => For(EventJsonWriter.TypeName(e.Type));

    /// <summary>One index template per data stream, however many event types share it.</summary>
    public static IEnumerable<IGrouping<string, Stream>> ByTemplate => All.GroupBy(s => s.TemplateName, StringComparer.Ordinal);
}
