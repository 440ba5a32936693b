using System.Globalization;

namespace Ingest.Correlation.Clocks;

public static class Rfc3339
{
    /// <summary>RFC 3339 with nanoseconds, UTC: what a postmortem timeline and a log line both show.</summary>
    public static string FromUnixNanos(long unixNanos)
    {
        var t = DateTimeOffset.FromUnixTimeMilliseconds(Math.DivRem(unixNanos, 1_000_000, out long rest));
        long fraction = (t.ToUnixTimeMilliseconds() % 1000) * 1_000_000 + rest;
        if (fraction < 0) fraction += 1_000_000_000;
        return t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) + "." + fraction.ToString("D9", CultureInfo.InvariantCulture) + "Z";
    }
}
