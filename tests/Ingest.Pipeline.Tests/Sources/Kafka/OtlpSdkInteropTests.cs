using System.Diagnostics;
using System.Text;
using Ingest.Correlation.Model;
using SourceMetadata = Ingest.Pipeline.Model.SourceMetadata;
using Ingest.Pipeline.Sources.Kafka.Decoding;
using Ingest.Pipeline.Sources.Kafka.Decoding.Otlp;
using Ingest.Pipeline.Tests.Support;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ingest.Pipeline.Tests.Sources.Kafka;

/// <summary>
/// The OTLP decoders against bytes from a real implementation: the OpenTelemetry .NET SDK's OTLP exporter
/// (HTTP/protobuf) posts to a loopback receiver, and each request body, the same ExportTraceServiceRequest /
/// ExportLogsServiceRequest the Collector's Kafka exporter writes, is decoded and compared with what the SDK was
/// given. The SDK (1.20) has no OTLP/JSON mode (OtlpExportProtocol is Grpc or HttpProtobuf), so the JSON
/// decoders are not covered here. Set INGEST_OTLP_FIXTURE_DIR to write the captured bodies as new fixtures.
/// </summary>
public sealed class OtlpSdkInteropTests
{
    private static readonly string s_panic = File.ReadAllText(Path.Combine(CorpusFeed.Dir, "11-custom-panic-error.txt"));
    private static readonly DateTimeOffset s_t0 = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero).AddTicks(1_234_567);
    private const string RemoteTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string RemoteSpan = "00f067aa0ba902b7";
    // The batch timer never fires during a test: the one export is the flush, so each signal is one request.
    private const int BatchDelay = 600_000;

    private static ResourceBuilder Resource() => ResourceBuilder.CreateEmpty()
        .AddService("checkout", serviceNamespace: "shop", serviceVersion: "1.4.2", autoGenerateServiceInstanceId: false, serviceInstanceId: "checkout-7f9c-1")
        .AddAttributes([
            new("host.name", "node-a"),
            new("k8s.pod.name", "checkout-7f9c"),
            new("k8s.namespace.name", "prod"),
            new("k8s.container.name", "app"),
        ]);

    private static void Otlp(OtlpExporterOptions o, OtlpHttpReceiver receiver, string path)
    {
        o.Protocol = OtlpExportProtocol.HttpProtobuf;
        o.Endpoint = new Uri(receiver.BaseAddress, path); // set in code, the endpoint is used as is (no /v1/... appended)
    }

    private static long Nanos(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    [Fact]
    public async Task Sdk_spans_decode_with_ids_parents_times_status_service_node_and_exceptions()
    {
        await using var receiver = await OtlpHttpReceiver.StartAsync();
        using var source = new ActivitySource("interop-" + Guid.NewGuid().ToString("N"), "1.0.0");
        Activity.Current = null;
        Activity server, client, background;
        using (var tracer = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(Resource()).AddSource(source.Name).SetSampler(new AlwaysOnSampler())
            .AddOtlpExporter(o =>
            {
                Otlp(o, receiver, "v1/traces");
                o.BatchExportProcessorOptions.ScheduledDelayMilliseconds = BatchDelay;
            }).Build())
        {
            var remote = new ActivityContext(ActivityTraceId.CreateFromString(RemoteTrace), ActivitySpanId.CreateFromString(RemoteSpan), ActivityTraceFlags.Recorded, isRemote: true);
            server = source.StartActivity("POST /checkout", ActivityKind.Server, remote,
                [new("http.route", "/checkout"), new("hlc", "1796112000000000000,3"), new("http.response.status_code", 500L)], startTime: s_t0)!;
            client = source.StartActivity("charge", ActivityKind.Client, server.Context, startTime: s_t0.AddMilliseconds(5))!;
            client.SetTag("peer.service", "payments");
            client.AddEvent(new ActivityEvent("retry", s_t0.AddMilliseconds(20)));
            client.AddEvent(new ActivityEvent("exception", s_t0.AddMilliseconds(40), new ActivityTagsCollection
            {
                ["exception.type"] = "panic",
                ["exception.message"] = "payment state corrupted: settle called in state \"refunded\"",
                ["exception.stacktrace"] = s_panic,
            }));
            client.SetStatus(ActivityStatusCode.Error, "payment state corrupted");
            client.SetEndTime(s_t0.AddMilliseconds(41).UtcDateTime);
            client.Stop();
            server.SetStatus(ActivityStatusCode.Ok);
            server.SetEndTime(s_t0.AddMilliseconds(50).UtcDateTime);
            server.Stop();
            background = source.StartActivity("cache.refresh", ActivityKind.Internal, default(ActivityContext), startTime: s_t0.AddSeconds(1))!;
            background.SetEndTime(s_t0.AddSeconds(1).AddTicks(1).UtcDateTime);
            background.Stop();
            Assert.True(tracer.ForceFlush(30_000), "the exporter did not flush");
        }

        var request = Assert.Single(receiver.Requests);
        Assert.Equal("/v1/traces", request.Path);
        Assert.Equal("application/x-protobuf", request.ContentType);
        WriteFixture("dotnet-sdk-traces.pb", request.Body);

        var spans = new List<SpanRecord>();
        Assert.Null(OtlpTracesDecoder.DecodeProto(request.Body, spans));
        Assert.Equal(3, spans.Count);
        var byId = spans.ToDictionary(s => s.SpanId);

        var expectedServer = Expected(server, RemoteSpan, SpanStatus.Ok, null, s_t0, s_t0.AddMilliseconds(50)) with { Hlc = "1796112000000000000,3" };
        AssertSpan(expectedServer, [], byId[server.SpanId.ToHexString()]);
        Assert.Equal(RemoteTrace, server.TraceId.ToHexString());

        var expectedClient = Expected(client, server.SpanId.ToHexString(), SpanStatus.Error, "payment state corrupted", s_t0.AddMilliseconds(5), s_t0.AddMilliseconds(41));
        AssertSpan(expectedClient, [new SpanException("panic", "payment state corrupted: settle called in state \"refunded\"", s_panic)], byId[client.SpanId.ToHexString()]);

        var expectedBackground = Expected(background, null, SpanStatus.Unset, null, s_t0.AddSeconds(1), s_t0.AddSeconds(1).AddTicks(1));
        AssertSpan(expectedBackground, [], byId[background.SpanId.ToHexString()]);
        Assert.NotEqual(RemoteTrace, expectedBackground.TraceId);
    }

    [Fact]
    public async Task Sdk_logs_decode_with_body_lines_resource_attributes_times_and_trace_context()
    {
        await using var receiver = await OtlpHttpReceiver.StartAsync();
        var seen = new List<(DateTime Timestamp, string? TraceId, string? SpanId)>();
        Activity.Current = null;
        string[] lines = s_panic.TrimEnd('\n').Split('\n');
        Activity request;
        using (var factory = LoggerFactory.Create(b => b.AddOpenTelemetry(o =>
        {
            o.SetResourceBuilder(Resource());
            o.IncludeFormattedMessage = true;
            o.AddProcessor(new Recorder(seen));
            o.AddOtlpExporter((e, p) =>
            {
                Otlp(e, receiver, "v1/logs");
                p.BatchExportProcessorOptions.ScheduledDelayMilliseconds = BatchDelay;
            });
        })))
        {
            var logger = factory.CreateLogger("example.com/shop");
            // Like the Collector's filelog receiver: one record per line of the service's stderr, inside its request.
            request = new Activity("request").SetParentId(ActivityTraceId.CreateFromString(RemoteTrace), ActivitySpanId.CreateFromString(RemoteSpan), ActivityTraceFlags.Recorded).Start();
            foreach (string line in lines)
            {
                logger.Log(LogLevel.Error, new EventId(7, "stderr"), new List<KeyValuePair<string, object?>>
                {
                    new("log.iostream", "stderr"),
                    new("hlc", "1796112000000000000,9"),
                    new("attempt", 2),
                }, null, (_, _) => line);
            }
            request.Stop();
            logger.Log(LogLevel.Information, default, new List<KeyValuePair<string, object?>>(), null, (_, _) => "shutting down");
        } // disposing the factory shuts the provider down, which exports what is batched and waits for it

        var request0 = Assert.Single(receiver.Requests);
        Assert.Equal("/v1/logs", request0.Path);
        Assert.Equal("application/x-protobuf", request0.ContentType);
        WriteFixture("dotnet-sdk-logs.pb", request0.Body);

        var decoded = new List<DecodedLine>();
        Assert.Null(OtlpLogsDecoder.DecodeProto(request0.Body, decoded));
        Assert.Equal([.. lines, "shutting down"], decoded.Select(l => Encoding.UTF8.GetString(l.Line.Span)));
        Assert.Equal(lines.Length + 1, seen.Count);
        string traceId = request.TraceId.ToHexString(), spanId = request.SpanId.ToHexString();
        Assert.Equal(RemoteTrace, traceId);
        for (int i = 0; i < decoded.Count; i++)
        {
            bool inRequest = i < lines.Length;
            Assert.Equal(inRequest ? (traceId, spanId) : (null, null), (seen[i].TraceId, seen[i].SpanId));
            Assert.Equal(new DateTimeOffset(seen[i].Timestamp), decoded[i].Timestamp);
            Assert.Equal(new SourceMetadata
            {
                Service = "checkout",
                ServiceVersion = "1.4.2",
                Host = "node-a",
                Pod = "checkout-7f9c",
                Namespace = "prod",
                Container = "app",
                Stream = inRequest ? "stderr" : null,
                TraceId = inRequest ? traceId : null,
                SpanId = inRequest ? spanId : null,
                Hlc = inRequest ? "1796112000000000000,9" : null,
            }, decoded[i].Metadata);
        }
        Assert.Equal("prod/checkout-7f9c/app:stderr", decoded[0].Metadata.Identity("x"));
    }

    private static SpanRecord Expected(Activity a, string? parent, SpanStatus status, string? message, DateTimeOffset start, DateTimeOffset end) => new()
    {
        TraceId = a.TraceId.ToHexString(),
        SpanId = a.SpanId.ToHexString(),
        ParentSpanId = parent,
        Name = a.DisplayName,
        Service = "checkout",
        Node = "node-a",
        StartUnixNanos = Nanos(start),
        EndUnixNanos = Nanos(end),
        Status = status,
        StatusMessage = message,
    };

    private static void AssertSpan(SpanRecord expected, SpanException[] exceptions, SpanRecord actual)
    {
        Assert.Equal(expected with { Exceptions = actual.Exceptions }, actual);
        Assert.Equal(exceptions, actual.Exceptions);
    }

    private static void WriteFixture(string name, byte[] body)
    {
        if (Environment.GetEnvironmentVariable("INGEST_OTLP_FIXTURE_DIR") is { Length: > 0 } dir) File.WriteAllBytes(Path.Combine(dir, name), body);
    }

    /// <summary>What the SDK stamped on each record before export: the reference for times and trace context.</summary>
    private sealed class Recorder(List<(DateTime, string?, string?)> seen) : BaseProcessor<OpenTelemetry.Logs.LogRecord>
    {
        public override void OnEnd(OpenTelemetry.Logs.LogRecord data) =>
            seen.Add((data.Timestamp, data.TraceId == default ? null : data.TraceId.ToHexString(), data.SpanId == default ? null : data.SpanId.ToHexString()));
    }
}
