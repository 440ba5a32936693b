using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Analysis;

[Flags]
public enum FunctionKind : byte
{
    None = 0,
    Known = 1,
    Runtime = 2,
    Sync = 4,
    StandardLibrary = 8,
    /// <summary>Where a parked goroutine waits on a channel or semaphore (runtime.chanrecv1, runtime.semacquire1...).</summary>
    RuntimeWait = 16,
    /// <summary>Taking a Mutex or RWMutex (Lock, RLock, lockSlow): contention is grouped by the caller and its receiver.</summary>
    Lock = 32,
}

/// <summary>Per-stream cache of what a function name says, indexed by its interned id: computed once per name, not per frame.</summary>
public sealed class FunctionFacts
{
    private FunctionKind[] _kinds = new FunctionKind[1024];

    public FunctionKind Of(in StackFrame f)
    {
        int id = f.FunctionId;
        if (id < 0) return Compute(f.Function);
        if (id >= _kinds.Length) Array.Resize(ref _kinds, Math.Max(id + 1, _kinds.Length * 2));
        var k = _kinds[id];
        if (k == FunctionKind.None) _kinds[id] = k = Compute(f.Function);
        return k;
    }

    public static FunctionKind Compute(string function)
    {
        string pkg = GoNames.PackageOf(function);
        var k = FunctionKind.Known;
        if (pkg == "runtime") k |= FunctionKind.Runtime;
        if (pkg is "sync" or "internal/sync")
        {
            k |= FunctionKind.Sync;
            if (function.EndsWith("(*Mutex).Lock", StringComparison.Ordinal) || function.EndsWith("(*Mutex).lockSlow", StringComparison.Ordinal) ||
                function.EndsWith("(*RWMutex).Lock", StringComparison.Ordinal) || function.EndsWith("(*RWMutex).RLock", StringComparison.Ordinal))
            {
                k |= FunctionKind.Lock;
            }
        }
        if (GoNames.IsStandardLibrary(pkg)) k |= FunctionKind.StandardLibrary;
        if (function.StartsWith("runtime.chanrecv", StringComparison.Ordinal) || function.StartsWith("runtime.chansend", StringComparison.Ordinal) ||
            function.StartsWith("runtime.semacquire", StringComparison.Ordinal) || function == "runtime.notifyListWait")
        {
            k |= FunctionKind.RuntimeWait;
        }
        return k;
    }
}
