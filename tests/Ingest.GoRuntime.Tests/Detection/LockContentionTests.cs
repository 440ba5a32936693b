using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Detection;

/// <summary>
/// Real Go 1.19 output (tools/corpus-gen/regen-detection.sh, scenario rwconvoy): 12 readers in the inlined
/// <c>sync.(*RWMutex).RLock(...)</c> under <c>(*Catalog).Price</c> while <c>(*Catalog).Reload</c> sleeps with the
/// write lock; 5 writers in <c>sync.(*RWMutex).Lock</c> under <c>(*Ledger).Compact</c> (4 queued on its inner mutex,
/// 1 waiting for the readers) while 2 <c>(*Ledger).Sum</c> sleep with the read lock.
/// </summary>
public sealed class LockContentionTests
{
    private const string Catalog = "example.com/shop/internal/store.(*Catalog)";
    private const string Ledger = "example.com/shop/internal/store.(*Ledger)";

    [Fact]
    public void Read_lock_and_writer_contention_in_a_crash_without_runtime_frames()
    {
        // The panic's traceback hides runtime frames: no frame carries a lock address for the readers.
        var crash = Assert.Single(Corpus.Analyze("go1.19-detection/rwmutex-contention-panic.txt").OfType<CrashEvent>());
        Assert.Equal(CrashCategory.CustomPanic, crash.Category);
        AssertContention(crash, ledgerLock: "0xc00007cb48");
    }

    [Fact]
    public void Read_lock_and_writer_contention_in_a_sigquit_dump()
    {
        var dump = Assert.Single(Corpus.Analyze("go1.19-detection/rwmutex-contention-sigquit.txt").OfType<GoroutineDumpEvent>());
        AssertContention(dump, ledgerLock: "0xc000074b48");
    }

    [Fact]
    public void A_stale_receiver_still_groups_the_readers()
    {
        // Constructed from the real crash: the readers' receiver printed with Go 1.18+'s stale-register marker,
        // as it is when the compiler no longer needs it after the lock call.
        string text = File.ReadAllText(Corpus.PathOf("go1.19-detection/rwmutex-contention-panic.txt"))
            .Replace("(*Catalog).Price(0xc000015470,", "(*Catalog).Price(0xc000015470?,", StringComparison.Ordinal);
        Assert.Contains("Price(0xc000015470?,", text, StringComparison.Ordinal);
        var crash = Assert.Single(Corpus.AnalyzeText(text).OfType<CrashEvent>());
        AssertContention(crash, ledgerLock: "0xc00007cb48");
    }

    [Fact]
    public void Readers_of_two_receivers_are_two_groups()
    {
        // Constructed: half the readers on another catalog (another receiver) split the 12 into 6 + 6.
        string text = File.ReadAllText(Corpus.PathOf("go1.19-detection/rwmutex-contention-panic.txt"));
        int n = 0;
        text = string.Join("(*Catalog).Price(", text.Split("(*Catalog).Price(").Select((part, i) => i > 0 && n++ % 2 == 0 ? part.Replace("0xc000015470,", "0xc000099990,", StringComparison.Ordinal) : part));
        var crash = Assert.Single(Corpus.AnalyzeText(text).OfType<CrashEvent>());
        var readers = crash.Findings.Where(f => f.WaitFunction == "sync.(*RWMutex).RLock").ToList();
        Assert.Equal([6, 6], readers.Select(f => f.GoroutineCount));
        Assert.Equal(["0xc000015470", "0xc000099990"], readers.Select(f => f.Address!).Order(StringComparer.Ordinal));
        Assert.Equal(6, readers.Single(f => f.Address == "0xc000015470").SuspectedHolder!.GoroutineId);
        Assert.Null(readers.Single(f => f.Address == "0xc000099990").SuspectedHolder);
    }

    private static void AssertContention(MultiLineEvent e, string ledgerLock)
    {
        var contention = e.Findings.Where(f => f.Kind == "contention").ToList();
        Assert.Equal(2, contention.Count);

        var readers = contention[0];
        Assert.Equal(12, readers.GoroutineCount);
        Assert.Equal("sync.(*RWMutex).RLock", readers.WaitFunction);
        Assert.Equal(Catalog + ".Price", readers.Caller);
        Assert.Equal("0xc000015470", readers.Address); // the receiver: the lock's own address is never printed
        Assert.Equal(Enumerable.Range(7, 12).Select(i => (long)i), readers.SampleIds);
        Assert.Equal(new HolderSuspect(6, "sleep", Catalog + ".Reload", $"inside {Catalog}.Reload on the same object, not waiting for the lock"), readers.SuspectedHolder);
        Assert.Equal(new FrameRef(Catalog + ".Price", "/home/dev/src/shop/internal/store/catalog.go", 25), readers.WaitSite);

        var writers = contention[1];
        Assert.Equal(5, writers.GoroutineCount);
        Assert.Equal("sync.(*RWMutex).Lock", writers.WaitFunction);
        Assert.Equal(Ledger + ".Compact", writers.Caller);
        Assert.Equal(ledgerLock, writers.Address); // printed by the four queued on the inner mutex (lockSlow)
        Assert.Equal([21, 22, 23, 24, 25], writers.SampleIds);
        Assert.Equal(19, writers.SuspectedHolder!.GoroutineId);
        Assert.Equal("sleep", writers.SuspectedHolder.State);
        Assert.Equal(Ledger + ".Sum", writers.SuspectedHolder.Function);
    }
}
