using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Ingest.Dashboard;

/// <summary>
/// The dashboard at <c>/</c>: a static page and script, embedded in the executable (it works from any working
/// directory), with Chart.js vendored from npm (wwwroot/vendor, see vendor.sh), never from a CDN. A strict
/// Content-Security-Policy allows scripts from this origin only, so even a panic message that reached the page
/// as markup could not run; the script itself only ever writes log content as text.
/// </summary>
public static class DashboardEndpoints
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

    private static readonly (string Path, string Resource, string ContentType)[] s_assets =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "app.css", "text/css; charset=utf-8"),
        ("/vendor/chart.umd.min.js", "vendor.chart.umd.min.js", "text/javascript; charset=utf-8"),
    ];

    public static void MapDashboard(this WebApplication app)
    {
        var assembly = typeof(DashboardEndpoints).Assembly;
        foreach (var (path, resource, contentType) in s_assets)
        {
            byte[] content = Read(assembly, resource);
            app.MapGet(path, (HttpContext context) =>
            {
                var h = context.Response.Headers;
                h.ContentSecurityPolicy = ContentSecurityPolicy;
                h.XContentTypeOptions = "nosniff";
                h["Referrer-Policy"] = "no-referrer";
                h.CacheControl = "no-cache";
                return Results.Bytes(content, contentType);
            });
        }
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        string full = "Ingest.Dashboard.wwwroot." + name;
        using var stream = assembly.GetManifestResourceStream(full) ?? throw new InvalidOperationException($"dashboard asset {full} is not embedded");
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return ms.ToArray();
    }
}
