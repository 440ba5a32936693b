using System.CommandLine;
using System.Text;
using Confluent.Kafka;
using Ingest.Pipeline.Sources.Files;
using Ingest.Pipeline.Sources.Kafka;
using Spectre.Console;

namespace Ingest.Commands;

/// <summary>
/// <c>ingest replay FILE... --topic T [--bootstrap B]</c>: produces log files into a topic one line per
/// message, keyed by stream (the file name) so each file stays in one partition, in order. For backfills and demos.
/// </summary>
public static class ReplayCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("FILE") { Description = "Log files to produce.", Arity = ArgumentArity.OneOrMore };
        var topic = new Option<string>("--topic", "-t") { Description = "Topic to produce to.", DefaultValueFactory = _ => "logs" };
        var bootstrap = new Option<string>("--bootstrap", "-b") { Description = "Kafka bootstrap servers.", DefaultValueFactory = _ => "127.0.0.1:9092" };
        var key = new Option<string?>("--key") { Description = "Message key (stream identity) for every line; default: the file name." };
        var cmd = new Command("replay", "Produce log files into a Kafka topic, line by line, keyed by stream.") { files, topic, bootstrap, key };
        cmd.SetAction(parse => Run(parse.GetValue(files)!, parse.GetValue(topic)!, parse.GetValue(bootstrap)!, parse.GetValue(key), Console.Error));
        return cmd;
    }

    public static int Run(string[] files, string topic, string bootstrap, string? key, TextWriter stderr)
    {
        foreach (string f in files)
        {
            if (!File.Exists(f))
            {
                stderr.WriteLine($"ingest replay: cannot read {f}: no such file");
                return AnalyzeCommand.ExitBadInput;
            }
        }
        NativeKafka.Ensure();
        string? error = null;
        long sent = 0;
        var config = KafkaClients.Producer(new KafkaSourceOptions { BootstrapServers = bootstrap }, c =>
        {
            c.LingerMs = 20;
            c.MessageTimeoutMs = 30_000;
        });
        using var producer = new ProducerBuilder<string, byte[]>(config).SetErrorHandler((_, e) => error ??= e.Reason).Build();

        void ProduceFile(string file, Action<long> progress)
        {
            string stream = key ?? Path.GetFileName(file);
            using var input = File.OpenRead(file);
            using var reader = new LineReader(input);
            reader.ReadAll((line, n, _) =>
            {
                var message = new Message<string, byte[]> { Key = stream, Value = line.ToArray() };
                while (true)
                {
                    try
                    {
                        producer.Produce(topic, message, r =>
                        {
                            if (r.Error.IsError) error ??= r.Error.Reason;
                        });
                        break;
                    }
                    catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(100));
                    }
                }
                sent++;
                progress(input.Position);
            });
        }

        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.Progress().Start(ctx =>
            {
                foreach (string f in files)
                {
                    var task = ctx.AddTask(Markup.Escape(Path.GetFileName(f)), maxValue: Math.Max(1, new FileInfo(f).Length));
                    ProduceFile(f, pos => task.Value = pos);
                    task.Value = task.MaxValue;
                }
            });
        }
        else
        {
            foreach (string f in files) ProduceFile(f, _ => { });
        }
        int left = producer.Flush(TimeSpan.FromSeconds(60));
        if (left > 0 || error is not null)
        {
            stderr.WriteLine($"ingest replay: {left} messages not delivered" + (error is null ? string.Empty : $": {error}"));
            return 1;
        }
        stderr.WriteLine($"ingest replay: {sent} lines from {files.Length} file(s) to {topic} at {bootstrap}");
        return 0;
    }
}
