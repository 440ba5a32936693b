using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Analysis;

/// <summary>
/// Where a goroutine is, in the service's own terms: its first frame of the service's code, else its first
/// frame outside the runtime. In a SIGQUIT dump every top frame is <c>runtime.gopark</c>; this is what an SRE
/// reads instead (bucket <c>wait_site</c>, findings, the report's "where" column).
/// </summary>
public static class WaitSite
{
    public static FrameRef? Of(Goroutine g, CodeOwnership own)
    {
        foreach (var f in g.Frames)
        {
            if (own.IsInApp(f)) return new FrameRef(f.Function, f.File, f.Line);
        }
        return OutsideRuntime(g) is { } o ? new FrameRef(o.Function, o.File, o.Line) : null;
    }

    /// <summary>The first frame outside the runtime and its linknamed helpers (sync.runtime_Semacquire...), else the top frame.</summary>
    public static StackFrame? OutsideRuntime(Goroutine g)
    {
        foreach (var f in g.Frames)
        {
            if (!GoNames.IsRuntimePackage(f.Package) && !f.Function.Contains(".runtime_", StringComparison.Ordinal)) return f;
        }
        return g.Frames.Length > 0 ? g.Frames[0] : null;
    }

    /// <summary>The function of <see cref="OutsideRuntime"/>, "?" for a goroutine without frames: a key that needs no ownership.</summary>
    public static string OutsideRuntimeName(Goroutine g) => OutsideRuntime(g)?.Function ?? "?";

    public static string Format(FrameRef? site) => site is null ? "?" : $"{site.Function}:{site.Line}";
}
