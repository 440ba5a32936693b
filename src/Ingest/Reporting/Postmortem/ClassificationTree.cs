namespace Ingest.Reporting.Postmortem;

/// <summary>
/// The template's root-cause classification tree: top-level branches and their leaves, with the Go-specific
/// branches (goroutine leak, channel deadlock, unsafe.Pointer misuse, cgo call blocking) and GC-caused
/// incidents (thrash, pause SLO) as leaves of their own. Every crash category and GC alert kind has one leaf.
/// </summary>
public static class ClassificationTree
{
    /// <summary>Branch → (leaf, the categories it holds), in the template's order.</summary>
    public static readonly IReadOnlyList<(string Branch, IReadOnlyList<(string Leaf, string[] Categories)> Leaves)> Tree =
    [
        ("memory_safety", [
            ("nil_pointer_dereference", ["nil_pointer_dereference", "nil_map_assignment"]),
            ("bounds", ["index_out_of_range", "slice_bounds_out_of_range"]),
            ("unsafe_pointer_misuse", ["unsafe_pointer"]),
            ("unexpected_signal", ["unexpected_signal"]),
        ]),
        ("concurrency", [
            ("goroutine_leak", ["goroutine_leak"]),
            ("channel_deadlock", ["deadlock"]),
            ("concurrent_map_access", ["concurrent_map_access"]),
            ("data_race", ["data_race"]),
            ("lock_contention", ["contention"]),
            ("sync_misuse", ["closed_channel", "negative_waitgroup", "unlock_of_unlocked_mutex"]),
        ]),
        ("resource_exhaustion", [
            ("out_of_memory", ["out_of_memory"]),
            ("stack_overflow", ["stack_overflow"]),
        ]),
        ("garbage_collector", [
            ("gc_thrash", ["gc_thrash"]),
            ("gc_pause_slo", ["pause_slo", "pause_outlier"]),
            ("heap_growth", ["heap_growth", "pacer_overshoot"]),
        ]),
        ("cgo", [
            ("cgo_call_blocking", ["cgo"]),
        ]),
        ("logic", [
            ("explicit_panic", ["custom_panic"]),
            ("type_assertion", ["type_assertion"]),
            ("integer_divide_by_zero", ["integer_divide_by_zero"]),
            ("error_path", ["logged_error", "error_span", "test_timeout", "other"]),
        ]),
    ];

    /// <summary>branch/leaf for a category; an unknown one is logic/error_path (the tree's catch-all).</summary>
    public static string Branch(string category)
    {
        foreach (var (branch, leaves) in Tree)
            foreach (var (leaf, categories) in leaves)
                if (categories.Contains(category)) return $"{branch}/{leaf}";
        return "logic/error_path";
    }
}
