using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Analysis;

/// <summary>
/// Analysis of one event the scanner has finished reading: whose code each frame is, where each bucket waits,
/// the crash's category, recoverability, root-cause frame and fingerprint, and the blocking findings. The one
/// place an event is analysed: <c>ingest analyze</c> and the worker both get their events from the scanner,
/// which calls this on completion, so the reading (Scanning/) and the conclusions (here) stay apart.
/// </summary>
public static class EventAnalysis
{
    /// <param name="racingThrows">Further throwers of the same fatal error the scanner saw (0: none).</param>
    public static CodeOwnership Complete(MultiLineEvent e, IReadOnlyList<GoroutineBucket> buckets, BlockingAnalyzer blocking, AnalyzerOptions options, int racingThrows)
    {
        var crash = e as CrashEvent;
        var frames = new List<StackFrame>();
        if (crash?.CrashingGoroutine is { } cg) frames.AddRange(cg.Frames);
        foreach (var b in buckets)
        {
            frames.AddRange(b.Representative.Frames);
            if (b.Representative.CreatedBy is { } cb) frames.Add(cb);
        }
        var ownership = CodeOwnership.Infer(frames, options.Modules.Count > 0 ? [.. options.Modules] : null);
        e.Modules = ownership.Modules;
        foreach (var b in buckets) b.WaitSite = WaitSite.Of(b.Representative, ownership);

        if (crash is not null)
        {
            crash.Category = CrashClassifier.Classify(crash);
            if (crash.Kind == CrashKinds.Fatal || crash.Kind == CrashKinds.Signal) crash.Recoverable = false;
            if (crash.CrashingGoroutine is { } g)
            {
                foreach (var f in g.Frames)
                {
                    if (ownership.IsInApp(f))
                    {
                        crash.RootCause = new FrameRef(f.Function, f.File, f.Line);
                        break;
                    }
                }
            }
            crash.Fingerprint = Fingerprinter.Compute(crash, ownership);
            if (racingThrows > 0) e.Findings.Add(BlockingAnalyzer.RacingThrowers(crash, racingThrows, ownership));
        }
        e.Findings.AddRange(blocking.Findings(buckets, crash?.Category));
        return ownership;
    }
}
