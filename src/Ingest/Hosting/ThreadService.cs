using Microsoft.Extensions.Hosting;

namespace Ingest.Hosting;

/// <summary>
/// A hosted service whose work is one blocking loop on a dedicated thread (librdkafka's consume calls and
/// file polling block): started with the host, cancelled and joined when it stops.
/// </summary>
public abstract class ThreadService(string threadName, TimeSpan joinTimeout) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;

    /// <summary>The loop; returns when <paramref name="stop"/> is cancelled.</summary>
    protected abstract void Run(CancellationToken stop);

    /// <summary>What an exception escaping the loop means for the worker.</summary>
    protected abstract void OnFailure(Exception ex);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _thread = new Thread(() =>
        {
            try
            {
                Run(_stop.Token);
            }
            catch (Exception ex)
            {
                OnFailure(ex);
            }
        }) { IsBackground = true, Name = threadName };
        _thread.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        _thread?.Join(joinTimeout);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) _stop.Dispose();
    }
}
