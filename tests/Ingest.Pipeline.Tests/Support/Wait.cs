namespace Ingest.Pipeline.Tests.Support;

/// <summary>Waits for a condition with a deadline; never a bare sleep as synchronisation.</summary>
public static class Wait
{
    public static void Until(Func<bool> condition, TimeSpan deadline, string what, Func<string>? progress = null)
    {
        var end = DateTime.UtcNow + deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > end) throw new TimeoutException($"timed out after {deadline.TotalSeconds:0} s waiting for: {what}" + (progress is null ? string.Empty : $" ({progress()})"));
            Thread.Sleep(20); // polling interval while waiting for the condition, not a synchronisation point
        }
    }
}
