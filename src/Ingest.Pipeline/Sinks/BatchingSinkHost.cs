using System.Threading.Channels;
using Ingest.Pipeline.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Ingest.Pipeline.Sources.Kafka;
using Ingest.Pipeline.Telemetry;

namespace Ingest.Pipeline.Sinks;

public sealed class SinkHostOptions
{
    public const string SectionName = "Sink";

    /// <summary>"embedded" (SQLite under Serve:DataDirectory, the default) or "elasticsearch" (section Elasticsearch).</summary>
    public string Kind { get; set; } = "embedded";

    public int BatchSize { get; set; } = 500;
    public TimeSpan BatchDelay { get; set; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Events queued for the sink before the source pauses consumption.</summary>
    public int MaxPending { get; set; } = 20_000;
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Owns the queue between the consumer and a sink: batches by count and time, retries a failed batch with
/// capped exponential backoff (Polly) until it is stored, and only then completes each event's delivery token
/// (refused events go to <c>onRejected</c>, which completes theirs once dead-lettered). The queue is counted:
/// the source pauses consumption above <see cref="SinkHostOptions.MaxPending"/>, so a slow or dead sink holds
/// memory to a bound and loses nothing.
/// </summary>
public sealed class BatchingSinkHost
{
    private readonly IEventSink _sink;
    private readonly SinkHostOptions _options;
    private readonly Action<IReadOnlyList<SinkRejection>>? _onRejected;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<IndexedEvent> _queue = Channel.CreateUnbounded<IndexedEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ResiliencePipeline _retry;
    private int _pending;

    /// <param name="onRejected">Called with the events the sink refused for good (dead-letter them, then complete
    /// their tokens); without it they are logged and completed, since no retry can store them.</param>
    public BatchingSinkHost(IEventSink sink, SinkHostOptions options, ILogger? logger = null, Action<IReadOnlyList<SinkRejection>>? onRejected = null,
        TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _sink = sink;
        _onRejected = onRejected;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(100),
                MaxDelay = options.MaxRetryDelay,
                OnRetry = args =>
                {
                    Failures++;
                    _logger.LogWarning(args.Outcome.Exception, "sink write failed (attempt {Attempt}); retrying in {Delay}", args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public int Pending => Volatile.Read(ref _pending);

    public bool Saturated => Pending >= _options.MaxPending;

    public int MaxPending => _options.MaxPending;

    public long Stored { get; private set; }

    public long Failures { get; private set; }

    /// <summary>Events the sink refused for good (dead-lettered).</summary>
    public long Rejected { get; private set; }

    public void Enqueue(IndexedEvent e)
    {
        Interlocked.Increment(ref _pending);
        _queue.Writer.TryWrite(e); // unbounded: always succeeds; the source bounds it by pausing
    }

    /// <summary>Waits until everything enqueued so far is stored, or the deadline passes.</summary>
    public async Task<bool> WaitDrainedAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        long started = _time.GetTimestamp();
        while (Pending > 0)
        {
            if (_time.GetElapsedTime(started) >= timeout || cancellationToken.IsCancellationRequested) return false;
            await Task.Delay(TimeSpan.FromMilliseconds(10), _time, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var batch = new List<IndexedEvent>(_options.BatchSize);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            // Fill the batch: what is queued now, then wait up to BatchDelay for more.
            using (var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                window.CancelAfter(_options.BatchDelay);
                try
                {
                    while (batch.Count < _options.BatchSize)
                    {
                        if (reader.TryRead(out var e))
                        {
                            batch.Add(e);
                            continue;
                        }
                        if (!await reader.WaitToReadAsync(window.Token).ConfigureAwait(false)) break;
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // the batch window closed
                }
            }
            if (batch.Count == 0) continue;
            long started = _time.GetTimestamp();
            using var indexing = PipelineTelemetry.Source.StartActivity(PipelineTelemetry.Index, System.Diagnostics.ActivityKind.Client);
            indexing?.SetTag("ingest.batch.size", batch.Count);
            indexing?.SetTag("ingest.sink", _sink.GetType().Name);
            long failuresBefore = Failures;
            var rejected = await _retry.ExecuteAsync(async ct => await _sink.WriteBatchAsync(batch, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            indexing?.SetTag("ingest.batch.rejected", rejected.Count);
            indexing?.SetTag("ingest.batch.retries", Failures - failuresBefore);
            PipelineMetrics.Indexed(batch.Count - rejected.Count, rejected.Count, _time.GetElapsedTime(started).TotalSeconds);
            if (rejected.Count == 0)
            {
                Stored += batch.Count;
                Complete(batch);
            }
            else
            {
                var refused = rejected.Select(r => r.Event).ToHashSet(ReferenceEqualityComparer.Instance);
                var stored = batch.Where(e => !refused.Contains(e)).ToList();
                Stored += stored.Count;
                Rejected += rejected.Count;
                Complete(stored);
                foreach (var r in rejected) _logger.LogError("sink refused {Id}: {Reason}", r.Event.Id, r.Reason);
                if (_onRejected is not null) _onRejected(rejected);
                else Complete(rejected.Select(r => r.Event).ToList());
            }
            Interlocked.Add(ref _pending, -batch.Count);
            batch = new List<IndexedEvent>(_options.BatchSize);
        }
    }

    private static void Complete(IReadOnlyList<IndexedEvent> events)
    {
        foreach (var e in events) e.Delivery.Complete();
    }
}
