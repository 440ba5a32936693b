using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text;
using Confluent.Kafka;
using Ingest.GoRuntime.Analysis;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Delivery;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sources.Kafka.Decoding;
using Ingest.Pipeline.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Pipeline.Sources.Kafka;

/// <summary>Offsets [<see cref="From"/>, <see cref="To"/>] of a partition that were never read: the broker had deleted them.</summary>
public sealed record LostRange(string Topic, int Partition, long From, long To, DateTimeOffset At)
{
    public long Count => To - From + 1;
}

/// <summary>
/// Consumes log topics as a consumer group and feeds every line through the stream assembler into the sink.
/// At-least-once: offsets are stored (auto-commit on, auto-store off) only up to what is safe, that is below
/// the first offset of any event still being assembled or not yet acknowledged by the sink, or any dead letter
/// not yet delivered. Document ids derive from (topic, partition, first offset), so re-reading is harmless.
/// The consume loop runs on its own thread; partition callbacks run inside Consume on that thread.
/// </summary>
public sealed class KafkaLogSource : IDisposable
{
    private readonly KafkaSourceOptions _options;
    private readonly BatchingSinkHost _sink;
    private readonly OffsetTracker _tracker;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IResumeWatermarks? _watermarks;
    private readonly IStoredHistory? _history;
    private readonly IEventStage? _stage;
    private readonly StreamAssembler _assembler;
    private readonly Dictionary<string, MessageDecoder> _decoders;
    private readonly List<DecodedLine> _lines = [];
    private IConsumer<byte[], byte[]>? _consumer;
    private readonly DeadLetterProducer _deadLetters;
    private volatile bool _abort;
    private volatile bool _paused;
    private long _lastStore;

    public KafkaLogSource(
        KafkaSourceOptions options,
        AnalyzerOptions analysis,
        AssemblerOptions assembly,
        BatchingSinkHost sink,
        OffsetTracker tracker,
        PipelineMetrics metrics,
        DeadLetterProducer deadLetters,
        IResumeWatermarks? watermarks = null,
        ILogger? logger = null,
        TimeProvider? time = null,
        IEventStage? stage = null,
        IStoredHistory? history = null)
    {
        _history = history;
        _stage = stage;
        _watermarks = watermarks;
        _options = options;
        _sink = sink;
        _tracker = tracker;
        _metrics = metrics;
        _deadLetters = deadLetters;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _assembler = new StreamAssembler(analysis, assembly, _time, Emit, metrics.BudgetClosed);
        _decoders = options.EffectiveTopics.ToDictionary(t => t.Name, t => new MessageDecoder(t.Format, t.Fields), StringComparer.Ordinal);
    }

    public bool Paused => _paused;

    /// <summary>Messages consumed so far (benchmarks, health).</summary>
    public long MessagesConsumed => Interlocked.Read(ref _messagesConsumed);

    private long _messagesConsumed;

    public int OpenStreams => _assembler.OpenStreams;

    /// <summary>Errors the Kafka client reported (a broker gone, a transport failure); it recovers from them by itself.</summary>
    public long ClientErrors => Interlocked.Read(ref _clientErrors);

    private long _clientErrors;

    /// <summary>Bytes held by the events being assembled (the budget's measure).</summary>
    public long OpenBytes => _assembler.OpenBytes;

    /// <summary>Assigned partitions (for tests and the API).</summary>
    public IReadOnlyList<TopicPartition> Assignment => _consumer?.Assignment ?? [];

    /// <summary>Stops at once: no flush, no drain, no final offsets (what a killed process does).</summary>
    public void Abort()
    {
        _abort = true;
        _stopping.Cancel();
    }

    /// <summary>
    /// Runs until cancelled (graceful: flush, drain, store, close) or aborted. The calling thread only polls
    /// Kafka and hands batches of messages, in order, to one processing thread that decodes, assembles and
    /// stores offsets. Polling (librdkafka plus Confluent's marshalling) costs about twice what processing
    /// does, so overlapping the two is what keeps the pipeline near a bare consumer's speed. Partition
    /// callbacks run inside Consume on the polling thread; they pass through the same ordered queue, so a
    /// revocation is handled after every message of that partition handed over before it.
    /// </summary>
    public void Run(CancellationToken cancellationToken)
    {
        NativeKafka.Ensure();
        _consumer = BuildConsumer();
        _consumer.Subscribe(_options.EffectiveTopics.Select(t => t.Name));
        using var handoff = new BlockingCollection<Work>(HandoffBatches);
        _handoff = handoff;
        var processor = new Thread(() => Process(handoff)) { IsBackground = true, Name = "kafka-process" };
        processor.Start();
        try
        {
            var batch = new List<ConsumeResult<byte[], byte[]>>(BatchSize);
            Activity? consuming = null;
            while (!cancellationToken.IsCancellationRequested && !_abort && _failure is null)
            {
                ConsumeResult<byte[], byte[]>? result = null;
                try
                {
                    result = _consumer.Consume(_paused ? TimeSpan.FromMilliseconds(20) : _options.PollTimeout);
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    _logger.LogWarning("consume error: {Reason}", ex.Error.Reason);
                }
                if (_abort) break;
                if (result?.Message is not null && !result.IsPartitionEOF)
                {
                    // The span runs from a batch's first message to its hand-over; idle polls record nothing.
                    if (batch.Count == 0) consuming = PipelineTelemetry.Source.StartActivity(PipelineTelemetry.Consume, ActivityKind.Consumer);
                    batch.Add(result);
                }
                // Hand over a full batch, or whatever there is when the queue runs dry (then the processor
                // also does its housekeeping: idle flushes, backpressure, offsets).
                if (batch.Count >= BatchSize || result is null)
                {
                    if (consuming is not null)
                    {
                        consuming.SetTag("messaging.system", "kafka");
                        consuming.SetTag("messaging.batch.message_count", batch.Count);
                        consuming.Dispose();
                        consuming = null;
                    }
                    Send(new Work(batch, null));
                    batch = new List<ConsumeResult<byte[], byte[]>>(BatchSize);
                }
            }
            if (_abort || _failure is not null) return;
            if (batch.Count > 0) Send(new Work(batch, null));
            // Graceful stop: complete open events, let the sink store them, store offsets, leave the group.
            OnProcessor(() =>
            {
                _assembler.FlushAll();
                _sink.WaitDrainedAsync(_options.RevokeDrainTimeout, CancellationToken.None).GetAwaiter().GetResult();
                _deadLetters.Flush(_options.RevokeDrainTimeout);
                StoreOffsetsIfDue(force: true);
            });
            _consumer.Close();
        }
        catch (OperationCanceledException) when (_abort || _failure is not null)
        {
            // aborted while waiting for the processor, or the processor failed: handled below
        }
        finally
        {
            handoff.CompleteAdding();
            processor.Join();
            _handoff = null;
            _consumer.Dispose();
            _consumer = null;
        }
        _failure?.Throw();
    }

    /// <summary>Messages per hand-over, and hand-overs queued at most: bounds what sits between the threads.</summary>
    private const int BatchSize = 256;
    private const int HandoffBatches = 16;

    private sealed record Work(List<ConsumeResult<byte[], byte[]>>? Messages, Action? Command, ManualResetEventSlim? Done = null);

    private BlockingCollection<Work>? _handoff;
    private readonly CancellationTokenSource _stopping = new();
    private volatile ExceptionDispatchInfo? _failure;

    private void Send(Work work) => _handoff!.Add(work, _stopping.Token);

    /// <summary>Runs an action on the processing thread after everything handed over so far, and waits for it.</summary>
    private void OnProcessor(Action action)
    {
        using var done = new ManualResetEventSlim();
        Send(new Work(null, action, done));
        done.Wait(_stopping.Token);
    }

    private void Process(BlockingCollection<Work> handoff)
    {
        try
        {
            foreach (var work in handoff.GetConsumingEnumerable(_stopping.Token))
            {
                if (_abort) return;
                if (work.Command is not null)
                {
                    work.Command();
                    work.Done?.Set();
                    continue;
                }
                var messages = work.Messages!;
                using (var assembling = messages.Count > 0 ? PipelineTelemetry.Source.StartActivity(PipelineTelemetry.Assemble) : null)
                {
                    long lines = _unreportedLines;
                    for (int i = 0; i < messages.Count && !_abort; i++) Handle(messages[i]);
                    assembling?.SetTag("messaging.batch.message_count", messages.Count);
                    assembling?.SetTag("ingest.lines", _unreportedLines - lines);
                    assembling?.SetTag("ingest.open_streams", _assembler.OpenStreams);
                    if (messages.Count > 0) _metrics.Batch(messages.Count);
                }
                // Housekeeping once per batch (and whenever the queue ran dry), not per message.
                _assembler.FlushExpired(CaughtUp);
                _stage?.Tick(_time.GetUtcNow(), _sink.Enqueue);
                ApplyBackpressure();
                StoreOffsetsIfDue(force: false);
            }
        }
        catch (OperationCanceledException) when (_abort)
        {
        }
        catch (Exception ex)
        {
            // The polling thread stops and rethrows; nothing past the failure is stored as consumed.
            _failure = ExceptionDispatchInfo.Capture(ex);
            _stopping.Cancel();
        }
    }

    private IConsumer<byte[], byte[]> BuildConsumer()
    {
        var config = ConsumerConfigFor(_options);
        return new ConsumerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((_, e) =>
            {
                Interlocked.Increment(ref _clientErrors);
                _logger.Log(e.IsFatal ? LogLevel.Error : LogLevel.Warning, "kafka: {Reason}", e.Reason);
            })
            .SetLogHandler((_, m) => _logger.LogDebug("librdkafka {Facility}: {Message}", m.Facility, m.Message))
            .SetPartitionsAssignedHandler((c, partitions) => OnAssigned(c, partitions))
            .SetPartitionsRevokedHandler((c, partitions) => OnRevoked(c, partitions, lost: false))
            .SetPartitionsLostHandler((c, partitions) => OnRevoked(c, partitions, lost: true))
            .Build();
    }

    /// <summary>The worker's consumer settings; the pipeline benchmark's bare consumer uses them too, like for like.</summary>
    public static ConsumerConfig ConsumerConfigFor(KafkaSourceOptions options) => KafkaClients.Consumer(options, options.GroupId, c =>
    {
        c.AutoCommitIntervalMs = options.AutoCommitIntervalMs;
        c.EnablePartitionEof = false;
        // A 10 MB message must fit.
        c.MaxPartitionFetchBytes = 16 * 1024 * 1024;
        c.FetchMaxBytes = 64 * 1024 * 1024;
        // Prefetch deeper than librdkafka's default (100,000 messages per partition): measured, it doubles
        // what even a bare consumer reads per second (docs/performance.md). Memory stays bounded by
        // queued.max.messages.kbytes, which applies to the whole consumer queue.
        c.QueuedMinMessages = 1_000_000;
        // A restarted member is back in seconds: by its static id where the broker honours it, else once
        // the dead member's session expires (docs/operations.md, "Restarts").
        if (!string.IsNullOrEmpty(options.InstanceId)) c.GroupInstanceId = options.InstanceId;
        c.SessionTimeoutMs = (int)options.SessionTimeout.TotalMilliseconds;
        c.HeartbeatIntervalMs = (int)options.HeartbeatInterval.TotalMilliseconds;
        // A rebalance moves only the partitions that change owner; the others keep consuming. The handlers
        // get the increments (Confluent.Kafka assigns and unassigns them incrementally after they return).
        c.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
    }, c =>
    {
        // What the delivery guarantee rests on: offsets are stored only when safe, then auto-committed.
        c.EnableAutoCommit = true;
        c.EnableAutoOffsetStore = false;
    });

    private void Handle(ConsumeResult<byte[], byte[]> r)
    {
        _unreportedMessages++;
        Interlocked.Increment(ref _messagesConsumed);
        string topic = r.Topic;
        int partition = r.Partition.Value;
        long offset = r.Offset.Value;
        CheckContinuity(topic, partition, offset);
        if (!_decoders.TryGetValue(topic, out var decoder)) decoder = _decoders.Values.First();
        _lines.Clear();
        string? error = decoder.Decode(r, _lines);
        if (error is not null)
        {
            DeadLetter(r, error);
        }
        else
        {
            var fallback = Fallback(partition);
            for (int i = 0; i < _lines.Count; i++)
            {
                var line = _lines[i];
                var key = new StreamKey(topic, partition, line.Metadata.Identity(fallback));
                var messageTime = r.Message.Timestamp.Type == TimestampType.NotAvailable ? _time.GetUtcNow() : new DateTimeOffset(r.Message.Timestamp.UtcDateTime);
                _assembler.Push(new LogRecord(key, line.Line, offset, i, line.Timestamp ?? messageTime, line.Metadata, messageTime));
            }
            _unreportedLines += _lines.Count;
        }
        _tracker.Consumed(topic, partition, offset);
    }

    /// <summary>Read to the end of the partition, by librdkafka's cached high watermark (no broker call).</summary>
    private bool CaughtUp(string topic, int partition)
    {
        var consumer = _consumer!;
        var marks = consumer.GetWatermarkOffsets(new TopicPartition(topic, new Partition(partition)));
        if (marks.High == Offset.Unset) return true;
        var position = consumer.Position(new TopicPartition(topic, new Partition(partition)));
        return position == Offset.Unset || position.Value >= marks.High.Value;
    }

    private readonly Dictionary<int, string> _fallbacks = [];

    private string Fallback(int partition)
    {
        if (!_fallbacks.TryGetValue(partition, out string? f)) _fallbacks[partition] = f = $"partition-{partition}";
        return f;
    }

    private void Emit(IndexedEvent e)
    {
        string type = e.Event.TypeName;
        using var parsed = PipelineTelemetry.Source.StartActivity(PipelineTelemetry.Parse);
        if (parsed is not null)
        {
            parsed.SetTag("ingest.event.type", type);
            parsed.SetTag("ingest.event.id", e.Id);
            parsed.SetTag("messaging.kafka.offset", e.FirstOffset);
            parsed.SetTag("messaging.destination.partition.id", e.Stream.Partition);
            if (e.Event is Ingest.GoRuntime.Model.MultiLineEvent m) parsed.SetTag("ingest.event.lines", m.LineCount);
        }
        e = e with { Delivery = Track(e.Stream.Topic, e.Stream.Partition, e.FirstOffset) };
        if (_stage is null) Forward(e);
        else _stage.Process(e, _forward ??= Forward);
    }

    private Action<IndexedEvent>? _forward;

    /// <summary>The only place offsets are held: the token releases this one when every path is done with it.</summary>
    private DeliveryToken Track(string topic, int partition, long offset)
    {
        _tracker.InFlight(topic, partition, offset);
        return DeliveryToken.Create(() => _tracker.Acked(topic, partition, offset));
    }

    private void Forward(IndexedEvent e)
    {
        _metrics.Event(e.Event.TypeName);
        _sink.Enqueue(e);
    }

    private void DeadLetter(ConsumeResult<byte[], byte[]> r, string reason)
    {
        _logger.LogWarning("dead-lettering {Topic}/{Partition}@{Offset}: {Reason}", r.Topic, r.Partition.Value, r.Offset.Value, reason);
        _deadLetters.Send(r, reason, Track(r.Topic, r.Partition.Value, r.Offset.Value));
    }

    private void ApplyBackpressure()
    {
        var consumer = _consumer!;
        if (!_paused && _sink.Saturated)
        {
            consumer.Pause(consumer.Assignment);
            _paused = true;
            _metrics.Paused();
            _logger.LogWarning("sink has {Pending} events pending: pausing consumption", _sink.Pending);
        }
        else if (_paused && _sink.Pending * 2 <= _sink.MaxPending)
        {
            consumer.Resume(consumer.Assignment);
            _paused = false;
            _logger.LogInformation("sink caught up: resuming consumption");
        }
        else if (_paused)
        {
            // Partitions assigned during a pause start unpaused.
            consumer.Pause(consumer.Assignment);
        }
    }

    private long _unreportedMessages;
    private long _unreportedLines;

    private void StoreOffsetsIfDue(bool force)
    {
        long now = _time.GetTimestamp();
        if (!force && _time.GetElapsedTime(_lastStore, now) < _options.StoreInterval) return;
        _lastStore = now;
        // Counters are published in bulk with the offsets, not per message.
        _metrics.Messages(_unreportedMessages);
        _metrics.Lines(_unreportedLines);
        _unreportedMessages = _unreportedLines = 0;
        var consumer = _consumer!;
        foreach (var tp in consumer.Assignment)
        {
            Store(consumer, tp);
            ReportLag(consumer, tp);
        }
    }

    private void ReportLag(IConsumer<byte[], byte[]> consumer, TopicPartition tp)
    {
        // librdkafka's cached high watermark (updated by fetch responses): no broker round trip.
        var marks = consumer.GetWatermarkOffsets(tp);
        var position = consumer.Position(tp);
        if (marks.High == Offset.Unset || position == Offset.Unset) return;
        _metrics.Lag(tp.Topic, tp.Partition.Value, marks.High.Value - position.Value);
    }

    private void Store(IConsumer<byte[], byte[]> consumer, TopicPartition tp)
    {
        long? safe = _tracker.SafeOffset(tp.Topic, tp.Partition.Value, _assembler.OldestOpenOffset(tp.Topic, tp.Partition.Value));
        if (safe is null) return;
        try
        {
            consumer.StoreOffset(new TopicPartitionOffset(tp, new Offset(safe.Value)));
            _tracker.Stored(tp.Topic, tp.Partition.Value, safe.Value);
        }
        catch (KafkaException ex)
        {
            _logger.LogDebug("store offset {Partition}: {Reason}", tp, ex.Error.Reason);
        }
    }

    private void OnAssigned(IConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions)
    {
        if (_abort || partitions.Count == 0) return;
        _logger.LogInformation("assigned {Partitions}", string.Join(", ", partitions.Select(tp => $"{tp.Topic}/{tp.Partition.Value}")));
        var loaded = _watermarks is null ? [] : partitions.Select(tp => (tp, Marks: _watermarks.Load(tp.Topic, tp.Partition.Value))).Where(x => x.Marks.Count > 0).ToList();
        var committed = Committed(consumer, partitions);
        // Dumps before the committed offset are not read again: their leak series comes back from the store.
        var leaks = _history is null ? [] : committed.Select(c => (c.TopicPartition, History: _history.LeakSnapshots(c.Topic, c.Partition.Value, c.Offset.Value, LeakTracker.MaxSnapshots)))
            .Where(x => x.History.Count > 0).ToList();
        // Before any message of these partitions reaches the assembler (they are polled after this returns).
        Send(new Work(null, () =>
        {
            foreach (var (tp, marks) in loaded) _assembler.SetWatermarks(tp.Topic, tp.Partition.Value, marks);
            foreach (var (tp, history) in leaks) _assembler.RestoreLeakHistory(tp.Topic, tp.Partition.Value, history);
            foreach (var c in committed) _next[(c.Topic, c.Partition.Value)] = c.Offset.Value;
        }));
    }

    /// <summary>Committed offsets of newly assigned partitions: where reading must resume, or the gap is loss.</summary>
    private List<TopicPartitionOffset> Committed(IConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions)
    {
        try
        {
            return [.. consumer.Committed(partitions, _options.RevokeDrainTimeout).Where(c => c.Offset.Value >= 0)];
        }
        catch (KafkaException ex)
        {
            _logger.LogWarning("committed offsets unavailable ({Reason}): offsets lost to retention go uncounted on this assignment", ex.Error.Reason);
            return [];
        }
    }

    // Per partition, the offset the next message should have (processing thread).
    private readonly Dictionary<(string Topic, int Partition), long> _next = [];
    private readonly List<LostRange> _lost = [];

    /// <summary>Offset ranges the broker no longer had when they were to be read (retention passed them), oldest first.</summary>
    public IReadOnlyList<LostRange> LostOffsets
    {
        get
        {
            lock (_lost) return [.. _lost];
        }
    }

    /// <summary>
    /// A message past the expected offset is a gap; compaction, transaction markers and aborted transactions make
    /// harmless ones, so it counts as loss only when the broker's log now starts beyond the expected offset
    /// (librdkafka reset the position to the earliest retained message). Asking the broker costs a round trip:
    /// always for the first message of an assignment (where a reset shows), at most once a second per partition
    /// later, so a topic full of transaction markers is not read at the broker's pace.
    /// </summary>
    private void CheckContinuity(string topic, int partition, long offset)
    {
        var key = (topic, partition);
        if (_next.TryGetValue(key, out long expected) && offset > expected && GapCheckDue(key))
        {
            long low = expected;
            try
            {
                low = _consumer!.QueryWatermarkOffsets(new TopicPartition(topic, new Partition(partition)), _options.RevokeDrainTimeout).Low.Value;
            }
            catch (KafkaException ex)
            {
                _logger.LogWarning("offset gap {Topic}/{Partition} {From}..{To}: log start unavailable ({Reason})", topic, partition, expected, offset - 1, ex.Error.Reason);
            }
            if (low > expected)
            {
                var range = new LostRange(topic, partition, expected, Math.Min(low, offset) - 1, _time.GetUtcNow());
                lock (_lost)
                {
                    _lost.Add(range);
                    if (_lost.Count > MaxLostRanges) _lost.RemoveAt(0);
                }
                _metrics.OffsetsLost(topic, partition, range.Count);
                _logger.LogError("offsets {From}..{To} of {Topic}/{Partition} ({Count} messages) left the broker's retention before they were read: lost",
                    range.From, range.To, topic, partition, range.Count);
            }
        }
        _next[key] = offset + 1;
    }

    private const int MaxLostRanges = 100;

    // Per partition, when its last gap was checked against the broker (absent: not since the assignment).
    private readonly Dictionary<(string Topic, int Partition), long> _gapChecked = [];

    private bool GapCheckDue((string Topic, int Partition) key)
    {
        long now = _time.GetTimestamp();
        if (_gapChecked.TryGetValue(key, out long last) && _time.GetElapsedTime(last, now) < TimeSpan.FromSeconds(1)) return false;
        _gapChecked[key] = now;
        return true;
    }

    private void OnRevoked(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions, bool lost)
    {
        if (_abort) return;
        var tps = partitions.Select(p => (p.Topic, p.Partition.Value)).ToList();
        // After every message of these partitions already handed over: then their open events complete.
        OnProcessor(() =>
        {
            foreach (var (topic, partition) in tps)
            {
                _assembler.FlushPartition(topic, partition);
                _next.Remove((topic, partition));
                _gapChecked.Remove((topic, partition));
            }
        });
        if (!lost)
        {
            // Drain what can be drained before the partitions go; what cannot is re-read by the next owner.
            bool drained = _tracker.WaitForAcks(tps, _options.RevokeDrainTimeout);
            if (!drained) _logger.LogWarning("revocation: sink did not acknowledge in {Timeout}; the next owner re-reads", _options.RevokeDrainTimeout);
            var commits = new List<TopicPartitionOffset>();
            foreach (var p in partitions)
            {
                long? safe = _tracker.SafeOffset(p.Topic, p.Partition.Value, null);
                if (safe is not null) commits.Add(new TopicPartitionOffset(p.TopicPartition, new Offset(safe.Value)));
            }
            if (commits.Count > 0)
            {
                try
                {
                    consumer.Commit(commits);
                }
                catch (KafkaException ex)
                {
                    _logger.LogWarning("commit on revocation failed: {Reason}", ex.Error.Reason);
                }
            }
        }
        foreach (var (topic, partition) in tps)
        {
            _tracker.Forget(topic, partition);
            _metrics.ForgetLag(topic, partition);
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _consumer?.Dispose();
    }
}
