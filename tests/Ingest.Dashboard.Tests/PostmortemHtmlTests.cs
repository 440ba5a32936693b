using Ingest.Api;

namespace Ingest.Dashboard.Tests;

/// <summary>The second line of defence behind the writer's escaping: raw HTML in the Markdown never becomes markup.</summary>
public sealed class PostmortemHtmlTests
{
    [Fact]
    public void Raw_html_in_the_markdown_is_rendered_as_text()
    {
        string html = DashboardApi.PostmortemHtml("# <script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n- <b>x</b> `<i>`\n\n| a | b |\n|---|---|\n| <svg/onload=alert(3)> | 1 |\n");
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<svg", html, StringComparison.Ordinal);
        Assert.Contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>", html, StringComparison.Ordinal);
        Assert.Contains("<table>", html, StringComparison.Ordinal);
        Assert.Contains("<code>&lt;i&gt;</code>", html, StringComparison.Ordinal);
    }
}
