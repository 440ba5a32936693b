namespace Ingest.Pipeline.Delivery;

/// <summary>
/// The acknowledgement that travels with an event (as Vector's batch notifier does): the source that owns the
/// offsets creates it, holding the event's first offset, and every path that takes the event on completes it
/// once (stored, dead-lettered, published elsewhere); the last completion releases the offset. A stage cannot
/// forget to acknowledge: it passes the event on, or takes a share with <see cref="Hold"/> and completes it.
/// </summary>
public sealed class DeliveryToken
{
    /// <summary>Documents tied to no offset (an alert resolved because its instance went quiet, incidents).</summary>
    public static readonly DeliveryToken None = new(null);

    private Action? _delivered;
    private readonly bool _tracked;
    private int _holds;

    private DeliveryToken(Action? delivered)
    {
        _delivered = delivered;
        _tracked = delivered is not null;
        _holds = _tracked ? 1 : 0;
    }

    /// <summary>By the source: one hold, the sink's; <paramref name="delivered"/> releases the offset.</summary>
    public static DeliveryToken Create(Action delivered) => new(delivered);

    public bool Tracked => _tracked;

    /// <summary>Another path must also finish before the offset may pass; take it before handing the event on.</summary>
    public DeliveryToken Hold()
    {
        if (_tracked) Interlocked.Increment(ref _holds);
        return this;
    }

    /// <summary>One path is done with the event; the last releases its offset.</summary>
    public void Complete()
    {
        if (_tracked && Interlocked.Decrement(ref _holds) == 0) Interlocked.Exchange(ref _delivered, null)?.Invoke();
    }
}
