using Confluent.Kafka;
using Ingest.GoRuntime.Analysis;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Delivery;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Sqlite;
using Ingest.Pipeline.Sources.Kafka;

namespace Ingest.Benchmarks;

/// <summary>The worker as `ingest serve` wires it (source thread, sink host, SQLite in a temp folder), for benchmarks.</summary>
public sealed class BenchWorker : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-bench-").FullName;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _stopSink = new();
    private readonly PipelineMetrics _metrics = new();
    private readonly Task _sinkTask;
    private readonly Thread _thread;

    public BenchWorker(string bootstrap, string group, string topic)
    {
        Store = new SqliteEventStore(Path.Combine(_dir, "events.db"));
        var tracker = new OffsetTracker();
        Sink = new BatchingSinkHost(Store, new SinkHostOptions(), b =>
        {
            foreach (var e in b) tracker.Acked(e);
        });
        _sinkTask = Task.Run(() => Sink.RunAsync(_stopSink.Token));
        Source = new KafkaLogSource(new KafkaSourceOptions { BootstrapServers = bootstrap, GroupId = group, Topics = [new TopicOptions { Name = topic }] },
            new AnalyzerOptions(), new AssemblerOptions(), Sink, tracker, _metrics, Store);
        _thread = new Thread(() => Source.Run(_stop.Token)) { Name = "kafka-consume" };
    }

    public SqliteEventStore Store { get; }
    public BatchingSinkHost Sink { get; }
    public KafkaLogSource Source { get; }

    public void Start() => _thread.Start();

    public void Stop()
    {
        _stop.Cancel();
        _thread.Join();
        _stopSink.Cancel();
        try
        {
            _sinkTask.Wait();
        }
        catch (AggregateException)
        {
            // cancelled
        }
    }

    /// <summary>Produce, waiting while librdkafka's local queue is full.</summary>
    public static void Produce(IProducer<string, byte[]> p, string topic, string key, byte[] value)
    {
        while (true)
        {
            try
            {
                p.Produce(topic, new Message<string, byte[]> { Key = key, Value = value });
                return;
            }
            catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                p.Poll(TimeSpan.FromMilliseconds(10));
            }
        }
    }

    public void Dispose()
    {
        Store.Dispose();
        _metrics.Dispose();
        _stop.Dispose();
        _stopSink.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
