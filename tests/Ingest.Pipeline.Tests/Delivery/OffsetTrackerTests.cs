using Ingest.Pipeline.Delivery;

namespace Ingest.Pipeline.Tests.Delivery;

public sealed class OffsetTrackerTests
{
    [Fact]
    public void The_safe_offset_never_passes_open_or_unacknowledged_events()
    {
        var t = new OffsetTracker();
        Assert.Null(t.SafeOffset("logs", 0, null)); // nothing consumed
        for (long o = 0; o < 10; o++) t.Consumed("logs", 0, o);
        Assert.Equal(10, t.SafeOffset("logs", 0, null));

        t.InFlight("logs", 0, 3);
        t.InFlight("logs", 0, 6);
        Assert.Equal(3, t.SafeOffset("logs", 0, null));
        Assert.Equal(2, t.SafeOffset("logs", 0, oldestOpen: 2)); // an event still being assembled from offset 2

        t.Acked("logs", 0, 3);
        Assert.Equal(6, t.SafeOffset("logs", 0, null));
        t.Stored("logs", 0, 6);
        Assert.Null(t.SafeOffset("logs", 0, null)); // nothing new since the last store
        t.Acked("logs", 0, 6);
        Assert.Equal(10, t.SafeOffset("logs", 0, null));
    }

    [Fact]
    public void Two_events_from_one_offset_hold_it_until_both_are_acknowledged()
    {
        var t = new OffsetTracker();
        t.Consumed("logs", 1, 5);
        t.InFlight("logs", 1, 5);
        t.InFlight("logs", 1, 5);
        t.Acked("logs", 1, 5);
        Assert.Equal(5, t.SafeOffset("logs", 1, null));
        t.Acked("logs", 1, 5);
        Assert.Equal(6, t.SafeOffset("logs", 1, null));
    }

    [Fact]
    public void Partitions_are_independent_and_forgotten_on_revocation()
    {
        var t = new OffsetTracker();
        t.Consumed("logs", 0, 100);
        t.Consumed("logs", 1, 7);
        t.InFlight("logs", 0, 50);
        Assert.Equal(50, t.SafeOffset("logs", 0, null));
        Assert.Equal(8, t.SafeOffset("logs", 1, null));
        t.Forget("logs", 0);
        Assert.Null(t.SafeOffset("logs", 0, null));
        t.Acked("logs", 0, 50); // late ack of a revoked partition: ignored
        Assert.True(t.WaitForAcks([("logs", 0), ("logs", 1)], TimeSpan.Zero));
    }

    [Fact]
    public async Task Waiting_for_acks_returns_when_the_last_one_arrives()
    {
        var t = new OffsetTracker();
        t.Consumed("logs", 0, 1);
        t.InFlight("logs", 0, 1);
        Assert.False(t.WaitForAcks([("logs", 0)], TimeSpan.Zero));
        var acker = Task.Run(() => t.Acked("logs", 0, 1));
        Assert.True(t.WaitForAcks([("logs", 0)], TimeSpan.FromSeconds(30)));
        await acker;
    }
}
