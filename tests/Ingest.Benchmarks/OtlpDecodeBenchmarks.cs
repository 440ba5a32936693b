using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Google.Protobuf;
using Ingest.Benchmarks.Otlp;
using Ingest.Correlation.Model;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sources.Kafka.Decoding;
using Ingest.Pipeline.Sources.Kafka.Decoding.Otlp;

namespace Ingest.Benchmarks;

/// <summary>
/// The hand-written OTLP reader against Google.Protobuf's generated parser (types from Otlp/otlp.proto via
/// Grpc.Tools) on the bodies captured from the OpenTelemetry .NET SDK, both ending in what the pipeline needs
/// (span records; log lines with their metadata). Requests = 64 concatenates 64 captured bodies, which protobuf
/// reads as one request with all their resources: the size of a Collector batch. Setup checks both give the same.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class OtlpDecodeBenchmarks
{
    private byte[] _traces = [];
    private byte[] _logs = [];

    [Params(1, 64)]
    public int Requests { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _traces = Repeat("dotnet-sdk-traces.pb");
        _logs = Repeat("dotnet-sdk-logs.pb");
        var hand = new List<SpanRecord>();
        if (OtlpTracesDecoder.DecodeProto(_traces, hand) is { } error) throw new InvalidOperationException(error);
        var generated = GeneratedSpans(_traces);
        if (hand.Count != generated.Count || hand.Zip(generated).Any(p => p.First with { Exceptions = [] } != p.Second with { Exceptions = [] } || !p.First.Exceptions.SequenceEqual(p.Second.Exceptions)))
            throw new InvalidOperationException("the generated parser's spans differ from the hand-written decoder's");
        var handLines = new List<DecodedLine>();
        if (OtlpLogsDecoder.DecodeProto(_logs, handLines) is { } logError) throw new InvalidOperationException(logError);
        var generatedLines = GeneratedLines(_logs);
        if (handLines.Count != generatedLines.Count || handLines.Zip(generatedLines).Any(p => !p.First.Line.Span.SequenceEqual(p.Second.Line.Span) || p.First.Metadata != p.Second.Metadata || p.First.Timestamp != p.Second.Timestamp))
            throw new InvalidOperationException("the generated parser's log lines differ from the hand-written decoder's");
    }

    private byte[] Repeat(string fixture)
    {
        byte[] one = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Otlp", "Fixtures", fixture));
        return Enumerable.Repeat(one, Requests).SelectMany(b => b).ToArray();
    }

    [Benchmark(Baseline = true, Description = "hand reader"), BenchmarkCategory("traces")]
    public int HandTraces()
    {
        var spans = new List<SpanRecord>();
        OtlpTracesDecoder.DecodeProto(_traces, spans);
        return spans.Count;
    }

    [Benchmark(Description = "Google.Protobuf generated"), BenchmarkCategory("traces")]
    public int GeneratedTraces() => GeneratedSpans(_traces).Count;

    [Benchmark(Baseline = true, Description = "hand reader"), BenchmarkCategory("logs")]
    public int HandLogs()
    {
        var lines = new List<DecodedLine>();
        OtlpLogsDecoder.DecodeProto(_logs, lines);
        return lines.Count;
    }

    [Benchmark(Description = "Google.Protobuf generated"), BenchmarkCategory("logs")]
    public int GeneratedLogs() => GeneratedLines(_logs).Count;

    // --- the generated path, mapped the way the hand-written decoders map ---------------------------

    private static List<SpanRecord> GeneratedSpans(byte[] body)
    {
        var into = new List<SpanRecord>();
        foreach (var rs in ExportTraceServiceRequest.Parser.ParseFrom(body).ResourceSpans)
        {
            var resource = Attributes(rs.Resource?.Attributes);
            string service = resource.GetValueOrDefault("service.name") ?? "unknown";
            string node = resource.GetValueOrDefault("host.name") ?? resource.GetValueOrDefault("k8s.node.name") ?? resource.GetValueOrDefault("k8s.pod.name") ?? service;
            foreach (var ss in rs.ScopeSpans)
            {
                foreach (var sp in ss.Spans)
                {
                    if (Hex(sp.TraceId) is not { } traceId || Hex(sp.SpanId) is not { } spanId) continue;
                    var exceptions = new List<SpanException>();
                    foreach (var ev in sp.Events)
                    {
                        if (ev.Name != "exception") continue;
                        var a = Attributes(ev.Attributes);
                        exceptions.Add(new SpanException(a.GetValueOrDefault("exception.type"), a.GetValueOrDefault("exception.message"), a.GetValueOrDefault("exception.stacktrace")));
                    }
                    long start = (long)sp.StartTimeUnixNano;
                    into.Add(new SpanRecord
                    {
                        TraceId = traceId,
                        SpanId = spanId,
                        ParentSpanId = Hex(sp.ParentSpanId),
                        Name = sp.Name,
                        Service = service,
                        Node = node,
                        StartUnixNanos = start,
                        EndUnixNanos = Math.Max(start, (long)sp.EndTimeUnixNano),
                        Status = sp.Status is null ? SpanStatus.Unset : (SpanStatus)(int)sp.Status.Code,
                        StatusMessage = string.IsNullOrEmpty(sp.Status?.Message) ? null : sp.Status.Message,
                        Exceptions = exceptions,
                        Hlc = Attributes(sp.Attributes).GetValueOrDefault("hlc"),
                    });
                }
            }
        }
        return into;
    }

    private static List<DecodedLine> GeneratedLines(byte[] body)
    {
        var into = new List<DecodedLine>();
        foreach (var rl in ExportLogsServiceRequest.Parser.ParseFrom(body).ResourceLogs)
        {
            var a = Attributes(rl.Resource?.Attributes);
            var resource = new SourceMetadata
            {
                Service = a.GetValueOrDefault("service.name"),
                ServiceVersion = a.GetValueOrDefault("service.version"),
                CiPipelineId = a.GetValueOrDefault("cicd.pipeline.run.id") ?? a.GetValueOrDefault("ci.pipeline.id"),
                Host = a.GetValueOrDefault("host.name") ?? a.GetValueOrDefault("k8s.node.name"),
                Pod = a.GetValueOrDefault("k8s.pod.name"),
                Namespace = a.GetValueOrDefault("k8s.namespace.name"),
                Container = a.GetValueOrDefault("k8s.container.name") ?? a.GetValueOrDefault("container.name") ?? a.GetValueOrDefault("container.id"),
            };
            foreach (var sl in rl.ScopeLogs)
            {
                foreach (var lr in sl.LogRecords)
                {
                    if (lr.Body is null || Text(lr.Body) is not { } text) continue;
                    var attrs = Attributes(lr.Attributes);
                    var meta = resource with
                    {
                        Stream = attrs.GetValueOrDefault("log.iostream") ?? attrs.GetValueOrDefault("stream"),
                        TraceId = lr.TraceId.IsEmpty ? attrs.GetValueOrDefault("trace_id") : Convert.ToHexStringLower(lr.TraceId.Span),
                        SpanId = lr.SpanId.IsEmpty ? attrs.GetValueOrDefault("span_id") : Convert.ToHexStringLower(lr.SpanId.Span),
                        Hlc = attrs.GetValueOrDefault("hlc"),
                    };
                    ulong nanos = lr.TimeUnixNano != 0 ? lr.TimeUnixNano : lr.ObservedTimeUnixNano;
                    DateTimeOffset? ts = nanos == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)(nanos / 1_000_000)).AddTicks((long)(nanos % 1_000_000) / 100);
                    MessageDecoder.SplitLines(Encoding.UTF8.GetBytes(text), meta, ts, into);
                }
            }
        }
        return into;
    }

    private static Dictionary<string, string> Attributes(IEnumerable<KeyValue>? kvs)
    {
        var into = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in kvs ?? [])
        {
            if (kv.Value is not null && Text(kv.Value) is { } v) into[kv.Key] = v;
        }
        return into;
    }

    private static string? Text(AnyValue v) => v.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => v.StringValue,
        AnyValue.ValueOneofCase.BoolValue => v.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => v.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => v.DoubleValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.BytesValue => v.BytesValue.ToStringUtf8(),
        _ => null,
    };

    private static string? Hex(ByteString id) => id.IsEmpty || !id.Span.ContainsAnyExcept((byte)0) ? null : Convert.ToHexStringLower(id.Span);
}
