using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Analysis;

/// <summary>
/// Decides which frames are the service's own code ("in app"): not runtime or standard library, not vendored,
/// not from the module cache, not cgo glue, and inside the service's modules when those are known.
/// Modules come from configuration or are inferred from where <c>main</c> lives (see <see cref="Infer"/>).
/// </summary>
public sealed class CodeOwnership
{
    private readonly Dictionary<(string, string), bool> _cache = [];

    public CodeOwnership(IReadOnlyList<string> modules, bool configured)
    {
        Modules = modules;
        Configured = configured;
    }

    public IReadOnlyList<string> Modules { get; }
    public bool Configured { get; }

    public bool IsInApp(in StackFrame frame)
    {
        var key = (frame.Function, frame.File);
        if (_cache.TryGetValue(key, out bool v)) return v;
        v = Compute(frame.Function, frame.File);
        if (_cache.Count < 10_000) _cache[key] = v;
        return v;
    }

    private bool Compute(string function, string file)
    {
        string pkg = GoNames.PackageOf(function);
        if (pkg.Length == 0 || GoNames.IsStandardLibrary(pkg)) return false;
        if (GoNames.IsCgoGlue(function, file)) return false;
        if (GoNames.IsThirdPartyPath(file)) return false;
        if (pkg == "main" || Modules.Count == 0) return !Configured || pkg == "main";
        foreach (string m in Modules)
        {
            if (pkg == m || pkg.StartsWith(m, StringComparison.Ordinal) && pkg.Length > m.Length && pkg[m.Length] == '/') return true;
        }
        return false;
    }

    /// <summary>
    /// Infers module paths from frames: the directory of <c>main</c>'s files and the directory of another
    /// package's files share the module root; the package path minus its path below that root is the module.
    /// Works for GOPATH-style absolute paths and for -trimpath module paths alike.
    /// </summary>
    public static CodeOwnership Infer(IEnumerable<StackFrame> frames, IReadOnlyList<string>? configured)
    {
        if (configured is { Count: > 0 }) return new CodeOwnership(configured, configured: true);
        var list = frames as IReadOnlyCollection<StackFrame> ?? frames.ToList();
        var mainDirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in list)
        {
            if (f.File.Length > 0 && GoNames.PackageOf(f.Function) == "main" && !GoNames.IsCgoGlue(f.Function, f.File))
            {
                mainDirs.Add(DirOf(f.File));
            }
        }
        var modules = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var f in list)
        {
            string pkg = GoNames.PackageOf(f.Function);
            if (pkg == "main" || pkg.Length == 0 || GoNames.IsStandardLibrary(pkg) || f.File.Length == 0 || GoNames.IsThirdPartyPath(f.File)) continue;
            string dir = DirOf(f.File);
            foreach (string mainDir in mainDirs)
            {
                string root = CommonDir(dir, mainDir);
                if (root.Length <= 1) continue;
                string rel = dir.Length > root.Length ? dir[(root.Length + 1)..] : string.Empty;
                if (rel.Length == 0)
                {
                    modules.Add(pkg);
                }
                else if (pkg.EndsWith("/" + rel, StringComparison.Ordinal))
                {
                    modules.Add(pkg[..^(rel.Length + 1)]);
                }
            }
        }
        // Keep the shortest prefixes only ("a/b" covers "a/b/c").
        var result = new List<string>();
        foreach (string m in modules)
        {
            if (!result.Exists(r => m.StartsWith(r + "/", StringComparison.Ordinal))) result.Add(m);
        }
        return new CodeOwnership(result, configured: false);
    }

    private static string DirOf(string file)
    {
        int i = Math.Max(file.LastIndexOf('/'), file.LastIndexOf('\\'));
        return i <= 0 ? string.Empty : file[..i].Replace('\\', '/');
    }

    private static string CommonDir(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        int lastSep = -1;
        int i = 0;
        for (; i < n && a[i] == b[i]; i++)
        {
            if (a[i] == '/') lastSep = i;
        }
        if (i == n && (a.Length == n || a[n] == '/') && (b.Length == n || b[n] == '/')) return a[..n];
        return lastSep <= 0 ? string.Empty : a[..lastSep];
    }
}
