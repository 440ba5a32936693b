using System.Text;
using Ingest.Correlation.Model;
using Ingest.Pipeline.Sources.Kafka.Decoding;
using Ingest.Pipeline.Sources.Kafka.Decoding.Otlp;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.Sources.Kafka;

/// <summary>
/// Export request bodies captured from the OpenTelemetry .NET SDK 1.20.1 (OtlpSdkInteropTests with
/// INGEST_OTLP_FIXTURE_DIR set), so decoder changes are checked against real bytes without the SDK in the loop.
/// The SDK writes some message lengths as padded (non-minimal) 4-byte varints, which the project's own encoder never does.
/// </summary>
public sealed class OtlpFixtureTests
{
    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Sources", "Kafka", "Fixtures", name));

    private static readonly string s_panicFile = Path.Combine(CorpusFeed.Dir, "11-custom-panic-error.txt");

    [Fact]
    public void Captured_sdk_spans_decode_exactly()
    {
        var spans = new List<SpanRecord>();
        Assert.Null(OtlpTracesDecoder.DecodeProto(Fixture("dotnet-sdk-traces.pb"), spans));
        SpanRecord Span(string trace, string id, string? parent, string name, long start, long end, SpanStatus status, string? message, string? hlc) => new()
        {
            TraceId = trace, SpanId = id, ParentSpanId = parent, Name = name, Service = "checkout", Node = "node-a",
            StartUnixNanos = start, EndUnixNanos = end, Status = status, StatusMessage = message, Hlc = hlc,
        };
        SpanRecord[] expected =
        [
            Span("4bf92f3577b34da6a3ce929d0e0e4736", "fe1fb08f0cf32a7a", "b9386396999b09ff", "charge", 1_796_112_000_128_456_700, 1_796_112_000_164_456_700, SpanStatus.Error, "payment state corrupted", null),
            Span("4bf92f3577b34da6a3ce929d0e0e4736", "b9386396999b09ff", "00f067aa0ba902b7", "POST /checkout", 1_796_112_000_123_456_700, 1_796_112_000_173_456_700, SpanStatus.Ok, null, "1796112000000000000,3"),
            Span("e87d35e131009b5023d301b20cf6a800", "22ab4b0f62e7c5fc", null, "cache.refresh", 1_796_112_001_123_456_700, 1_796_112_001_123_456_800, SpanStatus.Unset, null, null),
        ];
        Assert.Equal(expected, spans.Select((s, i) => s with { Exceptions = expected[i].Exceptions }));
        Assert.Equal([new SpanException("panic", "payment state corrupted: settle called in state \"refunded\"", File.ReadAllText(s_panicFile))], spans[0].Exceptions);
        Assert.Empty(spans[1].Exceptions);
        Assert.Empty(spans[2].Exceptions);
    }

    [Fact]
    public void Captured_sdk_logs_decode_exactly_and_analyse_like_the_file()
    {
        var lines = new List<DecodedLine>();
        Assert.Null(OtlpLogsDecoder.DecodeProto(Fixture("dotnet-sdk-logs.pb"), lines));
        string[] panic = File.ReadAllText(s_panicFile).TrimEnd('\n').Split('\n');
        Assert.Equal([.. panic, "shutting down"], lines.Select(l => Encoding.UTF8.GetString(l.Line.Span)));
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T08:25:29.9389639Z", System.Globalization.CultureInfo.InvariantCulture), lines[0].Timestamp);
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T08:25:29.9402708Z", System.Globalization.CultureInfo.InvariantCulture), lines[^1].Timestamp);
        var first = lines[0].Metadata;
        Assert.Equal(("checkout", "1.4.2", "node-a", "4bf92f3577b34da6a3ce929d0e0e4736", "bd4f4c2dde4d6b2c", "1796112000000000000,9"),
            (first.Service, first.ServiceVersion, first.Host, first.TraceId, first.SpanId, first.Hlc));
        Assert.All(lines.Take(panic.Length), l => Assert.Equal(first, l.Metadata));
        Assert.Equal("prod/checkout-7f9c/app:stderr", first.Identity("x"));
        Assert.Equal((null, null, null), (lines[^1].Metadata.Stream, lines[^1].Metadata.TraceId, lines[^1].Metadata.SpanId));

        // The crash the decoded lines carry is the one the analyser finds in the original file.
        string decoded = Path.Combine(Directory.CreateTempSubdirectory("ingest-otlp-").FullName, "decoded.txt");
        File.WriteAllLines(decoded, lines.Take(panic.Length).Select(l => Encoding.UTF8.GetString(l.Line.Span)));
        try
        {
            var expected = CorpusFeed.Expected([s_panicFile]).Values.Single();
            Assert.Single(expected);
            Assert.Equal(expected, CorpusFeed.Expected([decoded]).Values.Single());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(decoded)!, recursive: true);
        }
    }
}
