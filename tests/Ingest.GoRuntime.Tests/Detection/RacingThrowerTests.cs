using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Detection;

/// <summary>
/// Real Go 1.19 output (tools/corpus-gen/regen-detection.sh, distinct orderings kept out of many runs) of two
/// writers tripping "concurrent map writes" at once: the header printed twice, the first thrower's stack first,
/// the second one's listed as "running on other thread" and printed in full after all the others.
/// </summary>
public sealed class RacingThrowerTests
{
    public static TheoryData<string, long, long> Orderings() => new()
    {
        { "racing-throwers-1.txt", 7, 9 },
        { "racing-throwers-2.txt", 9, 7 },
        { "racing-throwers-3.txt", 21, 18 },
        { "racing-throwers-4.txt", 18, 20 },
    };

    [Theory]
    [MemberData(nameof(Orderings))]
    public void Two_throwers_make_one_crash_naming_both(string file, long first, long second)
    {
        var events = Corpus.Analyze("go1.19-detection/" + file);
        AssertOneRacingCrash(events, first, second);
    }

    [Fact]
    public void The_second_header_may_come_between_the_first_throwers_goroutines()
    {
        // Constructed from racing-throwers-1: the second "fatal error" line moved after goroutine 1's section,
        // where a thrower that reaches print later than the first writes it.
        string text = File.ReadAllText(Corpus.PathOf("go1.19-detection/racing-throwers-1.txt"));
        const string Header = "fatal error: concurrent map writes\n";
        int g1 = text.IndexOf("goroutine 1 [", StringComparison.Ordinal);
        int afterG1 = text.IndexOf("\n\n", g1, StringComparison.Ordinal) + 1;
        string moved = text[..afterG1].Replace(Header + Header, Header, StringComparison.Ordinal) + Header + text[afterG1..];
        Assert.Equal(2, moved.Split(Header).Length - 1);
        AssertOneRacingCrash(Corpus.AnalyzeText(moved), 7, 9);
    }

    [Fact]
    public void A_repeated_goroutine_id_without_a_second_throw_still_starts_a_new_event()
    {
        // The single-thrower crash followed by the same trailing stack: nothing announced a second thrower, so
        // the trailing section is what it was before, a dump of its own.
        string text = File.ReadAllText(Corpus.PathOf("go1.19-detection/racing-throwers-1.txt"));
        const string Header = "fatal error: concurrent map writes\n";
        var events = Corpus.AnalyzeText(text.Replace(Header + Header, Header, StringComparison.Ordinal));
        var crash = Assert.IsType<CrashEvent>(events[0]);
        Assert.Empty(crash.RacingThrowers);
        Assert.DoesNotContain(crash.Findings, f => f.Kind == "racing_throwers");
        var dump = Assert.IsType<GoroutineDumpEvent>(Assert.Single(events.Skip(1)));
        Assert.Equal(1, dump.GoroutineCount);
    }

    private static void AssertOneRacingCrash(List<RuntimeEvent> events, long first, long second)
    {
        var crash = Assert.IsType<CrashEvent>(Assert.Single(events));
        Assert.Equal(CrashKinds.Fatal, crash.Kind);
        Assert.Equal(CrashCategory.ConcurrentMapAccess, crash.Category);
        Assert.Equal(["concurrent map writes"], crash.Panics);
        Assert.Equal(5, crash.GoroutineCount); // the trailing stack is the unavailable one, not a sixth goroutine
        Assert.Equal(first, crash.CrashingGoroutine!.Id);
        Assert.Equal(new FrameRef("example.com/shop/internal/store.(*Cache).PutUnsafe", "/home/dev/src/shop/internal/store/cache.go", 34), crash.RootCause);
        var other = Assert.Single(crash.RacingThrowers);
        Assert.Equal(second, other.Id);
        Assert.Equal("example.com/shop/internal/store.(*Cache).PutUnsafe", other.Frames[0].Function);
        var finding = Assert.Single(crash.Findings);
        Assert.Equal("racing_throwers", finding.Kind);
        Assert.Equal([first, second], finding.SampleIds);
        Assert.Equal(2, finding.GoroutineCount);
        Assert.Equal("example.com/shop/internal/store.(*Cache).PutUnsafe", finding.WaitSite!.Function);
        Assert.Contains($"goroutine {first} at example.com/shop/internal/store.(*Cache).PutUnsafe:34, goroutine {second} at", finding.Summary, StringComparison.Ordinal);
        Assert.Contains("\"racing_throwers\":[{\"id\":" + second, EventJson.Serialize(events), StringComparison.Ordinal);
    }
}
