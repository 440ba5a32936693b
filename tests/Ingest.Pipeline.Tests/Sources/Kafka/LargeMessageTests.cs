using System.Text;
using Confluent.Kafka;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sources.Kafka.Decoding;

namespace Ingest.Pipeline.Tests.Sources.Kafka;

/// <summary>The path a consumed message takes (decoder, assembler), fed 10 MB messages and garbage directly.</summary>
public sealed class LargeMessageTests
{
    [Theory]
    [InlineData(MessageFormat.Raw)]
    [InlineData(MessageFormat.Json)]
    public void Ten_megabyte_messages_are_cut_and_the_next_crash_is_found(MessageFormat format)
    {
        var decoder = new MessageDecoder(format);
        var events = new List<IndexedEvent>();
        var assembler = new StreamAssembler(new AnalyzerOptions(), new AssemblerOptions(), TimeProvider.System, events.Add);
        long offset = 0;
        void Feed(string text)
        {
            byte[] value = format == MessageFormat.Json
                ? Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { log = text, stream = "stderr" }))
                : Encoding.UTF8.GetBytes(text);
            var result = new ConsumeResult<byte[], byte[]>
            {
                Topic = "logs",
                Partition = new Partition(0),
                Offset = new Offset(offset),
                Message = new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes("pod-1"), Value = value, Timestamp = new Timestamp(DateTime.UtcNow) },
            };
            var lines = new List<DecodedLine>();
            Assert.Null(decoder.Decode(result, lines));
            for (int i = 0; i < lines.Count; i++)
            {
                var l = lines[i];
                assembler.Push(new LogRecord(new StreamKey("logs", 0, l.Metadata.Identity("p0")), l.Line, offset, i, DateTimeOffset.UtcNow, l.Metadata, DateTimeOffset.UtcNow));
            }
            offset++;
        }
        Feed("panic: " + new string('v', 10 * 1024 * 1024));
        Feed(new string('x', 10 * 1024 * 1024));
        foreach (string line in new[] { "panic: boom", "", "goroutine 1 [running]:", "main.main()", "\t/src/main.go:3 +0x1d" }) Feed(line);
        assembler.FlushAll();
        var crashes = events.Select(e => e.Event).OfType<CrashEvent>().ToList();
        Assert.Equal(2, crashes.Count);
        Assert.True(crashes[0].Message.Length <= new AnalyzerOptions().MaxLineBytes);
        Assert.Equal("boom", crashes[1].Message);
        Assert.Equal("main.main", crashes[1].RootCause!.Function);
    }

    [Fact]
    public void Garbage_is_a_dead_letter_for_json_and_plain_text_for_raw()
    {
        var garbage = new byte[1 << 20];
        new Random(3).NextBytes(garbage);
        var result = new ConsumeResult<byte[], byte[]> { Topic = "t", Partition = new Partition(0), Offset = new Offset(0), Message = new Message<byte[], byte[]> { Value = garbage } };
        var lines = new List<DecodedLine>();
        Assert.NotNull(new MessageDecoder(MessageFormat.Json).Decode(result, lines));
        Assert.Null(new MessageDecoder(MessageFormat.Raw).Decode(result, lines));
        Assert.NotEmpty(lines);
    }
}
