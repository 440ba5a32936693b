using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Serialization;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sinks.Elasticsearch;

namespace Ingest.Pipeline.Tests.Model;

public sealed class EventTypesTests
{
    [Fact]
    public void Every_event_type_is_declared_once_with_the_name_its_json_carries()
    {
        var kinds = Enum.GetValues<RuntimeEventType>();
        Assert.Equal(kinds.Length, EventTypes.All.Count);
        Assert.Equal(kinds.Order(), EventTypes.All.Select(t => t.Kind).Order());
        foreach (var kind in kinds)
        {
            var type = EventTypes.For(kind);
            Assert.Equal(EventJsonWriter.TypeName(kind), type.Name);
            Assert.True(EventTypes.TryFor(type.Name, out var back) && back.Kind == kind);
            // Every type has a data stream and a mapping for its go.* fields.
            Assert.Same(type.Stream, DataStreams.For(type.Name));
            Assert.NotNull(ElasticsearchTemplates.GoFields(type.Name)["properties"]);
        }
        Assert.Equal(EventTypes.Names.Count, EventTypes.Names.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Ids_follow_the_origin_so_a_re_read_rewrites_the_same_document()
    {
        var stream = new StreamKey("logs", 3, "pod-a");
        var crash = new CrashEvent { Kind = CrashKinds.Panic, Stream = "pod-a", Line = 1024L * LogRecord.MaxLinesPerMessage + 2, Buckets = [], States = [] };
        Assert.Equal("crash:logs:3:1024:2", IndexedEvent.IdFor(crash, stream));
        var leak = new LeakSuspectEvent { Stream = "pod-a", Line = 0, CreatedBy = "main.spawn", TopFunction = "main.worker", Counts = [1, 5, 9], SnapshotLines = [0, 10, 20] };
        string id = IndexedEvent.IdFor(leak, stream);
        Assert.Matches("^leak_suspect:[0-9a-f]{24}$", id);
        // The same site on the same stream, seen again with more snapshots: the same document.
        var grown = new LeakSuspectEvent { Stream = "pod-a", Line = 10, CreatedBy = "main.spawn", TopFunction = "main.worker", Counts = [1, 5, 9, 14], SnapshotLines = [0, 10, 20, 30] };
        Assert.Equal(id, IndexedEvent.IdFor(grown, stream));
        Assert.NotEqual(id, IndexedEvent.IdFor(grown, new StreamKey("logs", 3, "pod-b")));
    }
}
