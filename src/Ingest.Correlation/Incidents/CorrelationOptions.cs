namespace Ingest.Correlation.Incidents;

public sealed class CorrelationOptions
{
    public const string SectionName = "Correlation";

    /// <summary>A stamp further ahead of a receiver's clock than this is not merged (and flagged). Also the bound
    /// within which a logged crash and a span of the same service and host are taken for the same moment.</summary>
    public TimeSpan MaxClockOffset { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Events are held this long (by the latest time seen) so causally earlier ones arriving later go first.</summary>
    /// <remarks>Detections trail their traces' spans by the time a crash takes to be assembled (the idle
    /// flush, about a second) and published: the window must be longer than that.</remarks>
    public TimeSpan ReorderWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A trace is also held this long after its last item arrived (wall time): detections come from logs,
    /// later than the spans of the same moment (a crash is assembled, then published), while other traces'
    /// spans keep moving the event-time watermark on.
    /// </summary>
    public TimeSpan MinHold { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An untraced failure that is not a crash joins the incident of the nearest crash of the same
    /// (known) service within this window.</summary>
    public TimeSpan ServiceWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Bounds: items waiting in the reorder buffer, and incidents and spans remembered.</summary>
    public int MaxBuffered { get; set; } = 100_000;
    public int MaxSpans { get; set; } = 200_000;
    public int MaxIncidents { get; set; } = 10_000;
}
