using Ingest.GoRuntime.Analysis.Gc;

namespace Ingest.GoRuntime.Tests.Analysis.Gc;

public sealed class ImpactRegressionTests
{
    private static GcSample Sample(double pause, double live, double alloc, int procs, bool forced = false, int? goroutines = null) => new()
    {
        Num = 1, AtSeconds = 1, PauseMs = pause, ConcurrentMarkMs = 1, IntervalSeconds = 1, CpuFraction = 0.01,
        AllocRateMbPerSecond = alloc, HeapLiveMb = live, HeapGoalMb = live * 2, GoalOvershoot = 0, Procs = procs,
        Forced = forced, Goroutines = goroutines,
    };

    [Fact]
    public void The_factor_that_drives_the_pause_gets_the_weight()
    {
        var rng = new Random(3);
        var window = new List<GcSample>();
        for (int i = 0; i < 300; i++)
        {
            double live = 50 + 100 * rng.NextDouble();
            double alloc = 10 + 50 * rng.NextDouble();
            int goroutines = 100 + rng.Next(5000);
            // Pause grows with the goroutine count (stack scanning) only, plus noise.
            double pause = 0.1 + goroutines * 0.001 + 0.05 * rng.NextDouble();
            window.Add(Sample(pause, live, alloc, 4, goroutines: goroutines));
        }
        var table = ImpactRegression.Compute(window);
        Assert.Equal(300, table.Samples);
        var beta = table.Factors.ToDictionary(f => f.Factor, f => f.Beta);
        Assert.True(beta["goroutines"] > 0.95, $"goroutines {beta["goroutines"]}");
        Assert.True(Math.Abs(beta["live_heap_mb"]!.Value) < 0.05);
        Assert.True(Math.Abs(beta["alloc_rate_mb_s"]!.Value) < 0.05);
        Assert.Null(beta["gomaxprocs"]);
        Assert.Equal("constant over the window", table.Factors.Single(f => f.Factor == "gomaxprocs").Note);
        Assert.True(table.RSquared > 0.95);
    }

    [Fact]
    public void Unknown_goroutines_and_short_windows_are_explained_not_guessed()
    {
        var table = ImpactRegression.Compute([Sample(1, 10, 1, 4), Sample(2, 20, 2, 4)]);
        Assert.All(table.Factors, f => Assert.Null(f.Beta));
        Assert.All(table.Factors, f => Assert.Equal("too few cycles in the window", f.Note));

        var rng = new Random(1);
        var window = Enumerable.Range(0, 50).Select(_ => { double live = rng.NextDouble() * 100; return Sample(live * 0.01, live, rng.NextDouble(), 4); }).ToList();
        var t2 = ImpactRegression.Compute(window);
        Assert.Equal("no goroutine dump of these instances in the window", t2.Factors.Single(f => f.Factor == "goroutines").Note);
        Assert.True(t2.Factors.Single(f => f.Factor == "live_heap_mb").Beta > 0.99);
    }

    [Fact]
    public void Collinear_factors_stay_finite()
    {
        var window = Enumerable.Range(0, 40).Select(i => Sample(i * 0.1, i, i * 2, 4)).ToList();
        var table = ImpactRegression.Compute(window);
        Assert.All(table.Factors.Where(f => f.Beta is not null), f => Assert.True(double.IsFinite(f.Beta!.Value)));
    }
}
