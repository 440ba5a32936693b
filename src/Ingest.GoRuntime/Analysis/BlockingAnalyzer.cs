using Ingest.GoRuntime.Collections;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Text;

namespace Ingest.GoRuntime.Analysis;

/// <summary>
/// Finds what an SRE looks for in a dump: many goroutines parked on one mutex or channel (with the goroutine
/// that probably holds it), waits of many minutes, and the goroutines of an all-asleep deadlock.
/// Goroutines are observed one at a time and aggregated on the fly into flat, reference-free tables, so a
/// 100,000-goroutine dump costs a few MB and no per-goroutine objects for the GC to trace.
/// </summary>
public sealed class BlockingAnalyzer(AnalyzerOptions options, StringTable? strings = null)
{
    private const int MaxPairsPerGoroutine = 4;
    private const int MaxSamples = 20;
    private readonly StringTable _strings = strings ?? new StringTable();
    private readonly FunctionFacts _facts = new();
    // One flat, reference-free record per waiting goroutine; grouped by sorting at the end. A dump where every
    // goroutine waits on its own channel would otherwise build 100,000 dictionary entries or objects.
    private readonly ChunkedList<WaitRecord> _waits = new();

    /// <summary>
    /// Grouped by (FunctionId, Address, KeyCaller). A channel or semaphore wait: the primitive and its address,
    /// KeyCaller -1. A lock wait: the lock function, the caller's receiver as Address and the caller as KeyCaller,
    /// because the lock's own address is often not printed (RLock and Lock are inlined, and a crash's traceback
    /// hides the runtime frames that carry it) while the receiver is, if only as a stale register value.
    /// </summary>
    private readonly record struct WaitRecord(int FunctionId, ulong Address, int KeyCaller, long GoroutineId, int CallerId, ulong CallerArg, ulong LockAddress);

    private readonly ChunkedList<Pair> _pairs = new();
    private const int MaxCallersPerGroup = 64;

    /// <summary>(function, first argument) of one frame outside the standard library, and where its goroutine waits.</summary>
    private readonly record struct Pair(long GoroutineId, int StateId, int FunctionId, ulong Arg, int WaitFunctionId, ulong WaitAddress, int WaitKeyCaller, ulong WaitLockAddress);

    private sealed record WaitGroup(int FunctionId, ulong Address, int KeyCaller, int Count, List<long> Sample, int CallerId, ulong CallerArg, ulong LockAddress);

    /// <summary>Records where the goroutine waits (primitive and address) and its (function, receiver) pairs.</summary>
    public void Observe(long id, string state, int stateId, ReadOnlySpan<StackFrame> frames)
    {
        int waitFnId = -1;
        ulong addr = 0;
        int callerId = -1;
        ulong callerArg = 0;
        int lockFnId = -1;
        bool lockFnCalled = false;
        ulong lockAddr = 0;
        foreach (ref readonly var f in frames)
        {
            var kind = _facts.Of(f);
            bool runtime = (kind & FunctionKind.Runtime) != 0;
            bool sync = (kind & FunctionKind.Sync) != 0;
            if (!runtime && !sync)
            {
                callerId = f.FunctionId;
                callerArg = f.FirstArg;
                break;
            }
            if ((kind & FunctionKind.Lock) != 0 && f.FunctionId >= 0 && (!f.Inlined || !lockFnCalled))
            {
                // The outermost lock frame that was really called (RWMutex.Lock over Mutex.lockSlow), else the inlined one (RLock).
                lockFnId = f.FunctionId;
                lockFnCalled = !f.Inlined;
                if (lockAddr == 0 && !f.Inlined) lockAddr = f.FirstArg;
            }
            if (f.FirstArg == 0 || f.Inlined || f.FunctionId < 0) continue;
            if (sync || ((kind & FunctionKind.RuntimeWait) != 0 && waitFnId < 0))
            {
                waitFnId = f.FunctionId;
                addr = f.FirstArg;
            }
        }
        int keyCaller = -1;
        if (lockFnId >= 0 && callerId >= 0)
        {
            (waitFnId, addr, keyCaller) = (lockFnId, callerArg, callerId);
        }
        if (waitFnId >= 0 && state != "running") _waits.Add(new WaitRecord(waitFnId, addr, keyCaller, id, callerId, callerArg, lockAddr));

        int taken = 0;

        foreach (ref readonly var f in frames)
        {
            if (f.FirstArg == 0 || f.FunctionId < 0 || (_facts.Of(f) & FunctionKind.StandardLibrary) != 0) continue;
            _pairs.Add(new Pair(id, stateId, f.FunctionId, f.FirstArg, waitFnId, addr, keyCaller, lockAddr));
            if (++taken == MaxPairsPerGoroutine) break;
        }
    }

    public List<BlockingFinding> Findings(IReadOnlyList<GoroutineBucket> buckets, string? crashCategory)
    {
        var findings = new List<BlockingFinding>();
        foreach (var group in Groups().Where(g => g.Count >= options.ContentionThreshold).OrderByDescending(g => g.Count))
        {
            string wait = _strings[group.FunctionId];
            string? callerName = group.CallerId >= 0 ? _strings[group.CallerId] : null;
            var holder = callerName is not null ? FindHolder(group, callerName, group.CallerArg) : null;
            // A lock group knows the lock's address only when some waiter printed it; the receiver stands in for it.
            ulong shown = group.KeyCaller < 0 ? group.Address : group.LockAddress != 0 ? group.LockAddress : group.Address;
            string? addr = shown == 0 ? null : "0x" + shown.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
            string on = addr is null ? string.Empty : group.KeyCaller >= 0 && group.LockAddress == 0 ? $" on receiver {addr}" : $" on {addr}";
            findings.Add(new BlockingFinding
            {
                Kind = "contention",
                Summary = $"{group.Count} goroutines blocked in {wait}{on}" +
                          (callerName is not null ? $" (called from {callerName})" : string.Empty) +
                          (holder is null ? string.Empty : $"; suspected holder: goroutine {holder.GoroutineId} [{holder.State}] in {holder.Function}"),
                WaitFunction = wait,
                Address = addr,
                Caller = callerName,
                GoroutineCount = group.Count,
                SampleIds = group.Sample,
                SuspectedHolder = holder,
                WaitSite = buckets.FirstOrDefault(b => b.Ids.Contains(group.Sample[0]))?.WaitSite,
            });
        }
        foreach (var b in buckets)
        {
            if (b.MaxWaitMinutes < options.LongWaitMinutes) continue;
            findings.Add(new BlockingFinding
            {
                Kind = "long_wait",
                Summary = $"{b.Count} goroutines in [{b.State}] for up to {b.MaxWaitMinutes} minutes at {WaitSite.Format(b.WaitSite)}",
                WaitFunction = b.TopFunction,
                Caller = b.WaitSite?.Function,
                WaitSite = b.WaitSite,
                GoroutineCount = b.Count,
                MaxWaitMinutes = b.MaxWaitMinutes,
                SampleIds = b.Ids.Take(MaxSamples).ToList(),
            });
        }
        if (crashCategory == CrashCategory.Deadlock)
        {
            var blocked = buckets.Where(b => b.State != "running" && b.State != "runnable").ToList();
            findings.Add(new BlockingFinding
            {
                Kind = "deadlock",
                Summary = "all goroutines are asleep: " + string.Join("; ", blocked.Take(5).Select(b => $"{b.Count}× [{b.State}] at {WaitSite.Format(b.WaitSite)}")),
                GoroutineCount = blocked.Sum(b => b.Count),
                SampleIds = blocked.SelectMany(b => b.Ids).Take(MaxSamples).ToList(),
            });
        }
        return findings;
    }

    /// <summary>Runs of equal (function, address, key caller) after sorting; the most common caller of each run.</summary>
    private List<WaitGroup> Groups()
    {
        var groups = new List<WaitGroup>();
        var span = _waits.ToArray().AsSpan();
        span.Sort(static (a, b) => a.FunctionId != b.FunctionId ? a.FunctionId.CompareTo(b.FunctionId) : a.Address != b.Address ? a.Address.CompareTo(b.Address)
            : a.KeyCaller != b.KeyCaller ? a.KeyCaller.CompareTo(b.KeyCaller) : a.GoroutineId.CompareTo(b.GoroutineId));
        int start = 0;
        for (int i = 1; i <= span.Length; i++)
        {
            if (i < span.Length && span[i].FunctionId == span[start].FunctionId && span[i].Address == span[start].Address && span[i].KeyCaller == span[start].KeyCaller) continue;
            int count = i - start;
            if (count >= 2)
            {
                var run = span[start..i];
                var callers = new Dictionary<(int, ulong), int>();
                var sample = new List<long>(Math.Min(count, MaxSamples));
                ulong lockAddress = 0;
                foreach (var w in run)
                {
                    if (lockAddress == 0) lockAddress = w.LockAddress;
                    if (sample.Count < MaxSamples) sample.Add(w.GoroutineId);
                    if (callers.Count < MaxCallersPerGroup || callers.ContainsKey((w.CallerId, w.CallerArg))) callers[(w.CallerId, w.CallerArg)] = callers.GetValueOrDefault((w.CallerId, w.CallerArg)) + 1;
                }
                var top = callers.MaxBy(kv => kv.Value).Key;
                groups.Add(new WaitGroup(span[start].FunctionId, span[start].Address, span[start].KeyCaller, count, sample, top.Item1, top.Item2, lockAddress));
            }
            start = i;
        }
        return groups;
    }

    /// <summary>
    /// The dump does not say who holds a lock. The usual holder entered the same method on the same receiver
    /// (it locked, then blocked on I/O or another lock), so look for a goroutine not waiting on this primitive
    /// with that (function, receiver) pair, else one with the same receiver under the same type or the lock's address.
    /// </summary>
    private HolderSuspect? FindHolder(WaitGroup group, string caller, ulong callerArg)
    {
        string typePrefix = TypePrefix(caller);
        HolderSuspect? sameType = null;
        foreach (var p in _pairs.Items())
        {
            if (p.WaitFunctionId == group.FunctionId && p.WaitAddress == group.Address && p.WaitKeyCaller == group.KeyCaller) continue;
            if (group.LockAddress != 0 && p.WaitLockAddress == group.LockAddress) continue; // waiting for the same lock elsewhere
            string fn = _strings[p.FunctionId];
            if (callerArg != 0 && p.Arg == callerArg && fn == caller)
            {
                return new HolderSuspect(p.GoroutineId, _strings[p.StateId], fn, $"also inside {fn} on the same receiver, not waiting for the lock");
            }
            if (sameType is null && (p.Arg == callerArg && typePrefix.Length > 0 && fn.StartsWith(typePrefix, StringComparison.Ordinal) || p.Arg == group.Address || group.LockAddress != 0 && p.Arg == group.LockAddress))
            {
                sameType = new HolderSuspect(p.GoroutineId, _strings[p.StateId], fn, $"inside {fn} on the same object, not waiting for the lock");
            }
        }
        return sameType;
    }

    private static string TypePrefix(string function)
    {
        int paren = function.IndexOf(").", StringComparison.Ordinal);
        return paren < 0 ? string.Empty : function[..(paren + 2)];
    }

    /// <summary>
    /// Two goroutines threw the same fatal error at once (the runtime's map-write check fired in both): the
    /// race itself is what to look at, so name every thrower and where it was.
    /// </summary>
    public static BlockingFinding RacingThrowers(CrashEvent crash, int extraThrows, CodeOwnership own)
    {
        var throwers = new List<Goroutine>();
        if (crash.CrashingGoroutine is { } first) throwers.Add(first);
        throwers.AddRange(crash.RacingThrowers);
        string where = string.Join(", ", throwers.Select(g => $"goroutine {g.Id} at {WaitSite.Format(WaitSite.Of(g, own))}"));
        // The other thrower's site: the crash's root cause already names the first one's.
        var other = crash.RacingThrowers.Count > 0 ? WaitSite.Of(crash.RacingThrowers[0], own) : null;
        return new BlockingFinding
        {
            Kind = "racing_throwers",
            Summary = $"{extraThrows + 1} goroutines threw \"{crash.Message}\" at once" + (where.Length > 0 ? ": " + where : string.Empty),
            Caller = other?.Function,
            WaitSite = other,
            GoroutineCount = extraThrows + 1,
            SampleIds = throwers.Select(g => g.Id).ToList(),
        };
    }
}
