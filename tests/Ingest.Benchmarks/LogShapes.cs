using System.Globalization;
using System.Text;

namespace Ingest.Benchmarks;

/// <summary>
/// Ordinary log lines of many shapes, one shape per file, with no Go runtime output: what a worker reads most
/// of the time. One generator of one shape flattered the detector (its lines happened to miss the bytes the
/// trigger search keys on); these cover what services print, including text dense in those bytes.
/// </summary>
public static class LogShapes
{
    public static readonly string[] Names = ["logfmt", "json-nested", "klog", "access", "trigger-dense", "long-lines", "short-lines"];

    private static readonly string[] s_words =
    [
        "cache", "scavenger", "pace", "grace", "access", "success", "service", "process", "facade", "escape", "vacancy", "scan",
        "gcloud", "logic", "magic", "specific", "panic", "serving", "traceback", "scale", "cascade", "placement", "accept",
    ];

    public static void Write(string shape, string path, int megabytes)
    {
        using var f = new StreamWriter(File.Create(path), new UTF8Encoding(false), 1 << 20);
        // Fixed seed per shape (string hashes are randomised per process).
        var rng = new Random(Array.IndexOf(Names, shape) + 1);
        var t = new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc);
        long target = (long)megabytes * 1024 * 1024, written = 0;
        var sb = new StringBuilder(4096);
        while (written < target)
        {
            sb.Clear();
            t = t.AddMilliseconds(rng.Next(1, 40));
            Line(shape, rng, t, sb);
            sb.Append('\n');
            f.Write(sb);
            written += sb.Length;
        }
    }

    private static void Line(string shape, Random rng, DateTime t, StringBuilder sb)
    {
        var ci = CultureInfo.InvariantCulture;
        string ts = t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", ci);
        switch (shape)
        {
            case "logfmt":
                sb.Append(ci, $"time={ts} level={Level(rng)} msg=\"{Words(rng, 4)}\" method={(rng.Next(3) == 0 ? "POST" : "GET")} path=/api/v2/{Words(rng, 1)}/{rng.Next(1_000_000)} status={Status(rng)} duration_ms={rng.Next(1, 900)} trace_id={rng.NextInt64():x16}{rng.NextInt64():x16} span_id={rng.NextInt64():x16} pod=checkout-{rng.Next(100):x2}");
                break;
            case "json-nested":
                sb.Append(ci, $"{{\"@timestamp\":\"{ts}\",\"log\":{{\"level\":\"{Level(rng)}\",\"logger\":\"{Words(rng, 1)}.handler\"}},\"message\":\"{Words(rng, 6)}\",\"trace\":{{\"id\":\"{rng.NextInt64():x16}{rng.NextInt64():x16}\"}},\"span\":{{\"id\":\"{rng.NextInt64():x16}\"}},\"request\":{{\"id\":\"{Uuid(rng)}\",\"headers\":{{\"accept\":\"application/json\",\"user-agent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\"}}}},\"kubernetes\":{{\"pod\":{{\"name\":\"search-{rng.Next(1000)}\"}},\"namespace\":\"prod\"}},\"http\":{{\"status\":{Status(rng)},\"bytes\":{rng.Next(100, 90000)}}}}}");
                break;
            case "klog":
                // glog/klog: Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg
                sb.Append(ci, $"{"IWEF"[rng.Next(4)]}{t:MMdd HH:mm:ss.ffffff}    {rng.Next(1, 99999),5} {Words(rng, 1)}_controller.go:{rng.Next(10, 900)}] \"{Words(rng, 3)}\" key=\"default/{Words(rng, 1)}-{rng.Next(100)}\" elapsed=\"{rng.Next(1, 999)}.{rng.Next(100):d2}ms\"");
                break;
            case "access":
                sb.Append(ci, $"10.{rng.Next(256)}.{rng.Next(256)}.{rng.Next(256)} - - [{t:dd/MMM/yyyy:HH:mm:ss} +0000] \"{(rng.Next(4) == 0 ? "POST" : "GET")} /static/{Words(rng, 1)}/{rng.Next(10000)}.js?v={rng.NextInt64():x8} HTTP/1.1\" {Status(rng)} {rng.Next(200, 90000)} \"https://shop.example/{Words(rng, 1)}\" \"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15\" rt={rng.Next(1, 3000) / 1000.0:0.000}");
                break;
            case "trigger-dense":
                // Words full of 'c' between the bytes the trigger search keys on (g_c_' ', a_c_e, s_c_a, i_c_' ').
                sb.Append(ci, $"{ts} {Level(rng)} {Words(rng, 12)} magic specific logic grace pace scan scavenge accept access");
                break;
            case "long-lines":
                sb.Append(ci, $"{ts} level=debug msg=\"payload\" body=\"");
                for (int i = 0, n = rng.Next(40, 120); i < n; i++) sb.Append(s_words[rng.Next(s_words.Length)]).Append(i % 7 == 0 ? ',' : ' ');
                sb.Append(ci, $"\" checksum={rng.NextInt64():x16}");
                break;
            case "short-lines":
                sb.Append(ci, $"{rng.Next(1000)} ok");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(shape), shape, "shapes: " + string.Join(", ", Names));
        }
    }

    private static Guid Uuid(Random rng)
    {
        Span<byte> b = stackalloc byte[16];
        rng.NextBytes(b);
        return new Guid(b);
    }

    private static string Level(Random rng) => rng.Next(20) switch { 0 => "error", 1 or 2 => "warn", 3 => "debug", _ => "info" };

    private static int Status(Random rng) => rng.Next(50) switch { 0 => 500, 1 => 404, 2 => 302, _ => 200 };

    private static string Words(Random rng, int n)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.Append(i == 0 ? "" : " ").Append(s_words[rng.Next(s_words.Length)]);
        return sb.ToString();
    }
}
