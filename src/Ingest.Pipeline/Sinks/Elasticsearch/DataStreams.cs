using Ingest.GoRuntime.Model;

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

    /// <summary>Declared with their event types (<see cref="Model.EventTypes"/>).</summary>
    public static readonly IReadOnlyList<Stream> All = [.. Model.EventTypes.All.Select(t => t.Stream)];

    private static readonly Dictionary<string, Stream> s_byType = All.ToDictionary(s => s.EventType, StringComparer.Ordinal);

    public static Stream For(string eventType) => s_byType[eventType];

    public static Stream For(RuntimeEvent e) => Model.EventTypes.For(e).Stream;

    /// <summary>One index template per data stream, however many event types share it.</summary>
    public static IEnumerable<IGrouping<string, Stream>> ByTemplate => All.GroupBy(s => s.TemplateName, StringComparer.Ordinal);
}
