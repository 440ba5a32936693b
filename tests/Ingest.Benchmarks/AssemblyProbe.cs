using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Ingest.GoRuntime.Analysis;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sources.Kafka.Decoding;

namespace Ingest.Benchmarks;

/// <summary>Decode + assemble without Kafka: what the consume loop does per message, in isolation.</summary>
public static class AssemblyProbe
{
    public static int Run(int lines, int streams)
    {
        var results = new List<ConsumeResult<byte[], byte[]>>(lines);
        var rng = new Random(1);
        for (int i = 0; i < lines; i++)
        {
            string key = "pod-" + (i % streams);
            results.Add(new ConsumeResult<byte[], byte[]>
            {
                Topic = "bench",
                Partition = new Partition(i % 32),
                Offset = new Offset(i),
                Message = new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(key), Value = Encoding.UTF8.GetBytes($"time=2024-05-01T10:00:00Z level=info msg=\"request served\" path=/orders/{rng.Next(100000)} status=200 pod={key}"), Timestamp = new Timestamp(DateTime.UtcNow) },
            });
        }
        for (int round = 0; round < 3; round++)
        {
            var decoder = new MessageDecoder(MessageFormat.Raw);
            var assembler = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions(), TimeProvider.System, _ => { });
            var decoded = new List<DecodedLine>();
            long a0 = GC.GetTotalAllocatedBytes(true);
            int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
            var sw = Stopwatch.StartNew();
            foreach (var r in results)
            {
                decoded.Clear();
                decoder.Decode(r, decoded);
                foreach (var l in decoded)
                {
                    assembler.Push(new LogRecord(new StreamKey(r.Topic, r.Partition.Value, l.Metadata.Identity("p")), l.Line, r.Offset.Value, 0, DateTimeOffset.UtcNow, l.Metadata, DateTimeOffset.UtcNow));
                }
                assembler.FlushExpired();
            }
            Console.WriteLine($"decode+assemble: {lines / sw.Elapsed.TotalSeconds:N0} lines/s ({sw.Elapsed.TotalMilliseconds * 1000 / lines:0.00} us/line), allocated {(GC.GetTotalAllocatedBytes(true) - a0) / 1e6:0.0} MB, GCs {GC.CollectionCount(0) - g0}/{GC.CollectionCount(1) - g1}/{GC.CollectionCount(2) - g2}, pause {GC.GetTotalPauseDuration().TotalMilliseconds:0} ms total");
        }
        return 0;
    }
}
