using System.Text;
using Ingest.Correlation.Model;
using Ingest.Pipeline.Sources.Kafka.Decoding.Otlp;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.Sources.Kafka;

public sealed class OtlpTracesDecodingTests
{
    private static readonly SpanRecord s_span = new()
    {
        TraceId = "4bf92f3577b34da6a3ce929d0e0e4736", SpanId = "00f067aa0ba902b7", ParentSpanId = "b7ad6b7169203331", Name = "GET /orders/{id}",
        Service = "orders", Node = "node-b", StartUnixNanos = 1_764_410_400_000_000_000, EndUnixNanos = 1_764_410_400_110_000_000,
        Status = SpanStatus.Error, StatusMessage = "payment failed: EOF",
        Exceptions = [new SpanException("*errors.errorString", "payment failed: EOF", "goroutine 7 [running]:\nmain.main()\n\t/app/main.go:12 +0x1d\n")],
    };

    [Fact]
    public void Protobuf_spans_decode_with_ids_parent_times_status_and_exceptions()
    {
        var bytes = OtlpEncoder.Spans(new Dictionary<string, string> { ["service.name"] = "orders", ["host.name"] = "node-b" }, [s_span]);
        var spans = new List<SpanRecord>();
        Assert.Null(OtlpTracesDecoder.DecodeProto(bytes, spans));
        var s = Assert.Single(spans);
        Assert.Equal(s_span with { Exceptions = s.Exceptions }, s);
        Assert.Equal(s_span.Exceptions, s.Exceptions);
    }

    [Fact]
    public void Json_spans_decode_the_same()
    {
        string json = """
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"orders"}},{"key":"k8s.node.name","value":{"stringValue":"node-b"}}]},
              "scopeSpans":[{"spans":[{"traceId":"4BF92F3577B34DA6A3CE929D0E0E4736","spanId":"00f067aa0ba902b7","parentSpanId":"b7ad6b7169203331",
                "name":"GET /orders/{id}","startTimeUnixNano":"1764410400000000000","endTimeUnixNano":"1764410400110000000",
                "attributes":[{"key":"hlc","value":{"stringValue":"1764410400000000000,2"}}],
                "events":[{"name":"exception","attributes":[{"key":"exception.message","value":{"stringValue":"payment failed: EOF"}}]}],
                "status":{"code":2,"message":"payment failed: EOF"}}]}]}]}
            """;
        var spans = new List<SpanRecord>();
        Assert.Null(OtlpTracesDecoder.DecodeJson(Encoding.UTF8.GetBytes(json), spans));
        var s = Assert.Single(spans);
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", s.TraceId);
        Assert.Equal("node-b", s.Node);
        Assert.Equal(SpanStatus.Error, s.Status);
        Assert.Equal("1764410400000000000,2", s.Hlc);
        Assert.Equal("payment failed: EOF", Assert.Single(s.Exceptions).Message);
    }

    [Fact]
    public void Garbage_is_an_error_not_a_crash()
    {
        var spans = new List<SpanRecord>();
        Assert.NotNull(OtlpTracesDecoder.DecodeProto([0x0a, 0xff, 0xff, 0xff, 0x0f], spans));
        Assert.NotNull(OtlpTracesDecoder.DecodeJson("{\"resourceSpans\":"u8, spans));
        Assert.NotNull(OtlpTracesDecoder.DecodeJson("{}"u8, spans));
        Assert.Empty(spans);
    }
}
