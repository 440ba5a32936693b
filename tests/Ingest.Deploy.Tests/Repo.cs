namespace Ingest.Deploy.Tests;

/// <summary>The repository root, found from the test binaries (the checks read files in place).</summary>
public static class Repo
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ingest.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (Ingest.sln) not found above " + AppContext.BaseDirectory);
    }

    public static string PathOf(string relative) => Path.Combine(Root, relative);
}
