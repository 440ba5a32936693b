using System.Text.Json;
using Ingest.GoRuntime.Serialization;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Sources.Kafka;
using Ingest.Pipeline.Sources.Kafka.Decoding;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.EndToEnd;

/// <summary>
/// A real shipper end to end: rsyslogd tails a Go service's log file with imfile and produces each line to the
/// mock cluster with omkafka (librdkafka), the worker consumes and stores; the store must hold exactly the
/// crashes, goroutine dumps and GC cycles the analyser (`ingest analyze`) finds in the same file. imfile drops
/// empty lines, so line counts and raw hashes differ from the file's by design; the compared fields do not.
/// </summary>
public sealed class RsyslogShipperTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private const string Topic = "rsyslog";

    // One service's stderr, in the order it printed it: gctrace while running, a runtime.Stack dump, then the crash.
    private static readonly string[] s_parts = ["31-gctrace.txt", "27-runtime-stack-dump.txt", "22-panic-between-log-lines.txt"];

    [RsyslogFact]
    public void Raw_lines_store_what_analyze_finds() => Ship(json: false);

    [RsyslogFact]
    public void Json_envelopes_with_host_and_file_metadata_store_what_analyze_finds() => Ship(json: true);

    private static void Ship(bool json)
    {
        using var h = new PipelineHarness();
        // omkafka without partitions.auto writes every message to partition 0: the lines stay in order.
        h.CreateTopic(Topic, 1);
        string dir = Directory.CreateTempSubdirectory("ingest-rsyslog-").FullName;
        try
        {
            string log = Path.Combine(dir, "checkout.log");
            string[] parts = s_parts.Select(p => File.ReadAllText(Path.Combine(CorpusFeed.Dir, p))).ToArray();
            File.WriteAllText(log, parts[0]); // the service ran before rsyslogd started: imfile reads the file from its start

            var topic = new TopicOptions { Name = Topic, Format = json ? MessageFormat.Json : MessageFormat.Raw };
            if (json)
            {
                topic.Fields = new JsonFieldMapping
                {
                    Message = ["message"], Timestamp = ["@timestamp"], Host = ["host.name"], Service = ["service.name"], Container = ["log.file.path"],
                };
            }
            var worker = h.StartWorker("rsyslog", topics: [topic]);
            using var rsyslogd = Rsyslogd.Start(dir, Config(dir, log, h.Cluster.BootstrapServers, json));

            Wait.Until(() => { rsyslogd.AssertRunning(); return h.Store.Count("gc") > 0; }, Deadline, "the first GC cycle shipped", () => rsyslogd.Output);
            foreach (string part in parts[1..]) File.AppendAllText(log, part); // written while imfile follows the file

            var expected = Expected(log);
            Assert.Equal(135, expected.Count(s => s.StartsWith("gc|", StringComparison.Ordinal)));
            Assert.Single(expected, s => s.StartsWith("goroutine_dump|", StringComparison.Ordinal));
            Assert.Single(expected, s => s.StartsWith("crash|", StringComparison.Ordinal));
            Wait.Until(() => { rsyslogd.AssertRunning(); return h.Store.Count() >= expected.Count && worker.Sink.Pending == 0; }, Deadline,
                $"{expected.Count} events stored", () => $"{h.Store.Count()} stored; rsyslogd: {rsyslogd.Output}");
            worker.StopGracefully();

            var (stored, documents) = Stored(h);
            Assert.Equal(expected, stored);
            var doc = documents[0];
            if (json)
            {
                Assert.Equal(log, doc.GetProperty("source").GetString());
                Assert.Equal(log, doc.GetProperty("container").GetString());
                Assert.Equal("checkout", doc.GetProperty("service").GetString());
                Assert.Equal(Environment.MachineName, doc.GetProperty("host").GetString(), ignoreCase: true);
            }
            else
            {
                Assert.Equal("checkout-1", doc.GetProperty("source").GetString());
                Assert.Equal("checkout-1", doc.GetProperty("pod").GetString());
            }
            Assert.All(documents, d => Assert.Equal(doc.GetProperty("source").GetString(), d.GetProperty("source").GetString()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// imfile (inotify) on the log, omkafka to the mock cluster; the main queue has one worker so batches reach
    /// omkafka in file order. Raw: the message only, keyed by the pod. JSON: the line with host, file and service
    /// (imfile's tag) metadata, the shape a Fields mapping reads.
    /// </summary>
    private static string Config(string dir, string log, string bootstrap, bool json)
    {
        string work = Directory.CreateDirectory(Path.Combine(dir, "work")).FullName;
        string brokers = string.Join(',', bootstrap.Split(',').Select(b => $"\"{b}\""));
        string template = json
            ? """{\"@timestamp\":\"%timegenerated:::date-rfc3339%\",\"message\":\"%msg:::json%\",\"host\":{\"name\":\"%hostname:::json%\"},\"log\":{\"file\":{\"path\":\"%$!metadata!filename:::json%\"}},\"service\":{\"name\":\"%programname:::json%\"}}"""
            : "%msg%";
        string key = json ? string.Empty : "key=\"checkout-1\" ";
        return $"""
            global(workDirectory="{work}")
            main_queue(queue.workerThreads="1")
            module(load="imfile")
            module(load="omkafka")
            template(name="ship" type="string" string="{template}")
            input(type="imfile" file="{log}" tag="checkout" readMode="0" addMetadata="on")
            action(type="omkafka" broker=[{brokers}] topic="{Topic}" template="ship" {key}confParam=["enable.idempotence=true"])
            """;
    }

    private static List<string> Expected(string log)
    {
        var writer = new EventJsonWriter();
        return StreamAnalyzer.Analyze(log).Select(e =>
        {
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms)) writer.Write(w, e);
            using var doc = JsonDocument.Parse(ms.ToArray());
            return Key(doc.RootElement);
        }).Order(StringComparer.Ordinal).ToList();
    }

    private static (List<string> Signatures, List<JsonElement> Documents) Stored(PipelineHarness h)
    {
        var signatures = new List<string>();
        var documents = new List<JsonElement>();
        foreach (string type in new[] { "crash", "goroutine_dump", "gc", "gc_scavenge", "tagged_log", "leak_suspect" })
        {
            foreach (var row in h.Store.Recent(type, 1000))
            {
                using var parsed = JsonDocument.Parse(row.Doc);
                var doc = parsed.RootElement.Clone();
                documents.Add(doc);
                signatures.Add(Key(doc.GetProperty("event")));
            }
        }
        Assert.Equal(documents.Count, (int)h.Store.Count());
        return (signatures.Order(StringComparer.Ordinal).ToList(), documents);
    }

    /// <summary>The fields that must survive the shipper: everything but line numbers, line counts and raw hashes.</summary>
    private static string Key(JsonElement e)
    {
        string S(string p) => e.TryGetProperty(p, out var v) ? v.GetRawText() : "-";
        return e.GetProperty("type").GetString() switch
        {
            "crash" => $"crash|{S("category")}|{S("fingerprint")}|{S("goroutine_count")}|{S("kind")}|{S("message")}|{S("root_cause")}|{S("recoverable")}",
            "goroutine_dump" => $"goroutine_dump|{S("goroutine_count")}|{S("states")}|{e.GetProperty("buckets").GetArrayLength()}|{S("findings")}",
            "gc" => $"gc|{S("num")}|{S("at_seconds")}|{S("pause_ms")}|{S("heap_start_mb")}|{S("heap_end_mb")}|{S("heap_goal_mb")}|{S("procs")}",
            _ => CorpusFeed.Signature(e),
        };
    }
}
