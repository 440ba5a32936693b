using System.Text.Json;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Delivery;

/// <summary>
/// Derived state (a stream's leak series, an instance's GC baselines and goroutine count) is not checkpointed:
/// after a restart it is rebuilt from the stored events it was derived from, which the store keeps anyway and
/// which are exactly what the previous run had processed (a stream's stored events form a prefix, and what was
/// not stored is read again). The leak series of a partition is restored when it is assigned, from the dumps
/// before its committed offset (the dumps after it are read again and counted as they pass); GC state once at
/// start, from the cycles and dumps stored for every instance.
/// </summary>
public interface IStoredHistory
{
    /// <summary>Per stream of a partition, its last <paramref name="perStream"/> goroutine dumps that end before offset <paramref name="before"/>, oldest first.</summary>
    IReadOnlyDictionary<string, IReadOnlyList<LeakSnapshot>> LeakSnapshots(string topic, int partition, long before, int perStream);

    /// <summary>Per stream, its last <paramref name="perStream"/> GC cycles and its latest goroutine dump, in the order they were stored.</summary>
    IReadOnlyList<StoredGcEvent> GcHistory(int perStream);
}

/// <summary>A stored GC cycle (<see cref="Cycle"/>) or goroutine dump (<see cref="Goroutines"/>) of one instance.</summary>
public sealed record StoredGcEvent(string Service, string Instance, GcCycle? Cycle, int? Goroutines);

/// <summary>Reads back, from stored documents, what derived state is rebuilt from (the same for every store).</summary>
public static class StoredDocuments
{
    public static LeakSnapshot LeakSnapshot(JsonElement stored)
    {
        var doc = stored.GetProperty("event");
        long line = doc.GetProperty("offset").GetInt64() * LogRecord.MaxLinesPerMessage + doc.GetProperty("line_index").GetInt32();
        var buckets = new List<LeakSnapshot.Bucket>();
        foreach (var b in doc.GetProperty("buckets").EnumerateArray())
        {
            var frames = b.GetProperty("frames").EnumerateArray()
                .Select(f => new LeakSnapshot.Frame(f.GetProperty("function").GetString() ?? "", f.GetProperty("package").GetString() ?? "")).ToList();
            string? createdBy = b.TryGetProperty("created_by", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            buckets.Add(new LeakSnapshot.Bucket(createdBy, frames, b.GetProperty("count").GetInt32()));
        }
        return new LeakSnapshot(line, buckets);
    }

    /// <summary>A stored gc or goroutine_dump document, under the service and instance GC analytics keys it by.</summary>
    public static StoredGcEvent GcEvent(JsonElement stored)
    {
        // The same keys as GcAnalytics.ServiceOf and InstanceOf, from the stored metadata.
        string service = Text(stored, "service") ?? Text(stored, "container") ?? SourceMetadata.UnknownService;
        string instance = Text(stored, "pod") ?? Text(stored, "host") ?? Text(stored, "source") ?? "";
        var doc = stored.GetProperty("event");
        if (doc.GetProperty("type").GetString() != "gc") return new StoredGcEvent(service, instance, null, doc.GetProperty("goroutine_count").GetInt32());
        double stw1 = doc.GetProperty("stw_sweep_termination_ms").GetDouble(), mark = doc.GetProperty("concurrent_mark_ms").GetDouble(), stw2 = doc.GetProperty("stw_mark_termination_ms").GetDouble();
        var cycle = new GcCycle
        {
            Num = doc.GetProperty("num").GetInt32(),
            AtSeconds = doc.GetProperty("at_seconds").GetDouble(),
            CpuPercent = doc.GetProperty("cpu_percent").GetInt32(),
            StwSweepTerminationMs = stw1,
            ConcurrentMarkMs = mark,
            StwMarkTerminationMs = stw2,
            ClockPhasesMs = [stw1, mark, stw2],
            CpuPhasesMs = [.. doc.GetProperty("cpu_ms").EnumerateArray().Select(e => e.GetDouble())],
            HeapStartMb = doc.GetProperty("heap_start_mb").GetDouble(),
            HeapEndMb = doc.GetProperty("heap_end_mb").GetDouble(),
            HeapLiveMb = doc.GetProperty("heap_live_mb").GetDouble(),
            HeapGoalMb = doc.GetProperty("heap_goal_mb").GetDouble(),
            StacksMb = doc.TryGetProperty("stacks_mb", out var st) ? st.GetDouble() : null,
            GlobalsMb = doc.TryGetProperty("globals_mb", out var gl) ? gl.GetDouble() : null,
            Procs = doc.GetProperty("procs").GetInt32(),
            Forced = doc.GetProperty("forced").GetBoolean(),
            Periodic = doc.GetProperty("periodic").GetBoolean(),
        };
        return new StoredGcEvent(service, instance, cycle, null);
    }

    private static string? Text(JsonElement doc, string name) => doc.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
