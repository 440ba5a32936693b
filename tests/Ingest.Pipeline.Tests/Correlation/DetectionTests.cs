using System.Text;
using Confluent.Kafka;
using Ingest.Correlation.Clocks;
using Ingest.Correlation.Incidents;
using Ingest.Correlation.Model;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Correlation;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sources.Kafka.Decoding;

namespace Ingest.Pipeline.Tests.Correlation;

public sealed class DetectionTests
{
    [Fact]
    public void A_json_envelope_carries_the_services_hlc_stamp_into_the_detection()
    {
        string json = """{"log":"panic: boom","kubernetes":{"pod_name":"payments-6f7c","host":"node-c"},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","hlc":"1764410400340000000,7"}""";
        var lines = new List<DecodedLine>();
        var result = new ConsumeResult<byte[], byte[]> { Topic = "logs-json", Partition = new Partition(0), Offset = new Offset(3), Message = new Message<byte[], byte[]> { Value = Encoding.UTF8.GetBytes(json) } };
        Assert.Null(new MessageDecoder(MessageFormat.Json).Decode(result, lines));
        var meta = Assert.Single(lines).Metadata;
        Assert.Equal("1764410400340000000,7", meta.Hlc);

        var crash = Ingest.Pipeline.Analysis.StreamAnalyzer.Analyze(Path.Combine(Support.CorpusFeed.Dir, "01-nil-pointer-dereference.txt")).OfType<CrashEvent>().First();
        var stream = new StreamKey("logs-json", 0, meta.Identity("p"));
        var e = new IndexedEvent { Id = IndexedEvent.IdFor(crash, stream), Event = crash, Stream = stream, FirstOffset = 3, Timestamp = DateTimeOffset.UnixEpoch, Metadata = meta };
        var detected = DetectionPublisher.Detect(e)!;
        Assert.Equal(FailureKind.Crash, detected.Kind);
        Assert.Equal(new HybridTimestamp(1764410400340000000, 7), detected.Hlc);
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", detected.TraceId);
        Assert.Equal(crash.Fingerprint, detected.Fingerprint);
        Assert.Equal(new CrashInfo(crash.Category, crash.RootCause!.Function, crash.Fingerprint), detected.Crash);
        Assert.Equal(stream.ToString(), detected.Stream);

        // On the wire and back.
        Assert.Equal(detected, DetectionCodec.Decode(DetectionCodec.Encode(detected)));
        Assert.Null(DetectionCodec.Decode("{\"kind\":\"crash\"}"u8));
        Assert.Null(DetectionCodec.Decode("not json"u8));
    }

    [Fact]
    public void Ordinary_events_are_not_detections()
    {
        var stream = new StreamKey("logs", 0, "pod");
        var gc = new GcCycleEvent
        {
            Stream = "pod", Line = 0,
            Cycle = new GcCycle { Num = 1, AtSeconds = 1, CpuPercent = 1, StwSweepTerminationMs = 0.1, ConcurrentMarkMs = 1, StwMarkTerminationMs = 0.1, ClockPhasesMs = [], CpuPhasesMs = [], HeapStartMb = 4, HeapEndMb = 4, HeapLiveMb = 2, HeapGoalMb = 4, Procs = 4, Forced = false },
        };
        Assert.Null(DetectionPublisher.Detect(new IndexedEvent { Id = "gc:1", Event = gc, Stream = stream, FirstOffset = 0, Timestamp = DateTimeOffset.UnixEpoch, Metadata = SourceMetadata.Empty }));
    }
}
