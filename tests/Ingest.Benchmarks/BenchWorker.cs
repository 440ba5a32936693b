using Confluent.Kafka;
using Ingest.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Ingest.GoRuntime.Analysis;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Delivery;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Sqlite;
using Ingest.Pipeline.Sources.Kafka;

namespace Ingest.Benchmarks;

/// <summary>
/// The worker as `ingest serve` wires it (the same composition root: stage chain, dead letters, the embedded
/// store in a temp folder), its source on a thread and its sink host on a task, for benchmarks.
/// </summary>
public sealed class BenchWorker : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-bench-").FullName;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _stopSink = new();
    private readonly ServiceProvider _services;
    private readonly Task _sinkTask;
    private readonly Thread _thread;

    public BenchWorker(string bootstrap, string group, string topic)
    {
        _services = new ServiceCollection().AddIngestPipeline(Configuration(bootstrap, group, topic, _dir)).BuildServiceProvider();
        Store = (SqliteEventStore)_services.GetRequiredService<IEventSink>();
        Sink = _services.GetRequiredService<BatchingSinkHost>();
        Source = _services.GetRequiredService<KafkaLogSource>();
        _sinkTask = Task.Run(() => Sink.RunAsync(_stopSink.Token));
        _thread = new Thread(() => Source.Run(_stop.Token)) { Name = "kafka-consume" };
    }

    private static IConfiguration Configuration(string bootstrap, string group, string topic, string dataDirectory) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = bootstrap,
            ["Kafka:GroupId"] = group,
            ["Kafka:Topics:0:Name"] = topic,
            ["Serve:DataDirectory"] = dataDirectory,
        }).Build();

    /// <summary>The worker's consumer settings for a group, bound by the composition root as the worker's are.</summary>
    public static ConsumerConfig ConsumerConfig(string bootstrap, string group, string topic)
    {
        using var services = new ServiceCollection().AddIngestOptions(Configuration(bootstrap, group, topic, Path.GetTempPath())).BuildServiceProvider();
        return KafkaLogSource.ConsumerConfigFor(services.GetRequiredService<KafkaSourceOptions>());
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
        _services.Dispose();
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
