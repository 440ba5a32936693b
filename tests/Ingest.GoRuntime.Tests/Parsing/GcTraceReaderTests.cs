using System.Text;
using Ingest.GoRuntime.Parsing.GcTrace;
using Ingest.GoRuntime.Tests.Support;
using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Tests.Parsing;

public sealed class GcTraceReaderTests
{
    [Fact]
    public void Reads_a_go119_line_with_all_fields()
    {
        Assert.True(GcTraceReader.TryReadCycle("gc 7 @0.444s 9%: 0.12+2.4+0.017 ms clock, 0.49+0.24/1.9/3.1+0.068 ms cpu, 74->78->65 MB, 79 MB goal, 0 MB stacks, 0 MB globals, 4 P (forced)"u8, out var c));
        Assert.Equal(7, c!.Num);
        Assert.Equal(0.444, c.AtSeconds, 6);
        Assert.Equal(9, c.CpuPercent);
        Assert.Equal(0.12, c.StwSweepTerminationMs, 6);
        Assert.Equal(2.4, c.ConcurrentMarkMs, 6);
        Assert.Equal(0.017, c.StwMarkTerminationMs, 6);
        Assert.Equal(0.137, c.PauseMs, 6);
        Assert.Equal([0.49, 0.24, 1.9, 3.1, 0.068], c.CpuPhasesMs);
        Assert.Equal((74, 78, 65, 79), (c.HeapStartMb, c.HeapEndMb, c.HeapLiveMb, c.HeapGoalMb));
        Assert.Equal(0, c.StacksMb);
        Assert.Equal(4, c.Procs);
        Assert.True(c.Forced);
    }

    [Fact]
    public void Reads_pre_go118_lines_without_stacks_and_globals()
    {
        Assert.True(GcTraceReader.TryReadCycle("gc 12 @3.100s 1%: 0.015+1.2+0.003 ms clock, 0.060+0.10/1.1/2.2+0.012 ms cpu, 4->4->1 MB, 5 MB goal, 8 P"u8, out var c));
        Assert.Null(c!.StacksMb);
        Assert.Equal(8, c.Procs);
        Assert.False(c.Forced);
    }

    [Fact]
    public void Reads_go15_five_phase_lines()
    {
        Assert.True(GcTraceReader.TryReadCycle("gc #3 @0.006s 2%: 0.032+0.28+0.012+0.31+0.065 ms clock, 0.12+0.28+0+0.20/0.35/0.31+0.26 ms cpu, 4->4->0 MB, 5 MB goal, 4 P"u8, out var c));
        Assert.Equal(5, c!.ClockPhasesMs.Count);
        Assert.Equal(0.032 + 0.065, c.PauseMs, 6);
    }

    [Theory]
    [InlineData("2024-05-01T10:00:00.000Z pod=shop-7f9 gc 3 @0.005s 13%: 0.028+0.16+0.041 ms clock, 0.056+0.15/0.087/0.020+0.082 ms cpu, 13->13->13 MB, 14 MB goal, 0 MB stacks, 0 MB globals, 2 P")]
    [InlineData("{\"log\":\"gc 3 @0.005s 13%: 0.028+0.16+0.041 ms clock, 0.056+0.15/0.087/0.020+0.082 ms cpu, 13->13->13 MB, 14 MB goal, 2 P")]
    public void Reads_lines_behind_a_logger_prefix(string line)
    {
        Assert.True(GcTraceReader.TryReadCycle(Encoding.UTF8.GetBytes(line), out var c));
        Assert.Equal(3, c!.Num);
    }

    [Theory]
    [InlineData("level=info msg=\"gc 1 finished\"")]
    [InlineData("gc 1 @0.001s 15%: garbage")]
    [InlineData("the gc 12 @ noon")]
    [InlineData("gc 1 @0.001s 15%: 0.15+0.68+0.054 ms clock, 0.30+0.33/0.30/0.36+0.10 ms cpu, 4->4->4 MB, 4 MB goal, X P")]
    public void Rejects_lines_that_are_not_gctrace(string line) =>
        Assert.False(GcTraceReader.TryReadCycle(Encoding.UTF8.GetBytes(line), out _));

    [Theory]
    [InlineData("scav 3072 KiB work, 4416 KiB total, 74% util", 3072.0, 4416.0, 74)]
    [InlineData("scav 10 KiB work (bg), 2 KiB work (eager), 4400 KiB now, 50% util", 12.0, 4400.0, 50)]
    public void Reads_scavenger_lines(string line, double work, double total, int util)
    {
        Assert.True(GcTraceReader.TryReadScavenge(Encoding.UTF8.GetBytes(line), out var s));
        Assert.Equal(work, s!.WorkKib);
        Assert.Equal(total, s.TotalKib);
        Assert.Equal(util, s.UtilPercent);
    }

    [Fact]
    public void Reads_old_scvg_lines()
    {
        Assert.True(GcTraceReader.TryReadScavenge("scvg3: inuse: 4, idle: 1, sys: 6, released: 0, consumed: 6 (MB)"u8, out var s));
        Assert.Equal(4, s!.InuseMb);
        Assert.True(GcTraceReader.TryReadScavenge("scvg12: 2 MB released"u8, out s));
        Assert.Equal(2, s!.ReleasedMb);
    }

    [Fact]
    public void Pacer_lines_attach_to_the_next_cycle()
    {
        var events = Corpus.Analyze("shared/gctrace/gctrace-pacer-scav-go1.19.txt");
        var cycles = events.OfType<GcCycleEvent>().ToList();
        Assert.Equal(13, cycles.Count);
        Assert.Equal(Enumerable.Range(1, 13), cycles.Select(c => c.Cycle.Num));
        Assert.Equal(45, cycles[0].Pacer!.CpuPercent);
        Assert.Equal(1.520695, cycles[0].Pacer!.AssistRatio!.Value, 5);
        Assert.Equal(262144, cycles[0].Pacer!.HeapGoalDeltaBytes);
        Assert.Equal(13, events.OfType<GcScavengeEvent>().Count());
        var gc6 = cycles[5].Cycle;
        Assert.Equal(0.085 + 2.0, gc6.PauseMs, 6);
    }

    [Fact]
    public void Gc_forced_marks_the_next_cycle_periodic()
    {
        string text = "gc 1 @0.001s 1%: 0.1+0.2+0.01 ms clock, 0.1+0.1/0.1/0+0.01 ms cpu, 4->4->1 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P\n" +
                      "GC forced\n" +
                      "gc 2 @120.005s 0%: 0.05+0.3+0.02 ms clock, 0.1+0.1/0.1/0+0.04 ms cpu, 2->2->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n" +
                      "gc 3 @121.000s 0%: 0.05+0.3+0.02 ms clock, 0.1+0.1/0.1/0+0.04 ms cpu, 2->2->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n";
        var cycles = Corpus.AnalyzeText(text).OfType<GcCycleEvent>().ToList();
        Assert.Equal([false, true, false], cycles.Select(c => c.Cycle.Periodic));
        Assert.All(cycles, c => Assert.False(c.Cycle.Forced));
    }
}
