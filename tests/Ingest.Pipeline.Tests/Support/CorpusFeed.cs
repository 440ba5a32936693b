using System.Text;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Serialization;
using Ingest.Pipeline.Analysis;

namespace Ingest.Pipeline.Tests.Support;

/// <summary>The Go 1.19 corpus as interleaved Kafka messages (one line each, keyed by file) and what it should yield.</summary>
public static class CorpusFeed
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Corpus", "go1.19");

    public static IReadOnlyList<string> Files(int count = int.MaxValue) =>
        Directory.GetFiles(Dir, "*.txt").Order(StringComparer.Ordinal).Take(count).ToList();

    /// <summary>Round-robin over the files, one line per message, so streams interleave inside partitions.</summary>
    public static List<(string Key, byte[] Value)> Interleaved(IEnumerable<string> files)
    {
        var streams = files.Select(f => (Key: Path.GetFileNameWithoutExtension(f), Lines: File.ReadAllText(f).TrimEnd('\n').Split('\n'))).ToList();
        var result = new List<(string, byte[])>();
        int max = streams.Max(s => s.Lines.Length);
        for (int i = 0; i < max; i++)
        {
            foreach (var (key, lines) in streams)
            {
                if (i < lines.Length) result.Add((key, Encoding.UTF8.GetBytes(lines[i])));
            }
        }
        return result;
    }

    /// <summary>Per stream (file key), the events the analyser finds in the file read on its own: the reference.</summary>
    public static Dictionary<string, List<string>> Expected(IEnumerable<string> files)
    {
        var writer = new EventJsonWriter();
        return files.ToDictionary(
            f => Path.GetFileNameWithoutExtension(f),
            f => StreamAnalyzer.Analyze(f).Select(e =>
            {
                using var ms = new MemoryStream();
                using (var w = new System.Text.Json.Utf8JsonWriter(ms)) writer.Write(w, e);
                using var doc = System.Text.Json.JsonDocument.Parse(ms.ToArray());
                return Signature(doc.RootElement);
            }).Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>Per stream, the events in the store, as signatures.</summary>
    public static Dictionary<string, List<string>> Stored(Ingest.Pipeline.Sinks.Sqlite.SqliteEventStore store)
    {
        var result = new Dictionary<string, List<string>>();
        foreach (string type in new[] { "crash", "goroutine_dump", "gc", "gc_scavenge", "tagged_log", "leak_suspect" })
        {
            foreach (var row in store.Recent(type, 1000))
            {
                using var doc = System.Text.Json.JsonDocument.Parse(row.Doc);
                string source = doc.RootElement.GetProperty("source").GetString()!;
                if (!result.TryGetValue(source, out var list)) result[source] = list = [];
                list.Add(Signature(doc.RootElement.GetProperty("event")));
            }
        }
        foreach (var list in result.Values) list.Sort(StringComparer.Ordinal);
        return result;
    }

    /// <summary>What identifies an event regardless of offsets: its type and content.</summary>
    public static string Signature(System.Text.Json.JsonElement e)
    {
        string type = e.GetProperty("type").GetString()!;
        string S(string p) => e.TryGetProperty(p, out var v) ? v.ToString() : "-";
        return type switch
        {
            "crash" => $"crash|{S("category")}|{S("fingerprint")}|{S("goroutine_count")}|{S("line_count")}|{S("raw_hash")}",
            "goroutine_dump" => $"goroutine_dump|{S("goroutine_count")}|{e.GetProperty("buckets").GetArrayLength()}|{S("line_count")}|{S("raw_hash")}",
            "gc" => $"gc|{S("num")}|{S("pause_ms")}",
            "gc_scavenge" => $"gc_scavenge|{S("work_kib")}|{S("total_kib")}",
            "tagged_log" => $"tagged_log|{S("frame_id")}|{S("message")}",
            "leak_suspect" => $"leak_suspect|{S("created_by")}|{S("counts")}",
            _ => type,
        };
    }
}
