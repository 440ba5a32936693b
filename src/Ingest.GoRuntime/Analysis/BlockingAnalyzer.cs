using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Analysis;

/// <summary>
/// Finds what an SRE looks for in a dump: many goroutines parked on one mutex or channel (with the goroutine
/// that probably holds it), waits of many minutes, and the goroutines of an all-asleep deadlock.
/// Observes goroutines one at a time and keeps a compact record of each, not its stack.
/// </summary>
public sealed class BlockingAnalyzer(AnalyzerOptions options)
{
    private const int MaxPairsPerGoroutine = 8;
    private readonly List<WaitRecord> _waits = [];
    private readonly List<(long Id, string State, string Top, (string Function, ulong Arg)[] Pairs)> _pairs = [];

    private readonly record struct WaitRecord(long Id, string WaitFunction, ulong Address, string? Caller, ulong CallerArg);

    public void Observe(Goroutine g)
    {
        string? waitFn = null;
        ulong addr = 0;
        string? caller = null;
        ulong callerArg = 0;
        foreach (var f in g.Frames)
        {
            string pkg = f.Package;
            bool runtime = pkg == "runtime";
            bool sync = pkg == "sync" || pkg == "internal/sync";
            if (!runtime && !sync)
            {
                caller = f.Function;
                callerArg = f.FirstArg;
                break;
            }
            if (f.FirstArg == 0 || f.Inlined) continue;
            if (sync || (runtime && IsRuntimeWait(f.Function) && waitFn is null))
            {
                waitFn = f.Function;
                addr = f.FirstArg;
            }
        }
        if (waitFn is not null && g.State != "running") _waits.Add(new WaitRecord(g.Id, waitFn, addr, caller, callerArg));

        var pairs = new List<(string, ulong)>(4);
        foreach (var f in g.Frames)
        {
            if (f.FirstArg == 0 || GoNames.IsStandardLibrary(f.Package)) continue;
            pairs.Add((f.Function, f.FirstArg));
            if (pairs.Count == MaxPairsPerGoroutine) break;
        }
        if (pairs.Count > 0) _pairs.Add((g.Id, g.State, g.Frames.Length > 0 ? g.Frames[0].Function : string.Empty, pairs.ToArray()));
    }

    private static bool IsRuntimeWait(string fn) =>
        fn.StartsWith("runtime.chanrecv", StringComparison.Ordinal) || fn.StartsWith("runtime.chansend", StringComparison.Ordinal) ||
        fn.StartsWith("runtime.semacquire", StringComparison.Ordinal) || fn == "runtime.notifyListWait";

    public List<BlockingFinding> Findings(IReadOnlyList<GoroutineBucket> buckets, string? crashCategory)
    {
        var findings = new List<BlockingFinding>();
        foreach (var group in _waits.GroupBy(w => (w.WaitFunction, w.Address)).Where(g => g.Count() >= options.ContentionThreshold).OrderByDescending(g => g.Count()))
        {
            var ids = group.Select(w => w.Id).ToList();
            var topCaller = group.Where(w => w.Caller is not null).GroupBy(w => (w.Caller!, w.CallerArg)).OrderByDescending(c => c.Count()).FirstOrDefault()?.Key;
            var holder = topCaller is { } tc ? FindHolder(ids, tc.Item1, tc.Item2, group.Key.Address) : null;
            string addr = "0x" + group.Key.Address.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
            findings.Add(new BlockingFinding
            {
                Kind = "contention",
                Summary = $"{ids.Count} goroutines blocked in {group.Key.WaitFunction} on {addr}" +
                          (topCaller is { } c ? $" (called from {c.Item1})" : string.Empty) +
                          (holder is null ? string.Empty : $"; suspected holder: goroutine {holder.GoroutineId} [{holder.State}] in {holder.Function}"),
                WaitFunction = group.Key.WaitFunction,
                Address = addr,
                Caller = topCaller?.Item1,
                GoroutineCount = ids.Count,
                SampleIds = ids.Take(20).ToList(),
                SuspectedHolder = holder,
            });
        }
        foreach (var b in buckets)
        {
            if (b.MaxWaitMinutes < options.LongWaitMinutes) continue;
            findings.Add(new BlockingFinding
            {
                Kind = "long_wait",
                Summary = $"{b.Count} goroutines in [{b.State}] for up to {b.MaxWaitMinutes} minutes at {FirstNonRuntime(b.Representative)}",
                WaitFunction = b.TopFunction,
                Caller = FirstNonRuntime(b.Representative),
                GoroutineCount = b.Count,
                MaxWaitMinutes = b.MaxWaitMinutes,
                SampleIds = b.Ids.Take(20).ToList(),
            });
        }
        if (crashCategory == CrashCategory.Deadlock)
        {
            var blocked = buckets.Where(b => b.State != "running" && b.State != "runnable").ToList();
            findings.Add(new BlockingFinding
            {
                Kind = "deadlock",
                Summary = "all goroutines are asleep: " + string.Join("; ", blocked.Take(5).Select(b => $"{b.Count}× [{b.State}] at {FirstNonRuntime(b.Representative)}")),
                GoroutineCount = blocked.Sum(b => b.Count),
                SampleIds = blocked.SelectMany(b => b.Ids).Take(20).ToList(),
            });
        }
        return findings;
    }

    /// <summary>
    /// The dump does not say who holds a lock. The usual holder entered the same method on the same receiver
    /// (it locked, then blocked on I/O or another lock), so look for a goroutine outside the waiters with that
    /// (function, receiver) pair, or with the same receiver under the same type, or with the lock's address.
    /// </summary>
    private HolderSuspect? FindHolder(List<long> waiterIds, string caller, ulong callerArg, ulong lockAddr)
    {
        var waiters = waiterIds.ToHashSet();
        string typePrefix = TypePrefix(caller);
        HolderSuspect? sameType = null;
        foreach (var (id, state, top, pairs) in _pairs)
        {
            if (waiters.Contains(id)) continue;
            foreach (var (fn, arg) in pairs)
            {
                if (callerArg != 0 && arg == callerArg && fn == caller)
                {
                    return new HolderSuspect(id, state, fn, $"also inside {fn} on the same receiver, not waiting for the lock");
                }
                if (sameType is null && arg != 0 && (arg == callerArg && typePrefix.Length > 0 && fn.StartsWith(typePrefix, StringComparison.Ordinal) || arg == lockAddr))
                {
                    sameType = new HolderSuspect(id, state, fn, $"inside {fn} on the same object, not waiting for the lock");
                }
            }
        }
        return sameType;
    }

    private static string TypePrefix(string function)
    {
        int paren = function.IndexOf(").", StringComparison.Ordinal);
        return paren < 0 ? string.Empty : function[..(paren + 2)];
    }

    public static string FirstNonRuntime(Goroutine g)
    {
        foreach (var f in g.Frames)
        {
            if (!GoNames.IsRuntimePackage(f.Package)) return f.Function;
        }
        return g.Frames.Length > 0 ? g.Frames[0].Function : "?";
    }
}
