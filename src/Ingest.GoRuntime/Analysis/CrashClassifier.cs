using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Analysis;

/// <summary>Maps a crash's messages and stack to the fixed taxonomy. Ordinal prefix/substring checks only.</summary>
public static class CrashClassifier
{
    private static readonly (string Needle, string Category)[] s_panicRules =
    [
        ("runtime error: invalid memory address or nil pointer dereference", CrashCategory.NilPointerDereference),
        ("runtime error: index out of range", CrashCategory.IndexOutOfRange),
        ("runtime error: slice bounds out of range", CrashCategory.SliceBoundsOutOfRange),
        ("assignment to entry in nil map", CrashCategory.NilMapAssignment),
        ("runtime error: integer divide by zero", CrashCategory.IntegerDivideByZero),
        ("interface conversion:", CrashCategory.TypeAssertion),
        ("send on closed channel", CrashCategory.ClosedChannel),
        ("close of closed channel", CrashCategory.ClosedChannel),
        ("close of nil channel", CrashCategory.ClosedChannel),
        ("sync: negative WaitGroup counter", CrashCategory.NegativeWaitGroup),
        ("sync: WaitGroup is reused before previous Wait has returned", CrashCategory.NegativeWaitGroup),
        ("runtime error: cgo argument has Go pointer", CrashCategory.Cgo),
        ("runtime error: cgo result has Go pointer", CrashCategory.Cgo),
        ("test timed out after ", CrashCategory.TestTimeout),
    ];

    private static readonly (string Needle, string Category)[] s_fatalRules =
    [
        ("all goroutines are asleep - deadlock!", CrashCategory.Deadlock),
        ("no goroutines (main called runtime.Goexit) - deadlock!", CrashCategory.Deadlock),
        ("concurrent map", CrashCategory.ConcurrentMapAccess),
        ("sync: unlock of unlocked mutex", CrashCategory.UnlockOfUnlockedMutex),
        ("sync: RUnlock of unlocked RWMutex", CrashCategory.UnlockOfUnlockedMutex),
        ("sync: Unlock of unlocked RWMutex", CrashCategory.UnlockOfUnlockedMutex),
        ("stack overflow", CrashCategory.StackOverflow),
        ("out of memory", CrashCategory.OutOfMemory),
        ("checkptr:", CrashCategory.UnsafePointer),
        ("found bad pointer in Go heap", CrashCategory.UnsafePointer),
        ("invalid pointer found on stack", CrashCategory.UnsafePointer),
        ("unexpected signal during runtime execution", CrashCategory.UnexpectedSignal),
        ("fault", CrashCategory.UnexpectedSignal),
        ("sync: negative WaitGroup counter", CrashCategory.NegativeWaitGroup),
    ];

    public static string Classify(CrashEvent crash)
    {
        string category = CrashCategory.Other;
        string message = crash.Message;
        if (crash.Kind == CrashKinds.Fatal)
        {
            category = Match(message, s_fatalRules) ?? Match(message, s_panicRules) ?? CrashCategory.Other;
        }
        else if (crash.Kind == CrashKinds.LoggedStack)
        {
            // The error text of a logged failure names a runtime error when a recovered panic was logged.
            category = Match(message, s_panicRules) ?? Match(message, s_fatalRules) ?? CrashCategory.LoggedError;
        }
        else if (crash.Kind == CrashKinds.DataRace)
        {
            category = CrashCategory.DataRace;
        }
        else if (crash.Kind == CrashKinds.Signal)
        {
            category = CrashCategory.UnexpectedSignal;
        }
        else
        {
            // The last value of a chain is what killed the process; an earlier runtime error usually caused it.
            category = Match(message, s_panicRules) ?? CrashCategory.Other;
            if (category == CrashCategory.Other)
            {
                for (int i = crash.Panics.Count - 2; i >= 0 && category == CrashCategory.Other; i--)
                {
                    category = Match(crash.Panics[i], s_panicRules) ?? CrashCategory.Other;
                }
            }
            if (category == CrashCategory.Other && !message.StartsWith("runtime error: ", StringComparison.Ordinal))
            {
                category = CrashCategory.CustomPanic;
            }
        }
        if (category == CrashCategory.UnexpectedSignal && RanInCgo(crash)) category = CrashCategory.Cgo;
        return category;
    }

    private static string? Match(string message, (string Needle, string Category)[] rules)
    {
        foreach (var (needle, cat) in rules)
        {
            if (message.Contains(needle, StringComparison.Ordinal)) return cat;
        }
        return null;
    }

    /// <summary>A fault while the crashing goroutine was inside C code (cgocall on its stack, or the runtime said so).</summary>
    private static bool RanInCgo(CrashEvent crash)
    {
        if (crash.Preamble.Exists(p => p.Contains("signal arrived during cgo execution", StringComparison.Ordinal))) return true;
        var g = crash.CrashingGoroutine;
        if (g is null) return false;
        foreach (var f in g.Frames)
        {
            if (f.Function is "runtime.cgocall" or "runtime.asmcgocall" || f.Function.Contains("._Cfunc_", StringComparison.Ordinal)) return true;
        }
        return false;
    }
}

public static class CrashKinds
{
    public const string Panic = "panic";
    public const string Fatal = "fatal error";
    public const string Signal = "signal";
    public const string HttpPanic = "http panic";
    public const string DataRace = "data race";
    /// <summary>A stack a structured logger wrote into a record: the failure was logged, the process went on.</summary>
    public const string LoggedStack = "logged_stack";
}
