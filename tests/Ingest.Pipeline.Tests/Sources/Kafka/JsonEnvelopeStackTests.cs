using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Scanning;
using Ingest.Pipeline.Sources.Kafka.Decoding;

namespace Ingest.Pipeline.Tests.Sources.Kafka;

/// <summary>
/// Real zap and logrus records (Corpus/go1.19-detection/structured-log-stacks.txt) inside the envelopes of
/// Fluent Bit (the record as the "log" text), Vector (the record's fields merged into the envelope) and
/// Filebeat (ECS: message, error.message, error.stack_trace), decoded and scanned as the worker does.
/// </summary>
public sealed class JsonEnvelopeStackTests
{
    private static readonly string[] s_records = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Corpus", "go1.19-detection", "structured-log-stacks.txt"));
    private static readonly JsonElement s_zap = JsonDocument.Parse(s_records[2]).RootElement.Clone();
    private static readonly JsonElement s_logrus = JsonDocument.Parse(s_records[4]).RootElement.Clone();

    [Fact]
    public void Fluent_bit_log_text_holding_a_zap_record()
    {
        var crash = Single(Scan(new MessageDecoder(MessageFormat.Json), new { log = s_records[2] + "\n", stream = "stderr", kubernetes = new { pod_name = "checkout-7f9c" } }));
        Assert.Equal(CrashKinds.LoggedStack, crash.Kind);
        Assert.Equal(CrashCategory.LoggedError, crash.Category);
        Assert.Equal("example.com/structlog/orders.(*Service).Checkout", crash.RootCause!.Function);
    }

    [Fact]
    public void Vector_envelope_with_the_zap_fields_merged()
    {
        var envelope = new Dictionary<string, object?>
        {
            ["message"] = s_records[2], ["msg"] = s_zap.GetProperty("msg").GetString(), ["error"] = s_zap.GetProperty("error").GetString(),
            ["stacktrace"] = s_zap.GetProperty("stacktrace").GetString(), ["kubernetes"] = new { pod_name = "checkout-7f9c" },
        };
        var crash = Single(Scan(new MessageDecoder(MessageFormat.Json), envelope));
        Assert.Equal("payment failed", crash.LogMessage);
        Assert.Equal("charge declined for order 42: card expired", crash.Message);
        Assert.Equal(new FrameRef("example.com/structlog/orders.(*Service).Checkout", "/home/dev/go/src/example.com/structlog/orders/orders.go", 32), crash.RootCause);
    }

    [Fact]
    public void Filebeat_ecs_error_stack_trace()
    {
        var envelope = new Dictionary<string, object?>
        {
            ["@timestamp"] = "2024-05-01T10:00:01Z", ["message"] = "order sync failed",
            ["error.message"] = s_logrus.GetProperty("error").GetString(), ["error.stack_trace"] = s_logrus.GetProperty("stack").GetString(),
            ["host.name"] = "node-7",
        };
        var crash = Single(Scan(new MessageDecoder(MessageFormat.Json), envelope));
        Assert.Equal(CrashCategory.IndexOutOfRange, crash.Category);
        Assert.Equal("order sync failed", crash.LogMessage);
        Assert.Equal("example.com/structlog/orders.item", crash.RootCause!.Function);
    }

    [Fact]
    public void The_stack_field_names_come_from_the_mapping()
    {
        var envelope = new Dictionary<string, object?> { ["message"] = "order sync failed", ["exception.stacktrace"] = s_logrus.GetProperty("stack").GetString() };
        // Not a default name: the message alone, no event.
        Assert.Empty(Scan(new MessageDecoder(MessageFormat.Json), envelope));
        var mapping = new JsonFieldMapping { Stack = ["exception.stacktrace"] };
        var crash = Single(Scan(new MessageDecoder(MessageFormat.Json, mapping), envelope));
        Assert.Equal(CrashCategory.LoggedError, crash.Category);
        Assert.Equal("example.com/structlog/orders.item", crash.RootCause!.Function);
    }

    private static CrashEvent Single(List<RuntimeEvent> events) => Assert.IsType<CrashEvent>(Assert.Single(events));

    private static List<RuntimeEvent> Scan(MessageDecoder decoder, object envelope)
    {
        var result = new ConsumeResult<byte[], byte[]>
        {
            Topic = "logs", Partition = new Partition(0), Offset = new Offset(0),
            Message = new Message<byte[], byte[]> { Value = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(envelope)) },
        };
        var lines = new List<DecodedLine>();
        Assert.Null(decoder.Decode(result, lines));
        var events = new List<RuntimeEvent>();
        var scanner = new RuntimeOutputScanner("pod", new AnalyzerOptions(), events.Add);
        for (int i = 0; i < lines.Count; i++) scanner.Push(lines[i].Line.Span, i);
        scanner.Complete();
        return events;
    }
}
