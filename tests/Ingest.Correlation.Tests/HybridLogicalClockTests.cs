using FsCheck;
using FsCheck.Fluent;
using Ingest.Correlation.Clocks;

namespace Ingest.Correlation.Tests;

public sealed class HybridLogicalClockTests
{
    private const long Ms = 1_000_000;

    [Fact]
    public void Hand_worked_cases_follow_the_papers_rules()
    {
        // Node a: physical 10 → (10,0); again at physical 10 → (10,1) (same wall: counter).
        var a = new HybridLogicalClock("a", maxOffsetNanos: 100);
        Assert.Equal(new HybridTimestamp(10, 0), a.Local(10));
        Assert.Equal(new HybridTimestamp(10, 1), a.Local(10));
        // Physical time moved: counter resets.
        Assert.Equal(new HybridTimestamp(12, 0), a.Local(12));
        // Node b is behind (physical 8) and receives a's (12,0): l = 12, c = c_m + 1.
        var b = new HybridLogicalClock("b", maxOffsetNanos: 100);
        Assert.True(b.Receive(new HybridTimestamp(12, 0), 8, out var r1));
        Assert.Equal(new HybridTimestamp(12, 1), r1);
        // b's next local event at physical 9 keeps l = 12: c + 1.
        Assert.Equal(new HybridTimestamp(12, 2), b.Local(9));
        // b receives (12,5) while its own l is 12: max(c, c_m) + 1.
        Assert.True(b.Receive(new HybridTimestamp(12, 5), 10, out var r2));
        Assert.Equal(new HybridTimestamp(12, 6), r2);
        // A receive whose physical time is ahead of both: l = pt, c = 0.
        Assert.True(b.Receive(new HybridTimestamp(12, 9), 20, out var r3));
        Assert.Equal(new HybridTimestamp(20, 0), r3);
        // l == l_m but above the local l: c = c_m + 1.
        var c = new HybridLogicalClock("c", maxOffsetNanos: 100);
        c.Local(5);
        Assert.True(c.Receive(new HybridTimestamp(30, 4), 25, out var r4));
        Assert.Equal(new HybridTimestamp(30, 5), r4);
    }

    [Fact]
    public void A_stamp_beyond_the_maximum_offset_is_not_merged_and_is_counted()
    {
        var clock = new HybridLogicalClock("b", maxOffsetNanos: 500 * Ms);
        clock.Local(1_000 * Ms);
        Assert.False(clock.Receive(new HybridTimestamp(2_000 * Ms, 0), 1_001 * Ms, out var stamp));
        Assert.Equal(new HybridTimestamp(1_001 * Ms, 0), stamp); // a local event here
        Assert.Equal(1, clock.SkewRejections);
        Assert.True(clock.Receive(new HybridTimestamp(1_400 * Ms, 0), 1_002 * Ms, out _)); // within the offset
    }

    [Fact]
    public void Text_form_round_trips_and_garbage_is_no_stamp()
    {
        Assert.True(HybridTimestamp.TryParse("1764410400123456789,3", out var s));
        Assert.Equal(new HybridTimestamp(1764410400123456789, 3), s);
        Assert.Equal("1764410400123456789,3", s.ToString());
        foreach (string bad in new[] { "", ",", "1,", ",1", "-1,0", "1,-2", "abc,1", "1;2", new string('9', 40) + ",1", "1,99999999999" })
            Assert.False(HybridTimestamp.TryParse(bad, out _), bad);
    }

    /// <summary>
    /// A random run of the paper's system: N nodes with physical clocks skewed within ±maxSkew, ticking
    /// forward at random, doing local events, sends and receives with random delays.
    /// </summary>
    private sealed record Step(int Node, int Kind, int Tick, int Delay, int Target);

    private static Gen<Step[]> Steps(int nodes) =>
        Gen.Choose(0, nodes - 1).SelectMany(n => Gen.Choose(0, 2).SelectMany(k => Gen.Choose(0, 3).SelectMany(t => Gen.Choose(0, 50).SelectMany(d =>
            Gen.Choose(0, nodes - 1).Select(target => new Step(n, k, t, d, target)))))).ArrayOf();

    private sealed class Run
    {
        public readonly List<(int Node, HybridTimestamp Stamp)> Events = [];
        public readonly List<(int From, HybridTimestamp Send, HybridTimestamp Receive, bool Accepted)> Messages = [];
        public readonly List<(int Node, HybridTimestamp Stamp, long Physical)> Accepted = [];
        public int MaxLogical;
    }

    private static Run Simulate(Step[] steps, int[] skews, long maxOffset)
    {
        int n = skews.Length;
        var clocks = Enumerable.Range(0, n).Select(i => new HybridLogicalClock("n" + i, maxOffset)).ToArray();
        long trueTime = 1_000_000;
        var inFlight = new List<(int From, int To, long Arrive, HybridTimestamp Stamp)>();
        var run = new Run();
        foreach (var s in steps)
        {
            trueTime += s.Tick;
            long Physical(int node) => trueTime + skews[node];
            // Deliver what has arrived.
            foreach (var m in inFlight.Where(m => m.Arrive <= trueTime).ToList())
            {
                inFlight.Remove(m);
                bool ok = clocks[m.To].Receive(m.Stamp, Physical(m.To), out var r);
                run.Events.Add((m.To, r));
                run.Messages.Add((m.From, m.Stamp, r, ok));
                if (ok) run.Accepted.Add((m.To, r, Physical(m.To)));
                run.MaxLogical = Math.Max(run.MaxLogical, r.Logical);
            }
            var stamp = clocks[s.Node].Local(Physical(s.Node));
            run.Events.Add((s.Node, stamp));
            run.Accepted.Add((s.Node, stamp, Physical(s.Node)));
            run.MaxLogical = Math.Max(run.MaxLogical, stamp.Logical);
            if (s.Kind == 1 && s.Target != s.Node) inFlight.Add((s.Node, s.Target, trueTime + s.Delay, stamp));
        }
        return run;
    }

    private static Gen<int[]> Skews(int nodes, int maxSkew) => Gen.Choose(-maxSkew, maxSkew).ArrayOf(nodes);

    [Fact]
    public void Every_node_stamps_its_events_strictly_increasing()
    {
        Prop.ForAll(Arb.From(Skews(4, 200)), Arb.From(Steps(4)), (skews, steps) =>
        {
            var run = Simulate(steps, skews, maxOffset: 500);
            return run.Events.GroupBy(e => e.Node).All(g => g.Zip(g.Skip(1)).All(p => p.First.Stamp < p.Second.Stamp));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void A_receive_is_always_after_its_send_when_merged()
    {
        Prop.ForAll(Arb.From(Skews(4, 200)), Arb.From(Steps(4)), (skews, steps) =>
        {
            var run = Simulate(steps, skews, maxOffset: 500);
            return run.Messages.Where(m => m.Accepted).All(m => m.Send < m.Receive);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Accepted_stamps_stay_within_the_maximum_offset_of_physical_time()
    {
        // Skews up to ±200 between nodes (so up to 400 apart), maximum offset 500: everything is accepted, and
        // l − pt never exceeds the spread of the clocks plus the delay-free drift (bounded by the max offset).
        Prop.ForAll(Arb.From(Skews(4, 200)), Arb.From(Steps(4)), (skews, steps) =>
        {
            var run = Simulate(steps, skews, maxOffset: 500);
            return run.Accepted.All(a => a.Stamp.Wall - a.Physical <= 500) && run.Messages.All(m => m.Accepted);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void A_node_beyond_the_maximum_offset_cannot_drag_the_others_forward()
    {
        // Nodes 0-2 within ±100; node 3 is 5,000 ahead; maximum offset 500.
        Prop.ForAll(Arb.From(Skews(3, 100).Select(s => s.Append(5_000).ToArray())), Arb.From(Steps(4)), (skews, steps) =>
        {
            var run = Simulate(steps, skews, maxOffset: 500);
            bool othersBounded = run.Accepted.Where(a => a.Node != 3).All(a => a.Stamp.Wall - a.Physical <= 500);
            bool fromSkewedRejected = run.Messages.Where(m => m.From == 3).All(m => !m.Accepted);
            return othersBounded && fromSkewedRejected;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void The_logical_counter_stays_bounded()
    {
        // Kulkarni et al., Theorem 3: c ≤ N·(ε + 1) with ε the clock uncertainty in ticks (here 2·maxSkew).
        const int nodes = 4, maxSkew = 5;
        Prop.ForAll(Arb.From(Skews(nodes, maxSkew)), Arb.From(Steps(nodes)), (skews, steps) =>
        {
            // Physical time must advance for the bound to hold: at least one tick per step.
            var ticking = steps.Select(s => s with { Tick = Math.Max(1, s.Tick) }).ToArray();
            var run = Simulate(ticking, skews, maxOffset: 1_000);
            return run.MaxLogical <= nodes * (2 * maxSkew + 1);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void The_skew_estimator_learns_lower_bounds_from_children_starting_before_parents()
    {
        var est = new SkewEstimator();
        est.Observe("a", parentStart: 1_000, childNode: "b", childStart: 1_200); // b ahead or in order: nothing
        Assert.Equal(0, est.LagNanos("b"));
        est.Observe("a", 1_000, "b", 700); // b's child started 300 before its parent: b lags ≥ 300
        est.Observe("a", 2_000, "b", 1_900); // a weaker bound does not lower it
        Assert.Equal(300, est.LagNanos("b"));
        est.Observe("b", 1_000, "c", 900); // c lags b by 100, b lags a by 300
        Assert.Equal(400, est.LagNanos("c"));
    }
}
