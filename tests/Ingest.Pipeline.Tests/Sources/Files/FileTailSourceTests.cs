using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sources.Files;
using Ingest.Pipeline.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ingest.Pipeline.Tests.Sources.Files;

public sealed class FileTailSourceTests
{
    [Fact]
    public void A_crash_written_in_pieces_in_cri_format_is_assembled_once_the_file_goes_quiet()
    {
        string dir = Directory.CreateTempSubdirectory("ingest-tail-").FullName;
        string path = Path.Combine(dir, "shop-7f9_prod_app-1234.log");
        string[] lines = File.ReadAllText(Path.Combine(CorpusFeed.Dir, "01-nil-pointer-dereference.txt")).TrimEnd('\n').Split('\n');
        string Cri(string l) => $"2024-05-01T10:00:00.123456789Z stderr F {l}\n";
        var events = new List<IndexedEvent>();
        var time = new FakeTimeProvider();
        var source = new FileTailSource(new FileTailOptions { Paths = [Path.Combine(dir, "*.log")] }, new AnalyzerOptions(), new AssemblerOptions(), events.Add, time: time);

        File.WriteAllText(path, "2024-05-01T10:00:00.000000000Z stdout F level=info msg=start\n" + string.Concat(lines.Take(5).Select(Cri)) + "2024-05-01T10:00:00.1Z stderr F partial");
        source.PollOnce();
        File.AppendAllText(path, " line\n" + string.Concat(lines.Skip(5).Select(Cri)));
        source.PollOnce();
        Assert.DoesNotContain(events, e => e.Event is CrashEvent); // still open: the file may go on

        time.Advance(TimeSpan.FromMilliseconds(5_000));
        source.PollOnce();
        var crash = Assert.Single(events.Select(e => e.Event).OfType<CrashEvent>());
        Assert.Equal("example.com/shop/internal/store.(*OrderRepo).FindByID", crash.RootCause!.Function);
        var expected = Ingest.Pipeline.Analysis.StreamAnalyzer.Analyze(Path.Combine(CorpusFeed.Dir, "01-nil-pointer-dereference.txt")).OfType<CrashEvent>().Single();
        Assert.Equal(expected.Fingerprint, crash.Fingerprint);
        Assert.Equal(expected.GoroutineCount, crash.GoroutineCount);

        // Rotation by truncation (the file shrank): read again from the start.
        string firstId = events.Single(e => e.Event is CrashEvent).Id;
        File.WriteAllText(path, string.Concat(lines.Select(Cri)));
        source.PollOnce();
        time.Advance(TimeSpan.FromMilliseconds(5_000));
        source.PollOnce();
        Assert.Equal(2, events.Count(e => e.Event is CrashEvent));
        Directory.Delete(dir, recursive: true);
        Assert.StartsWith("crash:file:", firstId, StringComparison.Ordinal);
    }

    [Fact]
    public void Saved_positions_resume_after_stored_events_and_before_open_ones()
    {
        string dir = Directory.CreateTempSubdirectory("ingest-tail-").FullName;
        string path = Path.Combine(dir, "app.log");
        string positions = Path.Combine(dir, "positions.json");
        var options = new FileTailOptions { Paths = [path], PositionsFile = positions };
        var time = new FakeTimeProvider();
        var tracker = new Ingest.Pipeline.Delivery.OffsetTracker();
        var stored = new List<IndexedEvent>();
        // "Stored" at once: the sink acknowledges every event as it is emitted.
        void Store(IndexedEvent e)
        {
            stored.Add(e);
            e.Delivery.Complete();
        }
        var first = new FileTailSource(options, new AnalyzerOptions(), new AssemblerOptions(), Store, time: time, tracker: tracker);
        File.WriteAllText(path, "panic: one\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:3 +0x1d\nlevel=info msg=between\npanic: two\n\ngoroutine 1 [running]:\n");
        first.PollOnce();
        first.SavePositions();
        // "one" is stored; "two" is still open: the saved position is the first byte of "panic: two".
        Assert.Equal("one", Assert.IsType<CrashEvent>(Assert.Single(stored).Event).Message);
        var saved = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, long>>(File.ReadAllText(positions))!;
        Assert.Equal(File.ReadAllText(path).IndexOf("panic: two", StringComparison.Ordinal), saved[path]);

        // A restart resumes there: "one" is not read again, "two" is read whole.
        var again = new List<IndexedEvent>();
        var second = new FileTailSource(options, new AnalyzerOptions(), new AssemblerOptions(), again.Add, time: time, tracker: new Ingest.Pipeline.Delivery.OffsetTracker());
        File.AppendAllText(path, "main.main()\n\t/src/main.go:9 +0x1d\n");
        second.PollOnce();
        time.Advance(TimeSpan.FromMilliseconds(5_000));
        second.PollOnce();
        var crash = Assert.IsType<CrashEvent>(Assert.Single(again).Event);
        Assert.Equal("two", crash.Message);
        Assert.Equal(1, crash.GoroutineCount);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void A_leak_series_split_by_a_restart_comes_back_from_the_store()
    {
        string dir = Directory.CreateTempSubdirectory("ingest-tail-").FullName;
        string path = Path.Combine(dir, "app.log");
        var options = new FileTailOptions { Paths = [path], PositionsFile = Path.Combine(dir, "positions.json") };
        var text = File.ReadAllText(Path.Combine(CorpusFeed.Dir, "29-goroutine-leak-4-snapshots.txt"));
        int third = text.IndexOf("fetching goroutine profile", text.IndexOf("fetching goroutine profile", text.IndexOf("fetching goroutine profile", StringComparison.Ordinal) + 1, StringComparison.Ordinal) + 1, StringComparison.Ordinal);
        third = text.LastIndexOf('\n', third) + 1;
        var time = new FakeTimeProvider();
        using var store = new Ingest.Pipeline.Sinks.Sqlite.SqliteEventStore(Path.Combine(dir, "events.db"));
        var suspects = new List<LeakSuspectEvent>();
        void Store(IndexedEvent e)
        {
            store.WriteBatchAsync([e], CancellationToken.None).GetAwaiter().GetResult();
            if (e.Event is LeakSuspectEvent l) suspects.Add(l);
            e.Delivery.Complete();
        }

        // Two dumps, stored, and the position saved past them.
        var first = new FileTailSource(options, new AnalyzerOptions(), new AssemblerOptions(), Store, time: time, tracker: new Ingest.Pipeline.Delivery.OffsetTracker());
        File.WriteAllText(path, text[..third]);
        first.PollOnce();
        time.Advance(TimeSpan.FromSeconds(5));
        first.PollOnce();
        first.SavePositions();
        Assert.Equal(2, store.Count("goroutine_dump"));

        // The restart reads only the last two dumps; the series goes on from the stored ones.
        var second = new FileTailSource(options, new AnalyzerOptions(), new AssemblerOptions(), Store, time: time, tracker: new Ingest.Pipeline.Delivery.OffsetTracker(), history: store);
        File.AppendAllText(path, text[third..]);
        second.PollOnce();
        time.Advance(TimeSpan.FromSeconds(5));
        second.PollOnce();
        Assert.Equal(4, store.Count("goroutine_dump"));
        var expected = Ingest.Pipeline.Analysis.StreamAnalyzer.Analyze(path).OfType<LeakSuspectEvent>().Single();
        Assert.Equal(expected.Counts, Assert.Single(suspects).Counts);
        Directory.Delete(dir, recursive: true);
    }
}
