using System.CommandLine;

namespace Ingest.Commands;

/// <summary>
/// <c>ingest health</c>: exit 0 when the worker's /healthz answers 200. For container HEALTHCHECKs, where the
/// small runtime image has no curl.
/// </summary>
public static class HealthCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "The worker's health endpoint.", DefaultValueFactory = _ => "http://127.0.0.1:8080/healthz" };
        var cmd = new Command("health", "Check a running worker's /healthz (exit 0 healthy, 1 not).") { url };
        cmd.SetAction(parse => Run(parse.GetValue(url)!, Console.Error));
        return cmd;
    }

    public static int Run(string url, TextWriter stderr)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
            using var response = http.GetAsync(new Uri(url)).GetAwaiter().GetResult();
            if (response.IsSuccessStatusCode) return 0;
            stderr.WriteLine($"ingest health: {url} answered {(int)response.StatusCode}");
            return 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            stderr.WriteLine($"ingest health: {url}: {ex.Message}");
            return 1;
        }
    }
}
