namespace Ingest.Pipeline.Tests.Support;

/// <summary>A clock the test moves by hand (milliseconds): idle timeouts without sleeping.</summary>
public sealed class ManualTime : TimeProvider
{
    public long Now { get; set; } = 1_000_000;

    public override long GetTimestamp() => Now;

    public override long TimestampFrequency => 1000;
}
