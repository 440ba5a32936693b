using System.Text;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Delivery;
using Ingest.Pipeline.Model;
using Microsoft.Data.Sqlite;

namespace Ingest.Pipeline.Sinks.Sqlite;

/// <summary>
/// The embedded store: SQLite in WAL mode, one row per event (the JSON document plus the columns dashboards
/// filter and group on), indexed by type and time, fingerprint, and service. Inserts are idempotent by id
/// (a replayed message hits the primary key and is ignored); leak suspects are upserted (their counts grow).
/// </summary>
public sealed class SqliteEventStore : IEventSink, IEventQueries, IResumeWatermarks, IStoredHistory, IDisposable
{
    private readonly string _connectionString;
    private readonly EventDocument _documents;
    private readonly SqliteConnection _writer;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public SqliteEventStore(string path, EventDocument? documents = null)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Cache = SqliteCacheMode.Private }.ToString();
        _documents = documents ?? new EventDocument();
        _writer = Open();
        Exec(_writer, """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            CREATE TABLE IF NOT EXISTS events (
              id          TEXT PRIMARY KEY,
              type        TEXT NOT NULL,
              ts          INTEGER NOT NULL,
              topic       TEXT NOT NULL,
              partition   INTEGER NOT NULL,
              offset      INTEGER NOT NULL,
              end_pos     INTEGER NOT NULL,
              source      TEXT NOT NULL,
              service     TEXT,
              host        TEXT,
              fingerprint TEXT,
              category    TEXT,
              message     TEXT,
              doc         TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS ix_events_type_ts ON events(type, ts);
            CREATE INDEX IF NOT EXISTS ix_events_fingerprint_ts ON events(fingerprint, ts) WHERE fingerprint IS NOT NULL;
            CREATE INDEX IF NOT EXISTS ix_events_service_type_ts ON events(service, type, ts);
            CREATE INDEX IF NOT EXISTS ix_events_resume ON events(topic, partition, source, end_pos);
            """);
    }

    public string Path { get; }

    public async Task<IReadOnlyList<SinkRejection>> WriteBatchAsync(IReadOnlyList<IndexedEvent> batch, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var tx = _writer.BeginTransaction();
            using var insert = _writer.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = """
                INSERT INTO events(id, type, ts, topic, partition, offset, end_pos, source, service, host, fingerprint, category, message, doc)
                VALUES ($id, $type, $ts, $topic, $partition, $offset, $end_pos, $source, $service, $host, $fingerprint, $category, $message, $doc)
                ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, ts = excluded.ts, end_pos = excluded.end_pos
                  WHERE excluded.type = 'leak_suspect' OR (excluded.type IN ('alert', 'incident', 'dependency_graph') AND excluded.ts >= events.ts)
                """;
            var p = new Dictionary<string, SqliteParameter>();
            foreach (string name in new[] { "$id", "$type", "$ts", "$topic", "$partition", "$offset", "$end_pos", "$source", "$service", "$host", "$fingerprint", "$category", "$message", "$doc" })
            {
                p[name] = insert.Parameters.Add(name, SqliteType.Text);
            }
            insert.Prepare();
            foreach (var e in batch)
            {
                var crash = e.Event as CrashEvent;
                var alert = e.Event as GcAlertEvent;
                p["$id"].Value = e.Id;
                p["$type"].Value = e.Event.TypeName;
                p["$ts"].Value = e.Timestamp.ToUnixTimeMilliseconds();
                p["$topic"].Value = e.Stream.Topic;
                p["$partition"].Value = e.Stream.Partition;
                p["$offset"].Value = e.FirstOffset;
                p["$end_pos"].Value = e.Event.EndLine;
                p["$source"].Value = e.Stream.Source;
                p["$service"].Value = alert?.Service ?? e.Metadata.ServiceName ?? SourceMetadata.UnknownService;
                p["$host"].Value = (object?)(e.Metadata.Host ?? e.Metadata.Pod) ?? DBNull.Value;
                p["$fingerprint"].Value = (object?)crash?.Fingerprint ?? alert?.Fingerprint ?? (object)DBNull.Value;
                p["$category"].Value = (object?)crash?.Category ?? alert?.Kind ?? (object)DBNull.Value;
                p["$message"].Value = (object?)crash?.Message ?? DBNull.Value;
                p["$doc"].Value = Encoding.UTF8.GetString(_documents.Serialize(e));
                insert.ExecuteNonQuery();
            }
            tx.Commit();
        }
        finally
        {
            _writeGate.Release();
        }
        return [];
    }


    public sealed record EventRow(string Id, string Type, DateTimeOffset Timestamp, string Doc);

    public List<EventRow> Recent(string type, int limit, DateTimeOffset? since = null, string? service = null, PageCursor? before = null)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT id, type, ts, doc FROM events
            WHERE type = $type AND ts >= $since AND ($service IS NULL OR service = $service)
              AND ($before_ts IS NULL OR ts < $before_ts OR (ts = $before_ts AND id < $before_id))
            ORDER BY ts DESC, id DESC LIMIT $limit
            """;
        cmd.Parameters.AddWithValue("$before_ts", (object?)before?.TimestampMs ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$before_id", (object?)before?.Id ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$type", type);
        cmd.Parameters.AddWithValue("$since", (since ?? DateTimeOffset.MinValue.AddYears(1)).ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$service", (object?)service ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$limit", Math.Clamp(limit, 1, 1000));
        return ReadRows(cmd);
    }

    /// <summary>Events of one type in a time range, oldest first (series for charts), optionally of one service.</summary>
    public List<EventRow> Range(string type, DateTimeOffset from, DateTimeOffset to, int limit, string? service = null)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, type, ts, doc FROM events WHERE type = $type AND ts >= $from AND ts <= $to AND ($service IS NULL OR service = $service) ORDER BY ts, id LIMIT $limit";
        cmd.Parameters.AddWithValue("$type", type);
        cmd.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$service", (object?)service ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$limit", Math.Clamp(limit, 1, 10_000));
        return ReadRows(cmd);
    }

    /// <summary>Alert documents, newest first, optionally only those with a status (firing, resolved).</summary>
    public List<EventRow> Alerts(string? status, string? service, int limit)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT id, type, ts, doc FROM events
            WHERE type = 'alert' AND ($status IS NULL OR json_extract(doc, '$.event.status') = $status) AND ($service IS NULL OR service = $service)
            ORDER BY ts DESC, id DESC LIMIT $limit
            """;
        cmd.Parameters.AddWithValue("$status", (object?)status ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$service", (object?)service ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$limit", Math.Clamp(limit, 1, 1000));
        return ReadRows(cmd);
    }

    public EventRow? ById(string id)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, type, ts, doc FROM events WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id);
        return ReadRows(cmd).FirstOrDefault();
    }

    public List<CrashGroup> CrashGroups(DateTimeOffset since, int limit)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT fingerprint, MAX(category), MAX(message), COUNT(*), MIN(ts), MAX(ts),
                   GROUP_CONCAT(DISTINCT service), GROUP_CONCAT(DISTINCT host),
                   (SELECT id FROM events e2 WHERE e2.fingerprint = events.fingerprint ORDER BY ts DESC LIMIT 1)
            FROM events WHERE type = 'crash' AND ts >= $since
            GROUP BY fingerprint ORDER BY MAX(ts) DESC LIMIT $limit
            """;
        cmd.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$limit", Math.Clamp(limit, 1, 1000));
        var result = new List<CrashGroup>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            result.Add(new CrashGroup(
                r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
                Split(r.IsDBNull(6) ? null : r.GetString(6)), Split(r.IsDBNull(7) ? null : r.GetString(7)), r.GetString(8)));
        }
        return result;
    }

    public long Count(string? type = null)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM events WHERE $type IS NULL OR type = $type";
        cmd.Parameters.AddWithValue("$type", (object?)type ?? DBNull.Value);
        return (long)cmd.ExecuteScalar()!;
    }

    public IReadOnlyDictionary<string, long> Load(string topic, int partition)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT source, MAX(end_pos) FROM events WHERE topic = $topic AND partition = $partition AND type <> 'leak_suspect' GROUP BY source";
        cmd.Parameters.AddWithValue("$topic", topic);
        cmd.Parameters.AddWithValue("$partition", partition);
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        using var r = cmd.ExecuteReader();
        while (r.Read()) result[r.GetString(0)] = r.GetInt64(1);
        return result;
    }

    public IReadOnlyDictionary<string, IReadOnlyList<Ingest.GoRuntime.Analysis.LeakSnapshot>> LeakSnapshots(string topic, int partition, long before, int perStream)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        // Ranked by id first, documents read only for the rows kept (a dump's raw text is left out).
        cmd.CommandText = """
            SELECT e.source, json_remove(e.doc, '$.event.raw_text') FROM events e JOIN (
              SELECT id, ROW_NUMBER() OVER (PARTITION BY source ORDER BY end_pos DESC) AS rn FROM events
              WHERE topic = $topic AND partition = $partition AND type = 'goroutine_dump' AND end_pos < $before
                AND json_extract(doc, '$.event.goroutine_count') > 1
            ) ranked ON ranked.id = e.id
            WHERE ranked.rn <= $n ORDER BY e.source, e.end_pos
            """;
        cmd.Parameters.AddWithValue("$topic", topic);
        cmd.Parameters.AddWithValue("$partition", partition);
        cmd.Parameters.AddWithValue("$before", before * LogRecord.MaxLinesPerMessage);
        cmd.Parameters.AddWithValue("$n", perStream);
        var result = new Dictionary<string, List<Ingest.GoRuntime.Analysis.LeakSnapshot>>(StringComparer.Ordinal);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            using var doc = System.Text.Json.JsonDocument.Parse(r.GetString(1));
            string source = r.GetString(0);
            if (!result.TryGetValue(source, out var list)) result[source] = list = [];
            list.Add(StoredDocuments.LeakSnapshot(doc.RootElement));
        }
        return result.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<Ingest.GoRuntime.Analysis.LeakSnapshot>)kv.Value, StringComparer.Ordinal);
    }

    public IReadOnlyList<StoredGcEvent> GcHistory(int perStream)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT CASE WHEN e.type = 'gc' THEN e.doc ELSE json_remove(e.doc, '$.event.raw_text', '$.event.buckets', '$.event.findings') END FROM events e JOIN (
              SELECT id, type, ROW_NUMBER() OVER (PARTITION BY topic, partition, source, type ORDER BY end_pos DESC) AS rn FROM events
              WHERE type IN ('gc', 'goroutine_dump')
            ) ranked ON ranked.id = e.id
            WHERE (ranked.type = 'gc' AND ranked.rn <= $n) OR (ranked.type = 'goroutine_dump' AND ranked.rn = 1)
            ORDER BY e.ts, e.end_pos
            """;
        cmd.Parameters.AddWithValue("$n", perStream);
        var result = new List<StoredGcEvent>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            using var doc = System.Text.Json.JsonDocument.Parse(r.GetString(0));
            result.Add(StoredDocuments.GcEvent(doc.RootElement));
        }
        return result;
    }

    /// <summary>Alerts a previous run left firing, with where they came from, so this run continues or resolves them.</summary>
    public List<(GcAlertEvent Alert, IndexedEvent Origin)> OpenAlerts() =>
        Alerts(GcAlertEvent.Firing, null, 1000).Select(r => AlertDocuments.Parse(r.Doc)).ToList();

    // IEventQueries: the embedded store answers synchronously; reads use their own connections (WAL).
    public Task<IReadOnlyList<CrashGroup>> CrashGroupsAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<CrashGroup>>(CrashGroups(since, limit));

    public Task<string?> ByIdAsync(string id, string type, CancellationToken cancellationToken) =>
        Task.FromResult(ById(id) is { } row && row.Type == type ? row.Doc : null);

    public Task<IReadOnlyList<string>> RecentAsync(string type, int limit, DateTimeOffset? since, string? service, CancellationToken cancellationToken, PageCursor? before = null) =>
        Task.FromResult<IReadOnlyList<string>>(Recent(type, limit, since, service, before).Select(r => r.Doc).ToList());

    public Task<IReadOnlyList<string>> RangeAsync(string type, DateTimeOffset from, DateTimeOffset to, int limit, string? service, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(Range(type, from, to, limit, service).Select(r => r.Doc).ToList());

    public Task<IReadOnlyList<string>> AlertsAsync(string? status, string? service, int limit, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(Alerts(status, service, limit).Select(r => r.Doc).ToList());

    /// <summary>All ids (tests and audits).</summary>
    public List<string> Ids()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id FROM events ORDER BY id";
        var ids = new List<string>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) ids.Add(r.GetString(0));
        return ids;
    }

    private static List<EventRow> ReadRows(SqliteCommand cmd)
    {
        var rows = new List<EventRow>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) rows.Add(new EventRow(r.GetString(0), r.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)), r.GetString(3)));
        return rows;
    }

    private static IReadOnlyList<string> Split(string? csv) => csv is null ? [] : csv.Split(',', StringSplitOptions.RemoveEmptyEntries);

    private SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        Exec(c, "PRAGMA busy_timeout=5000;");
        return c;
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _writeGate.Dispose();
    }
}
