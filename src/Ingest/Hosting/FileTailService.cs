using Ingest.GoRuntime.Analysis;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sources.Files;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ingest.Hosting;

/// <summary>Follows the configured log files (Files:Paths) on its own thread, into the same sink as Kafka.</summary>
public sealed class FileTailService(FileTailOptions options, AnalyzerOptions analysis, AssemblerOptions assembly, BatchingSinkHost sink,
    Ingest.Pipeline.Delivery.OffsetTracker tracker, ServeOptions serve, Ingest.Pipeline.Analysis.IEventStage stage, ILogger<FileTailSource> logger)
    : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        options.PositionsFile ??= Path.Combine(Path.GetFullPath(serve.DataDirectory), "file-positions.json");
        var source = new FileTailSource(options, analysis, assembly, sink.Enqueue, logger, tracker: tracker, stage: stage);
        _thread = new Thread(() => source.Run(_stop.Token)) { IsBackground = true, Name = "file-tail" };
        _thread.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(10));
        return Task.CompletedTask;
    }

    public void Dispose() => _stop.Dispose();
}
