using System.Globalization;

namespace Ingest.Benchmarks;

/// <summary>
/// CPU time per thread name from /proc/self/task (Linux), so a run can show where the cores went in each
/// phase: the consume loop, librdkafka's threads, the in-process mock broker, the sink, the GC.
/// </summary>
public sealed class ThreadCpu
{
    private readonly Dictionary<int, (string Name, long Ticks)> _start = Snapshot();
    private readonly DateTime _wallStart = DateTime.UtcNow;

    private static Dictionary<int, (string Name, long Ticks)> Snapshot()
    {
        var result = new Dictionary<int, (string, long)>();
        if (!Directory.Exists("/proc/self/task")) return result;
        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
                string name = stat[(open + 1)..close];
                var fields = stat[(close + 2)..].Split(' ');
                // Fields after the name: state is [0], utime [11], stime [12] (clock ticks).
                long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                result[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] = (name, ticks);
            }
            catch (IOException)
            {
                // the thread ended between listing and reading
            }
        }
        return result;
    }

    /// <summary>Cores used per thread name since construction, busiest first.</summary>
    public string Report()
    {
        var end = Snapshot();
        double wall = (DateTime.UtcNow - _wallStart).TotalSeconds;
        var byName = new Dictionary<string, long>();
        foreach (var (tid, (name, ticks)) in end)
        {
            long before = _start.TryGetValue(tid, out var s) && s.Name == name ? s.Ticks : 0;
            string key = name.StartsWith(".NET TP", StringComparison.Ordinal) ? ".NET TP *" : name;
            byName[key] = byName.GetValueOrDefault(key) + (ticks - before);
        }
        // USER_HZ is 100 on every Linux we run on.
        return string.Join(", ", byName.Where(kv => kv.Value > 0).OrderByDescending(kv => kv.Value)
            .Select(kv => $"{kv.Key} {kv.Value / 100.0 / wall:0.00}"));
    }
}
