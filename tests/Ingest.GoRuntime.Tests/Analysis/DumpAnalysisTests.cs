using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Analysis;

public sealed class DumpAnalysisTests
{
    [Fact]
    public void Contention_names_the_primitive_the_caller_and_the_suspected_holder()
    {
        // Constructed: 12 goroutines on one mutex; goroutine 7 is inside Cache.Refresh on the same receiver, in I/O.
        var dump = Assert.Single(Corpus.Analyze("constructed/contention-holder.txt").OfType<GoroutineDumpEvent>());
        Assert.Equal(14, dump.GoroutineCount);
        Assert.Equal(3, dump.Buckets.Count);
        Assert.Equal(12, dump.Buckets[0].Count);
        var finding = dump.Findings.Single(f => f.Kind == "contention");
        Assert.Equal(12, finding.GoroutineCount);
        Assert.Equal("sync.(*Mutex).lockSlow", finding.WaitFunction);
        Assert.Equal("0xc0000b0000", finding.Address);
        Assert.Equal("example.com/shop/internal/store.(*Cache).Get", finding.Caller);
        Assert.Equal(7, finding.SuspectedHolder!.GoroutineId);
        Assert.Equal("IO wait", finding.SuspectedHolder.State);
        var longWait = dump.Findings.Single(f => f.Kind == "long_wait");
        Assert.Equal(11, longWait.MaxWaitMinutes);
    }

    [Fact]
    public void Below_the_threshold_there_is_no_contention_finding()
    {
        var options = new AnalyzerOptions { ContentionThreshold = 13 };
        var dump = Assert.Single(Corpus.Analyze("constructed/contention-holder.txt", options).OfType<GoroutineDumpEvent>());
        Assert.DoesNotContain(dump.Findings, f => f.Kind == "contention");
    }

    [Fact]
    public void Growing_creation_sites_across_dumps_are_leak_suspects()
    {
        var events = Corpus.Analyze("constructed/leak-series.txt");
        Assert.Equal(4, events.OfType<GoroutineDumpEvent>().Count());
        var leak = Assert.Single(events.OfType<LeakSuspectEvent>());
        Assert.Equal("example.com/shop/internal/service.(*Notifier).Subscribe", leak.CreatedBy);
        Assert.Equal("example.com/shop/internal/service.(*Notifier).wait", leak.TopFunction);
        Assert.Equal([5, 10, 15, 20], leak.Counts);
        Assert.Equal(5, leak.GrowthPerSnapshot);
    }

    [Fact]
    public void Steady_dumps_have_no_leak_suspects()
    {
        string dump = File.ReadAllText(Corpus.PathOf("shared/go119-extra/12-runtime-stack-dump-all.txt"));
        var events = Corpus.AnalyzeText(string.Join("level=info msg=tick\n", Enumerable.Repeat(dump, 5)));
        Assert.Equal(5, events.OfType<GoroutineDumpEvent>().Count());
        Assert.Empty(events.OfType<LeakSuspectEvent>());
    }

    [Fact]
    public void Stale_register_arguments_do_not_split_buckets()
    {
        // 100 goroutines of panicparse's dedupe fixture differ only in argument values.
        var crash = Corpus.Analyze("shared/panicparse/23-gen-goroutine-dedupe-pointers.txt").OfType<CrashEvent>().Single();
        Assert.Equal(101, crash.GoroutineCount);
        Assert.True(crash.Buckets.Count <= 3, $"{crash.Buckets.Count} buckets");
        Assert.Equal(100, crash.Buckets[0].Count);
    }

    [Fact]
    public void Sigquit_dump_reads_pc_and_skips_registers()
    {
        var dump = Corpus.Analyze("shared/go119-extra/13-sigquit-dump-registers.txt").OfType<GoroutineDumpEvent>().Single();
        Assert.Equal("SIGQUIT", dump.Signal);
        Assert.NotNull(dump.Pc);
        Assert.Equal(13, dump.GoroutineCount);
        Assert.Equal(0, dump.InterleavedLines);
    }

    [Fact]
    public void Deadlock_crash_has_a_deadlock_finding()
    {
        var crash = Corpus.Analyze("shared/panicparse/20-gen-asleep-deadlock.txt").OfType<CrashEvent>().Single();
        Assert.Equal(CrashCategory.Deadlock, crash.Category);
        Assert.Contains(crash.Findings, f => f.Kind == "deadlock");
    }
}
