using Ingest.GoRuntime.Analysis;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sources.Files;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ingest.Hosting;

/// <summary>Follows the configured log files (Files:Paths) on its own thread, into the same sink as Kafka.</summary>
public sealed class FileTailService(FileTailOptions options, AnalyzerOptions analysis, AssemblerOptions assembly, BatchingSinkHost sink,
    Ingest.Pipeline.Delivery.OffsetTracker tracker, ServeOptions serve, Ingest.Pipeline.Analysis.IEventStage stage, ILogger<FileTailSource> logger,
    Ingest.Pipeline.Sources.Kafka.PipelineMetrics metrics, EventStore store)
    : ThreadService("file-tail", TimeSpan.FromSeconds(10))
{
    protected override void Run(CancellationToken stop)
    {
        options.PositionsFile ??= Path.Combine(Path.GetFullPath(serve.DataDirectory), "file-positions.json");
        new FileTailSource(options, analysis, assembly, sink.Enqueue, logger, tracker: tracker, stage: stage, metrics: metrics, history: store.History).Run(stop);
    }

    protected override void OnFailure(Exception ex) => logger.LogError(ex, "file tail stopped");
}
