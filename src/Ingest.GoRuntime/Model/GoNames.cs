namespace Ingest.GoRuntime.Model;

/// <summary>Facts about Go symbol names and paths as the runtime prints them.</summary>
public static class GoNames
{
    // Top-level path elements of the standard library (go list std). A module named without a dot
    // ("shop/internal/x") is not stdlib unless its first element collides with one of these.
    private static readonly HashSet<string> s_stdRoots = new(StringComparer.Ordinal)
    {
        "archive", "bufio", "builtin", "bytes", "cmp", "compress", "container", "context", "crypto", "database",
        "debug", "embed", "encoding", "errors", "expvar", "flag", "fmt", "go", "hash", "html", "image", "index",
        "internal", "io", "iter", "log", "maps", "math", "mime", "net", "os", "path", "plugin", "reflect", "regexp",
        "runtime", "slices", "sort", "strconv", "strings", "structs", "sync", "syscall", "testing", "text", "time",
        "unicode", "unique", "unsafe", "weak", "vendor", "cmd",
    };

    /// <summary>"a/b/c.(*T).M.func1" → "a/b/c"; "main.main" → "main"; "panic" → "runtime".</summary>
    public static string PackageOf(string function)
    {
        if (function.Length == 0) return string.Empty;
        if (function == "panic") return "runtime";
        int slash = function.LastIndexOf('/');
        int dot = function.IndexOf('.', slash + 1);
        string pkg = dot < 0 ? function : function[..dot];
        return pkg.Contains('%', StringComparison.Ordinal) ? Unescape(pkg) : pkg;
    }

    /// <summary>Function name without its package: "(*OrderRepo).FindByID".</summary>
    public static string ShortName(string function)
    {
        int slash = function.LastIndexOf('/');
        int dot = function.IndexOf('.', slash + 1);
        return dot < 0 ? function : function[(dot + 1)..];
    }

    public static bool IsStandardLibrary(string package)
    {
        if (package.Length == 0) return false;
        if (package == "main") return false;
        int slash = package.IndexOf('/');
        string root = slash < 0 ? package : package[..slash];
        if (root.Contains('.', StringComparison.Ordinal)) return false;
        return s_stdRoots.Contains(root);
    }

    public static bool IsRuntimePackage(string package) =>
        package == "runtime" || package.StartsWith("runtime/", StringComparison.Ordinal) ||
        package.StartsWith("internal/", StringComparison.Ordinal);

    /// <summary>Third-party code by file location: vendor trees and the module cache (incl. -trimpath "mod@v1.2.3/").</summary>
    public static bool IsThirdPartyPath(string file) =>
        file.Contains("/vendor/", StringComparison.Ordinal) || file.Contains("\\vendor\\", StringComparison.Ordinal) ||
        file.StartsWith("vendor/", StringComparison.Ordinal) ||
        file.Contains("/pkg/mod/", StringComparison.Ordinal) || file.Contains("\\pkg\\mod\\", StringComparison.Ordinal) ||
        HasVersionedElement(file);

    /// <summary>Generated cgo glue: not the service's own code even though it sits in package main.</summary>
    public static bool IsCgoGlue(string function, string file) =>
        function.Contains("._Cfunc_", StringComparison.Ordinal) || function.Contains("._cgo_", StringComparison.Ordinal) ||
        file.EndsWith("_cgo_gotypes.go", StringComparison.Ordinal);

    private static bool HasVersionedElement(string file)
    {
        // "github.com/acme/orm@v1.2.3/orm.go"
        int at = file.IndexOf("@v", StringComparison.Ordinal);
        return at > 0 && at + 2 < file.Length && char.IsAsciiDigit(file[at + 2]);
    }

    private static string Unescape(string s)
    {
        var sb = new System.Text.StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '%' && i + 2 < s.Length && Uri.IsHexDigit(s[i + 1]) && Uri.IsHexDigit(s[i + 2]))
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                sb.Append(s[i]);
            }
        }
        return sb.ToString();
    }
}
