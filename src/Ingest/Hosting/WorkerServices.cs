using Ingest.GoRuntime.Analysis;
using Ingest.Pipeline.Alerting;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Delivery;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Sqlite;
using Ingest.Pipeline.Sources.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ingest.Hosting;

/// <summary>Runs the sink host's batching loop for the lifetime of the worker.</summary>
public sealed class SinkHostService(BatchingSinkHost sink) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await sink.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }
}

/// <summary>
/// Runs the Kafka consume loop on its own thread (it blocks in librdkafka); on stop, the loop flushes open
/// events, waits for the sink and stores final offsets before the sink host stops (registered after it).
/// </summary>
public sealed class KafkaSourceService : IHostedService, IDisposable
{
    private readonly KafkaLogSource _source;
    private readonly ILogger<KafkaSourceService> _logger;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;

    public KafkaSourceService(
        KafkaSourceOptions kafka,
        AnalyzerOptions analysis,
        AssemblerOptions assembly,
        BatchingSinkHost sink,
        OffsetTracker tracker,
        PipelineMetrics metrics,
        IResumeWatermarks watermarks,
        IEventStage stage,
        ILogger<KafkaSourceService> logger,
        ILoggerFactory loggers,
        IHostApplicationLifetime lifetime)
    {
        _logger = logger;
        _lifetime = lifetime;
        _source = new KafkaLogSource(kafka, analysis, assembly, sink, tracker, metrics, watermarks, loggers.CreateLogger<KafkaLogSource>(), stage: stage);
        metrics.ObserveGauges(() => _source.OpenStreams, () => sink.Pending, () => _source.Paused ? 1 : 0);
    }

    public KafkaLogSource Source => _source;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _thread = new Thread(() =>
        {
            try
            {
                _source.Run(_stop.Token);
            }
            catch (Exception ex)
            {
                _logger.LogCritical(ex, "kafka source failed; stopping the worker");
                _lifetime.StopApplication();
            }
        }) { IsBackground = true, Name = "kafka-source" };
        _thread.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(30));
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _source.Dispose();
        _stop.Dispose();
    }
}

/// <summary>Pushes alert changes to Alertmanager (registered only when Alerting:AlertmanagerUrl is set).</summary>
public sealed class AlertmanagerService(AlertmanagerPublisher publisher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => publisher.RunAsync(stoppingToken);
}

/// <summary>Runs the correlating consumer (detections and spans → incidents) on its own thread.</summary>
public sealed class CorrelationService(Ingest.Pipeline.Correlation.CorrelationSource source, ILogger<CorrelationService> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _thread = new Thread(() =>
        {
            try
            {
                source.Run(_stop.Token);
            }
            catch (Exception ex)
            {
                // Correlation is derived state: log ingestion goes on without it.
                logger.LogError(ex, "correlation stopped");
            }
        }) { IsBackground = true, Name = "correlation" };
        _thread.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(30));
        return Task.CompletedTask;
    }

    public void Dispose() => _stop.Dispose();
}
