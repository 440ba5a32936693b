namespace Ingest.GoRuntime.Model;

/// <summary>The fixed crash taxonomy (strings are the wire values).</summary>
public static class CrashCategory
{
    public const string NilPointerDereference = "nil_pointer_dereference";
    public const string IndexOutOfRange = "index_out_of_range";
    public const string SliceBoundsOutOfRange = "slice_bounds_out_of_range";
    public const string NilMapAssignment = "nil_map_assignment";
    public const string IntegerDivideByZero = "integer_divide_by_zero";
    public const string TypeAssertion = "type_assertion";
    public const string ClosedChannel = "closed_channel";
    public const string NegativeWaitGroup = "negative_waitgroup";
    public const string UnlockOfUnlockedMutex = "unlock_of_unlocked_mutex";
    public const string CustomPanic = "custom_panic";
    public const string Deadlock = "deadlock";
    public const string ConcurrentMapAccess = "concurrent_map_access";
    public const string StackOverflow = "stack_overflow";
    public const string OutOfMemory = "out_of_memory";
    public const string UnexpectedSignal = "unexpected_signal";
    public const string Cgo = "cgo";
    public const string UnsafePointer = "unsafe_pointer";
    public const string TestTimeout = "test_timeout";
    public const string DataRace = "data_race";
    /// <summary>A logged stack (kind logged_stack) whose error text matches no other category.</summary>
    public const string LoggedError = "logged_error";
    public const string Other = "other";

    public static readonly IReadOnlyList<string> All =
    [
        NilPointerDereference, IndexOutOfRange, SliceBoundsOutOfRange, NilMapAssignment, IntegerDivideByZero,
        TypeAssertion, ClosedChannel, NegativeWaitGroup, UnlockOfUnlockedMutex, CustomPanic, Deadlock,
        ConcurrentMapAccess, StackOverflow, OutOfMemory, UnexpectedSignal, Cgo, UnsafePointer, TestTimeout, DataRace, LoggedError, Other,
    ];
}
