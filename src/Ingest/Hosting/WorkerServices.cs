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
public sealed class KafkaSourceService : ThreadService
{
    private readonly KafkaLogSource _source;
    private readonly ILogger<KafkaSourceService> _logger;
    private readonly IHostApplicationLifetime _lifetime;

    public KafkaSourceService(KafkaLogSource source, BatchingSinkHost sink, PipelineMetrics metrics, ILogger<KafkaSourceService> logger, IHostApplicationLifetime lifetime)
        : base("kafka-source", TimeSpan.FromSeconds(30))
    {
        _logger = logger;
        _lifetime = lifetime;
        _source = source;
        metrics.ObserveGauges(() => _source.OpenStreams, () => sink.Pending, () => _source.Paused ? 1 : 0, () => _source.OpenBytes);
    }

    public KafkaLogSource Source => _source;

    protected override void Run(CancellationToken stop) => _source.Run(stop);

    protected override void OnFailure(Exception ex)
    {
        _logger.LogCritical(ex, "kafka source failed; stopping the worker");
        _lifetime.StopApplication();
    }

}

/// <summary>Pushes alert changes to Alertmanager (registered only when Alerting:AlertmanagerUrl is set).</summary>
public sealed class AlertmanagerService(AlertmanagerPublisher publisher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => publisher.RunAsync(stoppingToken);
}

/// <summary>Runs the correlating consumer (detections and spans → incidents) on its own thread.</summary>
public sealed class CorrelationService(Ingest.Pipeline.Correlation.CorrelationSource source, ILogger<CorrelationService> logger)
    : ThreadService("correlation", TimeSpan.FromSeconds(30))
{
    protected override void Run(CancellationToken stop) => source.Run(stop);

    // Correlation is derived state: log ingestion goes on without it.
    protected override void OnFailure(Exception ex) => logger.LogError(ex, "correlation stopped");
}
