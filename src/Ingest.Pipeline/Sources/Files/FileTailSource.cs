using Ingest.GoRuntime.Analysis;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Delivery;
using Ingest.Pipeline.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Pipeline.Sources.Files;

public sealed class FileTailOptions
{
    public const string SectionName = "Files";

    /// <summary>Files to follow: paths or patterns in the last element ("/var/log/containers/*.log").</summary>
    public List<string> Paths { get; set; } = [];

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Start at the end of files that exist when the worker starts and have no saved position.</summary>
    public bool StartAtEnd { get; set; }

    /// <summary>Where read positions are kept across restarts (set by the worker to its data directory).</summary>
    public string? PositionsFile { get; set; }

    public List<string> Validate()
    {
        var errors = new List<string>();
        foreach (string p in Paths)
        {
            if (string.IsNullOrWhiteSpace(p) || Path.GetDirectoryName(p)?.Contains('*', StringComparison.Ordinal) == true)
            {
                errors.Add($"Files:Paths entry '{p}' must be a path with a pattern only in its last element");
            }
        }
        if (PollInterval <= TimeSpan.Zero) errors.Add("Files:PollInterval must be positive");
        return errors;
    }
}

/// <summary>
/// Follows log files on a single host (container logs in CRI format, service logs) and feeds their lines
/// through the same <see cref="StreamAssembler"/> as the Kafka source: one stream per file, positions are byte
/// offsets of line starts, so document ids are stable when a file is read again. Handles rotation by
/// truncation (the file shrinks) and new files matching the patterns. With a positions file, the position
/// saved for each file obeys the Kafka rule (<see cref="Delivery.OffsetTracker"/>): never past an event still
/// being assembled or not yet stored, so a restart re-reads at most what the store may lack.
/// </summary>
public sealed class FileTailSource
{
    private const int ChunkSize = 1 << 20;
    private readonly FileTailOptions _options;
    private readonly ILogger _logger;
    private readonly StreamAssembler _assembler;
    private readonly Dictionary<string, TailState> _files = new(StringComparer.Ordinal);
    private readonly Delivery.OffsetTracker? _tracker;
    private readonly Dictionary<string, long> _saved;
    private bool _firstScan = true;
    private long _lastSave;
    private readonly TimeProvider _time;

    private readonly Delivery.IStoredHistory? _history;

    private sealed class TailState
    {
        public long Position;
        public byte[] Partial = [];
        public int PartialLength;
        public SourceMetadata Metadata = SourceMetadata.Empty;
    }

    /// <param name="emit">Where events go (the worker passes its sink host's Enqueue).</param>
    /// <param name="tracker">The worker's tracker, acknowledged by the sink; needed to save positions safely.</param>
    public FileTailSource(FileTailOptions options, AnalyzerOptions analysis, AssemblerOptions assembly, Action<IndexedEvent> emit,
        ILogger? logger = null, TimeProvider? time = null, Delivery.OffsetTracker? tracker = null, Analysis.IEventStage? stage = null,
        Sources.Kafka.PipelineMetrics? metrics = null, Delivery.IStoredHistory? history = null)
    {
        _history = history;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _tracker = tracker;
        _saved = LoadPositions();
        // The only place positions are held: the token releases this one when every path is done with the event.
        IndexedEvent Track(IndexedEvent e)
        {
            if (_tracker is not { } tracker) return e;
            var (topic, offset) = (e.Stream.Topic, e.FirstOffset);
            tracker.InFlight(topic, 0, offset);
            return e with { Delivery = DeliveryToken.Create(() => tracker.Acked(topic, 0, offset)) };
        }
        _assembler = new StreamAssembler(analysis, assembly, _time, stage is null ? e => emit(Track(e)) : e => stage.Process(Track(e), emit), metrics is null ? null : metrics.BudgetClosed);
    }

    /// <summary>The tracker key of a file: one "topic" per path, partition 0.</summary>
    public static string TopicOf(string path) => "file:" + path;

    public void Run(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            PollOnce();
            cancellationToken.WaitHandle.WaitOne(_options.PollInterval);
        }
        _assembler.FlushAll();
        SavePositions();
    }

    /// <summary>One pass: discover files, read what is new, flush idle streams.</summary>
    public void PollOnce()
    {
        foreach (string path in Discover())
        {
            if (!_files.TryGetValue(path, out var state))
            {
                state = new TailState { Metadata = new SourceMetadata { Host = Environment.MachineName, Container = Path.GetFileName(path) } };
                if (_saved.TryGetValue(path, out long saved))
                {
                    state.Position = saved;
                    // Dumps before the saved position are not read again: the file's leak series comes back from the store.
                    if (_history is not null) _assembler.RestoreLeakHistory(TopicOf(path), 0, _history.LeakSnapshots(TopicOf(path), 0, saved, LeakTracker.MaxSnapshots));
                }
                else if (_firstScan && _options.StartAtEnd) state.Position = SafeLength(path);
                _files[path] = state;
            }
            ReadNew(path, state);
        }
        _firstScan = false;
        _assembler.FlushExpired(); // a file is always read to its end
        if (_time.GetElapsedTime(_lastSave) >= TimeSpan.FromSeconds(1))
        {
            _lastSave = _time.GetTimestamp();
            SavePositions();
        }
    }

    /// <summary>Writes, per file, the position a restart may resume from (atomically: temp file, then rename).</summary>
    public void SavePositions()
    {
        if (_options.PositionsFile is null || _tracker is null) return;
        var positions = new Dictionary<string, long>(_saved, StringComparer.Ordinal);
        foreach (var (path, state) in _files)
        {
            string topic = TopicOf(path);
            // The tracker holds the position back to the first line of any event still open or not yet stored.
            long? safe = _tracker.SafeOffset(topic, 0, _assembler.OldestOpenOffset(topic, 0));
            if (safe is long s) positions[path] = s;
        }
        try
        {
            string tmp = _options.PositionsFile + ".tmp";
            File.WriteAllText(tmp, System.Text.Json.JsonSerializer.Serialize(positions));
            File.Move(tmp, _options.PositionsFile, overwrite: true);
        }
        catch (IOException ex)
        {
            _logger.LogWarning("cannot save file positions: {Reason}", ex.Message);
        }
    }

    private Dictionary<string, long> LoadPositions()
    {
        if (_options.PositionsFile is null || !File.Exists(_options.PositionsFile)) return new(StringComparer.Ordinal);
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, long>>(File.ReadAllText(_options.PositionsFile)) is { } d
                ? new Dictionary<string, long>(d, StringComparer.Ordinal)
                : new(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException)
        {
            _logger.LogWarning("ignoring unreadable positions file {File}: {Reason}", _options.PositionsFile, ex.Message);
            return new(StringComparer.Ordinal);
        }
    }

    private IEnumerable<string> Discover()
    {
        foreach (string pattern in _options.Paths)
        {
            string dir = Path.GetDirectoryName(Path.GetFullPath(pattern)) ?? ".";
            string name = Path.GetFileName(pattern);
            if (!Directory.Exists(dir)) continue;
            IEnumerable<string> matches;
            try
            {
                matches = name.Contains('*', StringComparison.Ordinal) || name.Contains('?', StringComparison.Ordinal)
                    ? Directory.EnumerateFiles(dir, name)
                    : File.Exists(Path.Combine(dir, name)) ? [Path.Combine(dir, name)] : [];
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.LogWarning("cannot list {Dir}: {Reason}", dir, ex.Message);
                continue;
            }
            foreach (string m in matches.Order(StringComparer.Ordinal)) yield return m;
        }
    }

    private void ReadNew(string path, TailState state)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            if (f.Length < state.Position)
            {
                _logger.LogInformation("{Path} was truncated: reading from the start", path);
                state.Position = 0;
                state.PartialLength = 0;
            }
            f.Position = state.Position;
            var buffer = new byte[ChunkSize];
            var key = new StreamKey(TopicOf(path), 0, path);
            int read;
            while ((read = f.Read(buffer, 0, buffer.Length)) > 0)
            {
                var span = buffer.AsSpan(0, read);
                long chunkStart = state.Position;
                int start = 0;
                while (true)
                {
                    int nl = span[start..].IndexOf((byte)'\n');
                    if (nl < 0) break;
                    var line = span.Slice(start, nl);
                    if (state.PartialLength > 0)
                    {
                        // A line split across reads: join it with the saved head.
                        var joined = new byte[state.PartialLength + line.Length];
                        state.Partial.AsSpan(0, state.PartialLength).CopyTo(joined);
                        line.CopyTo(joined.AsSpan(state.PartialLength));
                        Push(key, joined, chunkStart + start - state.PartialLength, state.Metadata);
                        state.PartialLength = 0;
                    }
                    else
                    {
                        Push(key, line.ToArray(), chunkStart + start, state.Metadata);
                    }
                    start += nl + 1;
                }
                // Keep the unterminated tail (bounded by the analyser's line cap) until its newline arrives.
                int tail = read - start;
                int keep = Math.Min(tail, Math.Max(0, 1024 * 1024 - state.PartialLength));
                if (state.Partial.Length < state.PartialLength + keep) Array.Resize(ref state.Partial, state.PartialLength + keep);
                span.Slice(start, keep).CopyTo(state.Partial.AsSpan(state.PartialLength));
                state.PartialLength += keep;
                state.Position += read;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("cannot read {Path}: {Reason}", path, ex.Message);
        }
    }

    private void Push(StreamKey key, byte[] line, long offset, SourceMetadata metadata)
    {
        var now = _time.GetUtcNow();
        _assembler.Push(new LogRecord(key, line, offset, 0, now, metadata, now));
        // "Consumed through the '\n'": the tracker's next position is the next line's first byte.
        _tracker?.Consumed(key.Topic, 0, offset + line.Length);
    }

    private static long SafeLength(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
