using System.Runtime.CompilerServices;
using System.Text.Json;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Elasticsearch;

namespace Ingest.Pipeline.Tests.Model;

public sealed class EventTypesTests
{
    [Fact]
    public void Every_event_type_is_declared_once_with_the_name_its_json_carries()
    {
        // Every concrete event class, the scanner's and the stages' own, has exactly one declaration.
        var classes = new[] { typeof(RuntimeEvent).Assembly, typeof(EventTypes).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => t.IsSubclassOf(typeof(RuntimeEvent)) && !t.IsAbstract)
            .ToList();
        Assert.Equal(10, classes.Count);
        var names = classes.Select(t => ((RuntimeEvent)RuntimeHelpers.GetUninitializedObject(t)).TypeName).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), EventTypes.Names.Order(StringComparer.Ordinal));
        foreach (string name in names)
        {
            Assert.True(EventTypes.TryFor(name, out var type));
            Assert.Equal(name, type.Name);
            // Every type has a data stream and a mapping for its go.* fields.
            Assert.Same(type.Stream, DataStreams.For(type.Name));
            Assert.NotNull(ElasticsearchTemplates.GoFields(type.Name)["properties"]);
        }
        Assert.Equal(EventTypes.Names.Count, EventTypes.Names.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void The_json_type_of_each_event_is_its_registered_name()
    {
        var crash = new CrashEvent { Kind = CrashKinds.Panic, Stream = "pod-a", Line = 0, Buckets = [], States = [] };
        var alert = new GcAlertEvent
        {
            Stream = "pod-a", Line = 0, Service = "svc", Instance = "pod-a", Kind = "gc_thrash", Fingerprint = "f", Status = GcAlertEvent.Firing,
            StartedAt = DateTimeOffset.UnixEpoch, LastSeenAt = DateTimeOffset.UnixEpoch, FirstCycle = 1, LastCycle = 1, Cycles = 1,
            Value = 1, Threshold = 1, PeakValue = 1, Reason = "r",
        };
        var documents = new EventDocument();
        foreach (RuntimeEvent e in new RuntimeEvent[] { crash, alert })
        {
            var indexed = new IndexedEvent
            {
                Id = IndexedEvent.IdFor(e, new StreamKey("logs", 0, "pod-a")), Event = e, Stream = new StreamKey("logs", 0, "pod-a"),
                FirstOffset = 0, Timestamp = DateTimeOffset.UnixEpoch, Metadata = SourceMetadata.Empty,
            };
            using var doc = JsonDocument.Parse(documents.Serialize(indexed));
            Assert.Equal(e.TypeName, doc.RootElement.GetProperty("event").GetProperty("type").GetString());
        }
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
