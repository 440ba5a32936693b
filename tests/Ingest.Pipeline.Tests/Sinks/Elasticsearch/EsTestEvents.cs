using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>Indexed events from corpus files, with the metadata a Kubernetes shipper sends.</summary>
public static class EsTestEvents
{
    public static readonly SourceMetadata Metadata = new()
    {
        Service = "checkout", ServiceVersion = "1.4.2", Host = "node-7", Pod = "checkout-7d9f", Namespace = "shop", Container = "app",
        TraceId = "4bf92f3577b34da6a3ce929d0e0e4736", SpanId = "00f067aa0ba902b7",
    };

    public static List<IndexedEvent> From(params string[] files)
    {
        var result = new List<IndexedEvent>();
        int partition = 0;
        foreach (string file in files)
        {
            var stream = new StreamKey("logs", partition++, Path.GetFileNameWithoutExtension(file));
            foreach (var e in StreamAnalyzer.Analyze(Path.Combine(CorpusFeed.Dir, file), new AnalyzerOptions()))
            {
                result.Add(new IndexedEvent
                {
                    Id = IndexedEvent.IdFor(e, stream), Event = e, Stream = stream, FirstOffset = LogRecord.OffsetOf(e.Line),
                    Timestamp = new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero).AddMilliseconds(e.Line), Metadata = Metadata,
                });
            }
        }
        return result;
    }

    public static T Single<T>(List<IndexedEvent> events) where T : RuntimeEvent => (T)events.First(e => e.Event is T).Event;
}
