using Confluent.Kafka;
using Ingest.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Ingest.GoRuntime.Analysis;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Delivery;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Sqlite;
using Ingest.Pipeline.Sources.Kafka;
using Ingest.Pipeline.Sources.Kafka.Decoding;

namespace Ingest.Pipeline.Tests.Support;

/// <summary>
/// A real Kafka-protocol cluster (librdkafka's mock, TCP on loopback), a real SQLite store in a temp folder,
/// and workers built by the composition root `ingest serve` uses (<see cref="IngestComposition"/>).
/// </summary>
public sealed class PipelineHarness : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-test-").FullName;
    private readonly List<Worker> _workers = [];

    public PipelineHarness(int brokers = 3)
    {
        Cluster = new MockKafkaCluster(brokers);
        Store = new SqliteEventStore(Path.Combine(_dir, "events.db"));
    }

    public MockKafkaCluster Cluster { get; }
    public SqliteEventStore Store { get; }

    public void CreateTopic(string name, int partitions) => Cluster.CreateTopic(name, partitions);

    public void Produce(string topic, IEnumerable<(string Key, byte[] Value)> messages, Headers? headers = null)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = Cluster.BootstrapServers,
            LingerMs = 5,
            MessageMaxBytes = 32 * 1024 * 1024,
            EnableIdempotence = true,
        }).Build();
        string? error = null;
        foreach (var (key, value) in messages)
        {
            producer.Produce(topic, new Message<string, byte[]> { Key = key, Value = value, Headers = headers }, r =>
            {
                if (r.Error.IsError) error ??= r.Error.Reason;
            });
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) != 0) throw new TimeoutException("produce did not finish");
        if (error is not null) throw new InvalidOperationException("produce failed: " + error);
    }

    public Worker StartWorker(string group, IEnumerable<TopicOptions>? topics = null, SinkHostOptions? sink = null, IEventSink? sinkOverride = null, IEventStage? stage = null,
        Func<OffsetTracker, IEventStage>? stageFactory = null)
    {
        var options = new KafkaSourceOptions
        {
            BootstrapServers = Cluster.BootstrapServers,
            GroupId = group,
            Topics = topics?.ToList() ?? [new TopicOptions { Name = "logs", Format = MessageFormat.Raw }],
            DeadLetterTopic = "dead-letters",
            AutoCommitIntervalMs = 200,
            RevokeDrainTimeout = TimeSpan.FromSeconds(10),
            Client = new Dictionary<string, string>
            {
                ["session.timeout.ms"] = "6000",
                ["heartbeat.interval.ms"] = "300",
                ["topic.metadata.refresh.interval.ms"] = "1000",
            },
        };
        var worker = new Worker(options, sinkOverride ?? Store, sink ?? new SinkHostOptions { BatchDelay = TimeSpan.FromMilliseconds(20) }, Store, stage, stageFactory);
        _workers.Add(worker);
        return worker;
    }

    public void Dispose()
    {
        foreach (var w in _workers) w.Dispose();
        Store.Dispose();
        Cluster.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    public sealed class Worker : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly CancellationTokenSource _sinkStop = new();
        private readonly Thread _thread;
        private readonly Task _sinkTask;
        private Exception? _error;
        private readonly ServiceProvider _services;

        internal Worker(KafkaSourceOptions options, IEventSink sink, SinkHostOptions sinkOptions, IResumeWatermarks watermarks, IEventStage? stage,
            Func<OffsetTracker, IEventStage>? stageFactory)
        {
            // The composition root `ingest serve` uses, with the test's settings and store put in its place.
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Correlation:Enabled"] = "false",
            }).Build();
            var services = new ServiceCollection().AddIngestPipeline(configuration);
            services.AddSingleton(options).AddSingleton(sinkOptions).AddSingleton(new AssemblerOptions { IdleFlush = TimeSpan.FromSeconds(2) });
            services.AddSingleton(sink).AddSingleton(watermarks);
            services.AddSingleton(sp => stage ?? stageFactory?.Invoke(sp.GetRequiredService<OffsetTracker>()) ?? NoStage.Instance);
            _services = services.BuildServiceProvider();
            Tracker = _services.GetRequiredService<OffsetTracker>();
            Metrics = _services.GetRequiredService<PipelineMetrics>();
            DeadLetters = _services.GetRequiredService<DeadLetterProducer>();
            Sink = _services.GetRequiredService<BatchingSinkHost>();
            Source = _services.GetRequiredService<KafkaLogSource>();
            _sinkTask = Task.Run(() => Sink.RunAsync(_sinkStop.Token));
            _thread = new Thread(() =>
            {
                try
                {
                    Source.Run(_stop.Token);
                }
                catch (Exception ex)
                {
                    _error = ex;
                }
            }) { IsBackground = true, Name = "kafka-source" };
            _thread.Start();
        }

        public KafkaLogSource Source { get; }
        public DeadLetterProducer DeadLetters { get; }
        public BatchingSinkHost Sink { get; }
        public OffsetTracker Tracker { get; }
        public PipelineMetrics Metrics { get; }

        public void StopGracefully()
        {
            _stop.Cancel();
            if (!_thread.Join(TimeSpan.FromSeconds(60))) throw new TimeoutException("worker did not stop");
            _sinkStop.Cancel();
            Rethrow();
        }

        /// <summary>What a killed process does: no flush, no drain; queued sink work is lost.</summary>
        public void Abort()
        {
            Source.Abort();
            _sinkStop.Cancel();
            if (!_thread.Join(TimeSpan.FromSeconds(60))) throw new TimeoutException("worker did not abort");
            Rethrow();
        }

        private void Rethrow()
        {
            if (_error is not null) throw new InvalidOperationException("worker failed", _error);
        }

        public void Dispose()
        {
            if (_thread.IsAlive) Abort();
            try
            {
                _sinkTask.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
                // cancelled
            }
            _services.Dispose();
            _stop.Dispose();
            _sinkStop.Dispose();
        }
    }
}
