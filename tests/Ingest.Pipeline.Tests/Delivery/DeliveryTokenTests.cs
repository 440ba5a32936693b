using Ingest.Pipeline.Delivery;

namespace Ingest.Pipeline.Tests.Delivery;

public sealed class DeliveryTokenTests
{
    [Fact]
    public void The_offset_is_released_once_when_the_last_holder_completes()
    {
        int released = 0;
        var token = DeliveryToken.Create(() => released++);
        token.Hold(); // a stage publishing the event elsewhere
        token.Hold(); // an alert document derived from it
        token.Complete();
        token.Complete();
        Assert.Equal(0, released);
        token.Complete(); // the sink stored it
        Assert.Equal(1, released);
        token.Complete(); // a stray extra completion does not release twice
        Assert.Equal(1, released);
    }

    [Fact]
    public void Untracked_documents_hold_nothing()
    {
        Assert.False(DeliveryToken.None.Tracked);
        DeliveryToken.None.Hold().Complete();
        DeliveryToken.None.Complete();
        Assert.False(DeliveryToken.None.Tracked);
    }

    [Fact]
    public void Holds_taken_from_many_threads_release_once()
    {
        int released = 0;
        var token = DeliveryToken.Create(() => Interlocked.Increment(ref released));
        const int holders = 64;
        for (int i = 0; i < holders; i++) token.Hold();
        Parallel.For(0, holders, _ => token.Complete());
        Assert.Equal(0, released);
        token.Complete();
        Assert.Equal(1, released);
    }
}
