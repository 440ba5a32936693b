namespace Ingest.GoRuntime.Model;

[Flags]
public enum FrameFlags : byte
{
    None = 0,
    /// <summary>Printed with <c>(...)</c>: an inlined call, no arguments and no PC offset.</summary>
    Inlined = 1,
    /// <summary>The function line had no file line after it.</summary>
    NoSource = 2,
    /// <summary>The first argument ended with '?': a register value that may be stale (Go 1.18+).</summary>
    FirstArgUncertain = 4,
}

/// <summary>One frame of a goroutine stack. Strings are interned per stream.</summary>
public readonly record struct StackFrame(
    string Function,
    int FunctionId,
    string File,
    int Line,
    ulong FirstArg,
    FrameFlags Flags,
    string? Args)
{
    public bool Inlined => (Flags & FrameFlags.Inlined) != 0;

    /// <summary>The Go import path of the function's package ("example.com/shop/internal/store"), %-unescaped.</summary>
    public string Package => GoNames.PackageOf(Function);
}
