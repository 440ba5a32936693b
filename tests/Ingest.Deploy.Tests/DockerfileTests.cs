namespace Ingest.Deploy.Tests;

/// <summary>A lint of the Dockerfile: stages, base images, non-root user, entrypoint, health check, no secrets.</summary>
public sealed class DockerfileTests
{
    private sealed record Instruction(string Keyword, string Arguments, int Stage);

    private static List<Instruction> Parse()
    {
        var result = new List<Instruction>();
        int stage = -1;
        string pending = string.Empty;
        foreach (string raw in File.ReadAllLines(Repo.PathOf("Dockerfile")))
        {
            string line = raw.Trim();
            if (pending.Length == 0 && (line.Length == 0 || line.StartsWith('#'))) continue;
            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }
            line = pending + line;
            pending = string.Empty;
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            string keyword = (space < 0 ? line : line[..space]).ToUpperInvariant();
            string args = space < 0 ? string.Empty : line[(space + 1)..].Trim();
            if (keyword == "FROM") stage++;
            result.Add(new Instruction(keyword, args, stage));
        }
        return result;
    }

    [Fact]
    public void Builds_with_the_sdk_and_runs_on_the_small_aspnet_runtime()
    {
        var froms = Parse().Where(i => i.Keyword == "FROM").Select(i => i.Arguments).ToList();
        Assert.Equal(2, froms.Count);
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/sdk:10\.0 AS build$", froms[0]);
        // The worker serves HTTP: the ASP.NET runtime, not the bare one (and not the SDK).
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/aspnet:10\.0 AS runtime$", froms[1]);
        var final = Parse().Where(i => i.Stage == 1).ToList();
        Assert.Contains(final, i => i.Keyword == "COPY" && i.Arguments.StartsWith("--from=build ", StringComparison.Ordinal));
        Assert.DoesNotContain(final, i => i.Keyword == "RUN"); // nothing built or installed in the runtime image
    }

    [Fact]
    public void Runs_as_a_non_root_user_with_the_serve_entrypoint_and_a_health_check()
    {
        var final = Parse().Where(i => i.Stage == 1).ToList();
        var user = final.Last(i => i.Keyword == "USER").Arguments;
        Assert.DoesNotMatch(@"^(0|root)(:|$)", user);
        Assert.Matches(@"^\d+:\d+$", user);
        var entry = final.Single(i => i.Keyword == "ENTRYPOINT").Arguments;
        Assert.Equal("""["dotnet", "/app/ingest.dll"]""", entry); // exec form: signals reach the process
        Assert.Equal("""["serve"]""", final.Single(i => i.Keyword == "CMD").Arguments);
        Assert.Contains("\"health\"", final.Single(i => i.Keyword == "HEALTHCHECK").Arguments, StringComparison.Ordinal);
        // Read-only root filesystem friendly: the store goes to a volume.
        Assert.Contains(final, i => i.Keyword == "VOLUME" && i.Arguments.Contains("/data", StringComparison.Ordinal));
        Assert.Contains(final, i => i.Keyword == "ENV" && i.Arguments.Contains("INGEST_Serve__DataDirectory=/data", StringComparison.Ordinal));
    }

    [Fact]
    public void Holds_no_secrets()
    {
        foreach (var i in Parse().Where(i => i.Keyword is "ENV" or "ARG"))
        {
            Assert.DoesNotMatch("(?i)(password|secret|token|apikey|api_key)", i.Arguments);
        }
    }
}
