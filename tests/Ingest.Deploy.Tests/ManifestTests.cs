using System.Diagnostics;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Ingest.Deploy.Tests;

/// <summary>
/// What can be checked here without Helm or a cluster: every YAML file parses, the chart's values layers merge
/// as documented, every value a template reads exists in the base values, the kustomize overlays build, and
/// the compose stack's Prometheus rules are the chart's.
/// </summary>
public sealed partial class ManifestTests
{
    private static IEnumerable<string> YamlFiles(string folder) =>
        Directory.EnumerateFiles(Repo.PathOf(folder), "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}templates{Path.DirectorySeparatorChar}", StringComparison.Ordinal)); // Go templates, not YAML

    private static YamlMappingNode Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    [Fact]
    public void Every_yaml_file_in_helm_and_deploy_parses()
    {
        var files = YamlFiles("helm").Concat(YamlFiles("deploy")).ToList();
        Assert.True(files.Count >= 10, string.Join(", ", files));
        foreach (string f in files)
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(f);
            var ex = Record.Exception(() => stream.Load(reader));
            Assert.True(ex is null, $"{f}: {ex?.Message}");
        }
    }

    /// <summary>Helm's merge: maps merge key by key, everything else (lists, scalars) is replaced.</summary>
    private static YamlNode Merge(YamlNode base_, YamlNode over)
    {
        if (base_ is YamlMappingNode b && over is YamlMappingNode o)
        {
            var result = new YamlMappingNode();
            foreach (var (k, v) in b.Children) result.Children[k] = v;
            foreach (var (k, v) in o.Children) result.Children[k] = result.Children.TryGetValue(k, out var existing) ? Merge(existing, v) : v;
            return result;
        }
        return over;
    }

    private static YamlNode? At(YamlNode node, string path)
    {
        foreach (string part in path.Split('.'))
        {
            if (node is not YamlMappingNode m || !m.Children.TryGetValue(new YamlScalarNode(part), out var next)) return null;
            node = next;
        }
        return node;
    }

    private static string? Scalar(YamlNode root, string path) => (At(root, path) as YamlScalarNode)?.Value;

    [Fact]
    public void Values_layers_merge_as_documented()
    {
        var baseValues = Load(Repo.PathOf("helm/ingest/values.yaml"));
        Assert.Equal("embedded", Scalar(baseValues, "sink.kind"));
        Assert.Equal("1", Scalar(baseValues, "replicaCount"));

        var prod = Merge(baseValues, Load(Repo.PathOf("helm/ingest/environments/prod/values.yaml")));
        Assert.Equal("elasticsearch", Scalar(prod, "sink.kind"));
        Assert.Equal("3", Scalar(prod, "replicaCount"));
        // Layers only add to what base defines: values the chart does not know are mistakes.
        Assert.NotNull(Scalar(prod, "prometheusRule.gcPauseP99Seconds"));

        var canary = Merge(prod, Load(Repo.PathOf("helm/ingest/environments/prod/values-canary.yaml")));
        Assert.Equal("1", Scalar(canary, "replicaCount"));
        Assert.Equal("true", Scalar(canary, "canary"));
        Assert.Equal("elasticsearch", Scalar(canary, "sink.kind")); // kept from prod
        Assert.NotEqual(Scalar(prod, "kafka.groupId"), Scalar(canary, "kafka.groupId")); // its own consumer group
        Assert.NotEqual(Scalar(prod, "elasticsearch.namespace"), Scalar(canary, "elasticsearch.namespace"));

        var staging = Merge(baseValues, Load(Repo.PathOf("helm/ingest/environments/staging/values.yaml")));
        Assert.NotNull(Scalar(staging, "image.repository"));
    }

    [GeneratedRegex(@"\.Values\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")]
    private static partial Regex ValuesPath();

    [GeneratedRegex(@"\{\{-?\s*\$([A-Za-z0-9_]+)\s*:=\s*\.Values\.([A-Za-z0-9_.]+)\s*-?\}\}")]
    private static partial Regex ValuesAlias();

    [Fact]
    public void Every_value_the_templates_read_exists_in_the_base_values()
    {
        var values = Load(Repo.PathOf("helm/ingest/values.yaml"));
        var missing = new List<string>();
        int checkedPaths = 0;
        foreach (string template in Directory.EnumerateFiles(Repo.PathOf("helm/ingest/templates")))
        {
            string text = File.ReadAllText(template);
            var paths = ValuesPath().Matches(text).Select(m => m.Groups[1].Value).ToList();
            // $r := .Values.prometheusRule, then $r.gcPauseAnomaly.for
            foreach (Match alias in ValuesAlias().Matches(text))
            {
                foreach (Match use in Regex.Matches(text, @"\$" + alias.Groups[1].Value + @"\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)"))
                    paths.Add(alias.Groups[2].Value + "." + use.Groups[1].Value);
            }
            foreach (string p in paths.Distinct())
            {
                checkedPaths++;
                if (At(values, p) is null) missing.Add($"{Path.GetFileName(template)}: .Values.{p}");
            }
        }
        Assert.True(checkedPaths > 30, $"only {checkedPaths} value references found");
        Assert.Empty(missing);
    }

    [Fact]
    public void Secrets_are_referenced_never_written_in_values()
    {
        foreach (string f in Directory.EnumerateFiles(Repo.PathOf("helm/ingest"), "values*.yaml", SearchOption.AllDirectories))
        {
            foreach (string line in File.ReadAllLines(f))
            {
                string l = line.Trim();
                if (l.StartsWith('#')) continue;
                // Keys that name a secret (…Key, existingSecret) are references; a password or token value is not.
                Assert.DoesNotMatch(@"(?i)^(password|apiKey|apiToken|token|sasl\.password)\s*:\s*\S+", l);
            }
        }
    }

    [Fact]
    public void The_compose_stacks_prometheus_rules_are_the_charts_alerts()
    {
        var rules = Load(Repo.PathOf("deploy/prometheus/rules.yml"));
        var alerts = ((YamlSequenceNode)At(((YamlSequenceNode)At(rules, "groups")!)[0], "rules")!)
            .Select(r => Scalar(r, "alert")).ToList();
        string template = File.ReadAllText(Repo.PathOf("helm/ingest/templates/prometheusrule.yaml"));
        var chartAlerts = Regex.Matches(template, @"- alert: (\S+)").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(chartAlerts.Order(), alerts.Order()!);
    }

    [Fact]
    public void Kustomize_overlays_build_with_kubectl()
    {
        string? kubectl = new[] { "/usr/bin/kubectl", "/usr/local/bin/kubectl" }.FirstOrDefault(File.Exists);
        if (kubectl is null)
        {
            // kubectl is not a test dependency we install; say so rather than pass silently.
            Assert.Fail("kubectl not found: install it (Debian: kubectl) to check the kustomize overlays");
            return;
        }
        foreach (string overlay in new[] { "staging", "prod" })
        {
            var psi = new ProcessStartInfo(kubectl, ["kustomize", Repo.PathOf($"deploy/kustomize/overlays/{overlay}")])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            };
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            string error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"kubectl kustomize {overlay}: {error}");
            var docs = new YamlStream();
            docs.Load(new StringReader(output));
            var kinds = docs.Documents.Select(d => Scalar(d.RootNode, "kind")).ToList();
            Assert.Contains("Deployment", kinds);
            Assert.Contains("ConfigMap", kinds);
            var deployment = docs.Documents.Single(d => Scalar(d.RootNode, "kind") == "Deployment").RootNode;
            var container = ((YamlSequenceNode)At(deployment, "spec.template.spec.containers")!)[0];
            Assert.Equal("true", Scalar(container, "securityContext.readOnlyRootFilesystem"));
            Assert.Equal("/healthz", Scalar(container, "readinessProbe.httpGet.path"));
            Assert.Contains("ingest-secrets", output, StringComparison.Ordinal);
            if (overlay == "prod") Assert.Equal("3", Scalar(deployment, "spec.replicas"));

            // kubectl's own client-side checks of every object. kubectl needs API discovery even for a dry
            // run: a loopback server answers it (no cluster on these machines).
            using var api = new FakeDiscoveryServer();
            string kubeconfig = api.WriteKubeconfig();
            var create = new ProcessStartInfo(kubectl, ["--kubeconfig", kubeconfig, "create", "--dry-run=client", "--validate=false", "-o", "name", "-f", "-"])
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            using var c = Process.Start(create)!;
            c.StandardInput.Write(output);
            c.StandardInput.Close();
            string created = c.StandardOutput.ReadToEnd();
            string createError = c.StandardError.ReadToEnd();
            c.WaitForExit();
            Assert.True(c.ExitCode == 0, $"kubectl create --dry-run=client ({overlay}): {createError}");
            Assert.Contains("deployment.apps/", created, StringComparison.Ordinal);
            Assert.Equal(kinds.Count, created.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
    }
}
