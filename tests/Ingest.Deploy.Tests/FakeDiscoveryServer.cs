using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ingest.Deploy.Tests;

/// <summary>
/// Just enough of the Kubernetes API's discovery documents (legacy form) for <c>kubectl create --dry-run=client</c>
/// to map the manifests' kinds to resources: core v1, apps/v1, policy/v1, autoscaling/v2, monitoring.coreos.com/v1.
/// </summary>
public sealed class FakeDiscoveryServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly string _dir = Directory.CreateTempSubdirectory("kubeconfig-").FullName;

    private static readonly Dictionary<string, string> s_documents = new()
    {
        ["/api"] = """{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1"}]}""",
        ["/apis"] = """
            {"kind":"APIGroupList","apiVersion":"v1","groups":[
              {"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}},
              {"name":"policy","versions":[{"groupVersion":"policy/v1","version":"v1"}],"preferredVersion":{"groupVersion":"policy/v1","version":"v1"}},
              {"name":"autoscaling","versions":[{"groupVersion":"autoscaling/v2","version":"v2"}],"preferredVersion":{"groupVersion":"autoscaling/v2","version":"v2"}},
              {"name":"monitoring.coreos.com","versions":[{"groupVersion":"monitoring.coreos.com/v1","version":"v1"}],"preferredVersion":{"groupVersion":"monitoring.coreos.com/v1","version":"v1"}}]}
            """,
        ["/api/v1"] = Resources("v1", ("configmaps", "ConfigMap"), ("services", "Service"), ("serviceaccounts", "ServiceAccount"), ("secrets", "Secret"), ("persistentvolumeclaims", "PersistentVolumeClaim")),
        ["/apis/apps/v1"] = Resources("apps/v1", ("deployments", "Deployment")),
        ["/apis/policy/v1"] = Resources("policy/v1", ("poddisruptionbudgets", "PodDisruptionBudget")),
        ["/apis/autoscaling/v2"] = Resources("autoscaling/v2", ("horizontalpodautoscalers", "HorizontalPodAutoscaler")),
        ["/apis/monitoring.coreos.com/v1"] = Resources("monitoring.coreos.com/v1", ("servicemonitors", "ServiceMonitor"), ("prometheusrules", "PrometheusRule")),
    };

    private static string Resources(string groupVersion, params (string Name, string Kind)[] resources) =>
        "{\"kind\":\"APIResourceList\",\"groupVersion\":\"" + groupVersion + "\",\"resources\":[" +
        string.Join(",", resources.Select(r => $"{{\"name\":\"{r.Name}\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"{r.Kind}\",\"verbs\":[\"create\",\"delete\",\"get\",\"list\",\"patch\",\"update\",\"watch\"]}}")) +
        "]}";

    public FakeDiscoveryServer()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
        }
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _loop = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try
                {
                    ctx = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                string path = ctx.Request.Url!.AbsolutePath.TrimEnd('/');
                bool found = s_documents.TryGetValue(path.Length == 0 ? "/" : path, out var body);
                ctx.Response.StatusCode = found ? 200 : 404;
                ctx.Response.ContentType = "application/json";
                var bytes = Encoding.UTF8.GetBytes(body ?? """{"kind":"Status","status":"Failure","code":404}""");
                await ctx.Response.OutputStream.WriteAsync(bytes);
                ctx.Response.Close();
            }
        });
    }

    public string Url { get; }

    public string WriteKubeconfig()
    {
        string path = Path.Combine(_dir, "config");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {Url}
            contexts:
            - name: fake
              context:
                cluster: fake
                namespace: ingest
            current-context: fake
            users: []
            """);
        return path;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
        Directory.Delete(_dir, recursive: true);
    }
}
