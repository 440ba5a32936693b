using System.Text;
using Confluent.Kafka;
using Ingest.Pipeline.Sources.Kafka.Decoding;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.Sources.Kafka;

public sealed class OtlpDecodingTests
{
    private static readonly Dictionary<string, string> Resource = new()
    {
        ["service.name"] = "checkout",
        ["service.version"] = "1.4.2",
        ["host.name"] = "node-7",
        ["k8s.pod.name"] = "checkout-7f9c",
        ["k8s.namespace.name"] = "prod",
        ["k8s.container.name"] = "app",
    };

    [Fact]
    public void Protobuf_records_become_lines_with_resource_metadata()
    {
        byte[] trace = Convert.FromHexString("0af7651916cd43dd8448eb211c80319c");
        byte[] message = OtlpEncoder.Request(Resource,
            ("panic: boom\n\ngoroutine 1 [running]:\n", 1_714_557_600_123_456_789UL, trace, new Dictionary<string, string> { ["log.iostream"] = "stderr" }),
            ("main.main()", 1_714_557_600_200_000_000UL, null, null));
        var lines = Decode(MessageFormat.OtlpProto, message);
        Assert.Equal(["panic: boom", "", "goroutine 1 [running]:", "main.main()"], lines.Select(l => Encoding.UTF8.GetString(l.Line.Span)));
        var first = lines[0];
        Assert.Equal("checkout", first.Metadata.Service);
        Assert.Equal("1.4.2", first.Metadata.ServiceVersion);
        Assert.Equal("node-7", first.Metadata.Host);
        Assert.Equal("prod/checkout-7f9c/app:stderr", first.Metadata.Identity("x"));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", first.Metadata.TraceId);
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero).AddTicks(1_234_567), first.Timestamp);
        Assert.Null(lines[3].Metadata.TraceId);
    }

    [Fact]
    public void Json_records_become_lines_with_resource_metadata()
    {
        const string json = """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}},{"key":"k8s.pod.name","value":{"stringValue":"checkout-7f9c"}}]},
              "scopeLogs":[{"scope":{"name":"filelog"},"logRecords":[
                {"timeUnixNano":"1714557600000000000","body":{"stringValue":"fatal error: concurrent map writes\n"},"traceId":"0AF7651916CD43DD8448EB211C80319C","spanId":"b7ad6b7169203331","attributes":[{"key":"log.iostream","value":{"stringValue":"stderr"}}]},
                {"timeUnixNano":"1714557600000000001","body":{"intValue":"42"},"traceId":"00000000000000000000000000000000","spanId":""}]}]}]}
            """;
        var lines = Decode(MessageFormat.OtlpJson, Encoding.UTF8.GetBytes(json));
        Assert.Equal(["fatal error: concurrent map writes", "42"], lines.Select(l => Encoding.UTF8.GetString(l.Line.Span)));
        Assert.Equal("checkout", lines[0].Metadata.Service);
        Assert.Equal("b7ad6b7169203331", lines[0].Metadata.SpanId);
        Assert.Equal("checkout-7f9c:stderr", lines[0].Metadata.Identity("x"));
        // Ids in either case match the spans' (lowercase, as the protobuf form decodes); all-zero or empty is none.
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", lines[0].Metadata.TraceId);
        Assert.Equal((null, null), (lines[1].Metadata.TraceId, lines[1].Metadata.SpanId));
    }

    [Fact]
    public void An_all_zero_protobuf_trace_id_is_none_as_for_spans()
    {
        var lines = Decode(MessageFormat.OtlpProto, OtlpEncoder.Request(Resource, ("panic: boom", 1UL, new byte[16], new Dictionary<string, string> { ["trace_id"] = "from-attribute" })));
        Assert.Equal("from-attribute", Assert.Single(lines).Metadata.TraceId);
    }

    [Theory]
    [InlineData(MessageFormat.OtlpProto)]
    [InlineData(MessageFormat.OtlpJson)]
    public void Malformed_messages_are_dead_letters_not_exceptions(MessageFormat format)
    {
        var rng = new Random(9);
        byte[] valid = OtlpEncoder.Request(Resource, ("panic: x", 1UL, null, null));
        for (int i = 0; i < 300; i++)
        {
            byte[] bad = i % 2 == 0 ? valid[..rng.Next(1, valid.Length)] : [.. valid];
            if (i % 2 == 1) bad[rng.Next(bad.Length)] = (byte)rng.Next(256);
            if (format == MessageFormat.OtlpJson) bad = [.. Encoding.UTF8.GetBytes("{\"resourceLogs\":"), .. bad];
            var result = Consume(bad);
            var lines = new List<DecodedLine>();
            _ = new MessageDecoder(format).Decode(result, lines); // either decodes what is there or returns a reason; never throws
        }
        Assert.NotNull(new MessageDecoder(format).Decode(Consume([0x0a, 0xff, 0xff, 0xff, 0x0f]), []));
    }

    private static List<DecodedLine> Decode(MessageFormat format, byte[] value)
    {
        var lines = new List<DecodedLine>();
        Assert.Null(new MessageDecoder(format).Decode(Consume(value), lines));
        return lines;
    }

    private static ConsumeResult<byte[], byte[]> Consume(byte[] value) => new()
    {
        Topic = "otlp_logs",
        Partition = new Partition(0),
        Offset = new Offset(0),
        Message = new Message<byte[], byte[]> { Value = value },
    };
}
