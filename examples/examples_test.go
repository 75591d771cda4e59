package examples

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/cli"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/promtest"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/vonage"
)

func runPromtool(t *testing.T, stdin io.Reader, args ...string) {
	t.Helper()
	cmd := exec.Command(promtest.Promtool(t), args...)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
}

// ruleFiles are the rule files Prometheus loads; testFiles their promtool
// unit tests.
func ruleFiles(t *testing.T) (rules, tests []string) {
	t.Helper()
	all, err := filepath.Glob("rules/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range all {
		if strings.HasSuffix(f, ".test.yml") {
			tests = append(tests, f)
		} else {
			rules = append(rules, f)
		}
	}
	if len(rules) == 0 || len(tests) == 0 {
		t.Fatalf("rule files %v, test files %v: want both", rules, tests)
	}
	return rules, tests
}

func TestPrometheusConfig(t *testing.T) {
	// Also loads the rule files it names, relative to itself.
	runPromtool(t, nil, "check", "config", "prometheus.yml")

	var cfg struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	readYAML(t, "prometheus.yml", &cfg)
	rules, _ := ruleFiles(t)
	slices.Sort(cfg.RuleFiles)
	if !slices.Equal(cfg.RuleFiles, rules) {
		t.Errorf("prometheus.yml loads %v, want every rule file: %v", cfg.RuleFiles, rules)
	}
}

func TestRulesCheck(t *testing.T) {
	rules, _ := ruleFiles(t)
	runPromtool(t, nil, append([]string{"check", "rules"}, rules...)...)
}

func TestRulesUnitTests(t *testing.T) {
	_, tests := ruleFiles(t)
	runPromtool(t, nil, append([]string{"test", "rules"}, tests...)...)
}

type ruleGroups struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestPrometheusRuleMatchesRuleFiles keeps the Kubernetes copy of the rules
// equal to the files that the unit tests cover.
func TestPrometheusRuleMatchesRuleFiles(t *testing.T) {
	var want []any
	for _, f := range []string{"rules/whatsapp-recording.yml", "rules/whatsapp-alerts.yml", "rules/whatsapp-health-alerts.yml", "rules/whatsapp-api-alerts.yml", "rules/whatsapp-fleet-alerts.yml", "rules/whatsapp-webhook-alerts.yml"} {
		var doc struct {
			Groups []any `yaml:"groups"`
		}
		readYAML(t, f, &doc)
		want = append(want, doc.Groups...)
	}
	var pr struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Groups []any `yaml:"groups"`
		} `yaml:"spec"`
	}
	readYAML(t, "kubernetes/prometheusrule.yaml", &pr)
	if pr.Kind != "PrometheusRule" {
		t.Fatalf("kind %q", pr.Kind)
	}
	if !reflect.DeepEqual(pr.Spec.Groups, want) {
		t.Errorf("kubernetes/prometheusrule.yaml differs from the groups of the rule files; copy the groups over")
	}
}

// TestExporterConfigsLoad loads the example configurations with the
// exporter's own loader, so that a renamed or removed key fails here and not
// in a user's deployment.
func TestExporterConfigsLoad(t *testing.T) {
	t.Run("whatsapp_exporter.yml", func(t *testing.T) {
		raw, err := os.ReadFile("whatsapp_exporter.yml")
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		// The config names its token file relative to itself.
		writeFile(t, filepath.Join(dir, "secrets", "access_token"), "example-token")
		writeFile(t, filepath.Join(dir, "config.yml"), string(raw))
		cfg, err := config.Load(filepath.Join(dir, "config.yml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Accounts) == 0 {
			t.Fatal("no accounts")
		}
		for _, a := range cfg.Accounts {
			if a.AccessToken != "example-token" {
				t.Errorf("account %s does not read its token from secrets/access_token", a.WABAID)
			}
		}
	})

	t.Run("providers.yml", func(t *testing.T) {
		raw, err := os.ReadFile("providers.yml")
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for _, f := range []string{"access_token", "vonage_api_secret", "bsp_api_key"} {
			writeFile(t, filepath.Join(dir, "secrets", f), "example-"+f)
		}
		writeFile(t, filepath.Join(dir, "providers.yml"), string(raw))
		cfg, err := config.Load(filepath.Join(dir, "providers.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var providers []string
		for _, a := range cfg.Accounts {
			providers = append(providers, a.Provider)
		}
		if want := []string{meta.Name, vonage.Name, meta.PassthroughName}; !slices.Equal(providers, want) {
			t.Errorf("providers = %v, want one account of each: %v", providers, want)
		}
	})

	t.Run("kubernetes/configmap.yaml", func(t *testing.T) {
		var cm struct {
			Data map[string]string `yaml:"data"`
		}
		readYAML(t, "kubernetes/configmap.yaml", &cm)
		body, ok := cm.Data["config.yml"]
		if !ok {
			t.Fatal("no config.yml in the ConfigMap")
		}
		// The token file is where the Deployment mounts the Secret.
		const secretDir = "/etc/whatsapp_exporter/secrets/"
		if !strings.Contains(body, secretDir+"access_token") {
			t.Fatalf("the config does not read %saccess_token", secretDir)
		}
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "access_token"), "example-token")
		writeFile(t, filepath.Join(dir, "config.yml"), strings.ReplaceAll(body, secretDir, dir+"/"))
		if _, err := config.Load(filepath.Join(dir, "config.yml")); err != nil {
			t.Fatal(err)
		}
	})
}

// TestKubernetesManifests checks that the manifests fit together (names,
// ports, mounts), that the exporter runs locked down, and that its command
// line is one the exporter accepts.
func TestKubernetesManifests(t *testing.T) {
	checkKustomization(t, "kubernetes")

	var deploy workload
	readYAML(t, "kubernetes/deployment.yaml", &deploy)
	if deploy.Kind != "Deployment" {
		t.Fatalf("kubernetes/deployment.yaml is a %s", deploy.Kind)
	}
	c, portName := checkPod(t, "kubernetes/deployment.yaml", deploy, "kubernetes/configmap.yaml")
	if _, err := cli.Parse(expandArgs(c, deploy.Metadata.Name)); err != nil {
		t.Errorf("the Deployment's args: %v", err)
	}

	var svc service
	readYAML(t, "kubernetes/service.yaml", &svc)
	checkService(t, svc, deploy, portName)

	var sm struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Endpoints []struct {
				Port string `yaml:"port"`
				Path string `yaml:"path"`
			} `yaml:"endpoints"`
		} `yaml:"spec"`
	}
	readYAML(t, "kubernetes/servicemonitor.yaml", &sm)
	if sm.Kind != "ServiceMonitor" || len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name {
		t.Errorf("the ServiceMonitor must scrape the Service's port %q", svc.Spec.Ports[0].Name)
	}
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Metadata.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the Service's labels lack", k, v)
		}
	}
}

// TestKubernetesFleet checks the StatefulSet example of a sharded fleet:
// what TestKubernetesManifests checks, and that every pod of the
// StatefulSet gets a shard of its own, one of as many as there are
// replicas, from the real command-line parser; that the configuration
// lists a business; that the headless Service governs the StatefulSet; and
// that both the PodMonitor and the plain scrape config scrape every pod.
func TestKubernetesFleet(t *testing.T) {
	checkKustomization(t, "kubernetes/fleet")

	var sts workload
	readYAML(t, "kubernetes/fleet/statefulset.yaml", &sts)
	if sts.Kind != "StatefulSet" || sts.Spec.Replicas == nil {
		t.Fatalf("kubernetes/fleet/statefulset.yaml: a %s with replicas %v, want a StatefulSet with replicas", sts.Kind, sts.Spec.Replicas)
	}
	replicas := *sts.Spec.Replicas
	if replicas < 2 {
		t.Errorf("%d replicas: a fleet example shards over several", replicas)
	}
	c, portName := checkPod(t, "kubernetes/fleet/statefulset.yaml", sts, "kubernetes/fleet/configmap.yaml")

	// The pod's name comes from the downward API, and names its shard.
	podName := false
	for _, e := range c.Env {
		if e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
			podName = true
		}
	}
	if !podName {
		t.Error("no POD_NAME from the downward API (fieldRef metadata.name)")
	}
	if !slices.Contains(c.Args, "--shard.from-pod-name=$(POD_NAME)") {
		t.Errorf("args %v: want --shard.from-pod-name=$(POD_NAME)", c.Args)
	}
	// A StatefulSet names its pods <name>-<ordinal>, 0 to replicas-1.
	for i := range replicas {
		pod := fmt.Sprintf("%s-%d", sts.Metadata.Name, i)
		args, err := cli.Parse(expandArgs(c, pod))
		if err != nil {
			t.Errorf("pod %s: %v", pod, err)
			continue
		}
		shard, err := args.ShardOf()
		if err != nil || shard.Index != i || shard.Count != replicas {
			t.Errorf("pod %s: shard %+v (%v), want %d of %d: --total-shards must equal replicas", pod, shard, err, i, replicas)
		}
	}

	cfg := loadConfigMap(t, "kubernetes/fleet/configmap.yaml", c)
	if len(cfg.Businesses) == 0 {
		t.Error("the fleet's configuration lists no business")
	}

	var svc service
	readYAML(t, "kubernetes/fleet/service.yaml", &svc)
	checkService(t, svc, sts, portName)
	if svc.Spec.ClusterIP != "None" || sts.Spec.ServiceName != svc.Metadata.Name {
		t.Errorf("the StatefulSet's serviceName %q must be the headless Service (clusterIP None): %q, clusterIP %q", sts.Spec.ServiceName, svc.Metadata.Name, svc.Spec.ClusterIP)
	}

	podLabels := sts.Spec.Template.Metadata.Labels
	var pm struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Endpoints []struct {
				Port        string `yaml:"port"`
				Path        string `yaml:"path"`
				Relabelings []struct {
					SourceLabels []string `yaml:"sourceLabels"`
					TargetLabel  string   `yaml:"targetLabel"`
				} `yaml:"relabelings"`
			} `yaml:"podMetricsEndpoints"`
		} `yaml:"spec"`
	}
	readYAML(t, "kubernetes/fleet/podmonitor.yaml", &pm)
	if pm.Kind != "PodMonitor" || len(pm.Spec.Endpoints) != 1 || pm.Spec.Endpoints[0].Port != portName || pm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("the PodMonitor must scrape /metrics on the pods' port %q", portName)
	}
	if len(pm.Spec.Selector.MatchLabels) == 0 {
		t.Error("the PodMonitor selects no label")
	}
	for k, v := range pm.Spec.Selector.MatchLabels {
		if podLabels[k] != v {
			t.Errorf("the PodMonitor selects %s=%s, which the pods' labels lack", k, v)
		}
	}
	// A replica's series carry on across restarts only if its instance
	// does: the pod's name, not its IP.
	for _, e := range pm.Spec.Endpoints {
		if !slices.ContainsFunc(e.Relabelings, func(r struct {
			SourceLabels []string `yaml:"sourceLabels"`
			TargetLabel  string   `yaml:"targetLabel"`
		}) bool {
			return r.TargetLabel == "instance" && slices.Equal(r.SourceLabels, []string{"__meta_kubernetes_pod_name"})
		}) {
			t.Error("the PodMonitor must name each instance by its pod")
		}
	}

	// The same scrape for a Prometheus without the Operator. Debian's
	// promtool is built without Kubernetes discovery, so it checks the job
	// with a static target in its place; the relabeling is checked below.
	var job map[string]any
	var scrape struct {
		ScrapeConfigs []map[string]any `yaml:"scrape_configs"`
	}
	readYAML(t, "kubernetes/fleet/prometheus-scrape.yml", &scrape)
	if len(scrape.ScrapeConfigs) == 1 {
		job = scrape.ScrapeConfigs[0]
	}
	if _, ok := job["kubernetes_sd_configs"]; !ok {
		t.Fatal("prometheus-scrape.yml: want one job with kubernetes_sd_configs")
	}
	delete(job, "kubernetes_sd_configs")
	job["static_configs"] = []any{map[string]any{"targets": []string{"whatsapp-exporter-fleet-0:9919"}}}
	raw, err := yaml.Marshal(scrape)
	if err != nil {
		t.Fatal(err)
	}
	checked := filepath.Join(t.TempDir(), "prometheus.yml")
	writeFile(t, checked, string(raw))
	runPromtool(t, nil, "check", "config", checked)
	var prom struct {
		ScrapeConfigs []struct {
			RelabelConfigs []struct {
				SourceLabels []string `yaml:"source_labels"`
				Regex        string   `yaml:"regex"`
				Action       string   `yaml:"action"`
				TargetLabel  string   `yaml:"target_label"`
			} `yaml:"relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, "kubernetes/fleet/prometheus-scrape.yml", &prom)
	if len(prom.ScrapeConfigs) != 1 {
		t.Fatalf("prometheus-scrape.yml has %d scrape configs, want 1", len(prom.ScrapeConfigs))
	}
	keeps := map[string]string{}
	instance := false
	for _, r := range prom.ScrapeConfigs[0].RelabelConfigs {
		if r.Action == "keep" && len(r.SourceLabels) == 1 {
			keeps[r.SourceLabels[0]] = r.Regex
		}
		instance = instance || r.TargetLabel == "instance" && slices.Equal(r.SourceLabels, []string{"__meta_kubernetes_pod_name"})
	}
	if keeps["__meta_kubernetes_pod_label_app_kubernetes_io_name"] != podLabels["app.kubernetes.io/name"] ||
		keeps["__meta_kubernetes_pod_container_port_name"] != portName {
		t.Errorf("prometheus-scrape.yml keeps %v, want the pods labelled app.kubernetes.io/name=%s on port %s", keeps, podLabels["app.kubernetes.io/name"], portName)
	}
	if !instance {
		t.Error("prometheus-scrape.yml must name each instance by its pod")
	}
}

// checkKustomization: every resource a kustomization lists exists.
func checkKustomization(t *testing.T, dir string) {
	t.Helper()
	var kust struct {
		Resources []string `yaml:"resources"`
	}
	readYAML(t, filepath.Join(dir, "kustomization.yaml"), &kust)
	if len(kust.Resources) == 0 {
		t.Errorf("%s/kustomization.yaml lists no resources", dir)
	}
	for _, r := range kust.Resources {
		if _, err := os.Stat(filepath.Join(dir, r)); err != nil {
			t.Errorf("%s/kustomization.yaml: %v", dir, err)
		}
	}
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type envVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		FieldRef *struct {
			FieldPath string `yaml:"fieldPath"`
		} `yaml:"fieldRef"`
	} `yaml:"valueFrom"`
}

type container struct {
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe   *probe `yaml:"livenessProbe"`
	ReadinessProbe  *probe `yaml:"readinessProbe"`
	SecurityContext struct {
		ReadOnlyRootFilesystem   bool `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation bool `yaml:"allowPrivilegeEscalation"`
	} `yaml:"securityContext"`
	Env       []envVar `yaml:"env"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`

	// configDir and secretDir are where the ConfigMap and the Secret are
	// mounted (checkPod).
	configDir, secretDir string
}

// workload is a Deployment or a StatefulSet.
type workload struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Replicas    *int   `yaml:"replicas"`
		ServiceName string `yaml:"serviceName"`
		Selector    struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot bool `yaml:"runAsNonRoot"`
					RunAsUser    int  `yaml:"runAsUser"`
					FSGroup      int  `yaml:"fsGroup"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
				Volumes    []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
					Secret *struct {
						SecretName string `yaml:"secretName"`
					} `yaml:"secret"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type service struct {
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		ClusterIP string            `yaml:"clusterIP"`
		Selector  map[string]string `yaml:"selector"`
		Ports     []struct {
			Name       string `yaml:"name"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

// checkPod checks a workload's pod: locked down, probed, sized, its one
// container loading the configuration of configMapFile from the ConfigMap
// it mounts, with the token of the Secret it mounts (the one
// secret.example.yaml makes). It returns the container and its port's name.
func checkPod(t *testing.T, file string, w workload, configMapFile string) (container, string) {
	t.Helper()
	pod := w.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", file, len(pod.Containers))
	}
	c := pod.Containers[0]
	if !pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser == 0 {
		t.Errorf("%s: the pod must run as a non-root user", file)
	}
	if !c.SecurityContext.ReadOnlyRootFilesystem || c.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("%s: the container needs readOnlyRootFilesystem and no privilege escalation", file)
	}
	if len(c.Resources.Requests) == 0 || c.Resources.Limits["memory"] == "" {
		t.Errorf("%s: the container needs resource requests and a memory limit", file)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/-/healthy" || c.ReadinessProbe == nil {
		t.Errorf("%s: want a liveness probe on /-/healthy and a readiness probe", file)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 9919 {
		t.Fatalf("%s: want one container port, 9919: %+v", file, c.Ports)
	}
	if !reflect.DeepEqual(w.Spec.Selector.MatchLabels, w.Spec.Template.Metadata.Labels) {
		t.Errorf("%s: the selector does not match the pod's labels", file)
	}

	var cm struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Data map[string]string `yaml:"data"`
	}
	readYAML(t, configMapFile, &cm)
	var secret struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		StringData map[string]string `yaml:"stringData"`
	}
	readYAML(t, "kubernetes/secret.example.yaml", &secret)
	if _, ok := secret.StringData["access_token"]; !ok {
		t.Error("secret.example.yaml has no access_token key")
	}
	mounts := map[string]string{} // volume -> mount path
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	for _, v := range pod.Volumes {
		switch {
		case v.ConfigMap != nil && v.ConfigMap.Name == cm.Metadata.Name:
			c.configDir = mounts[v.Name]
		case v.Secret != nil && v.Secret.SecretName == secret.Metadata.Name:
			c.secretDir = mounts[v.Name]
		}
	}
	if c.configDir == "" || !slices.Contains(c.Args, "--config.file="+c.configDir+"/config.yml") {
		t.Errorf("%s: args %v do not load config.yml from the ConfigMap %s mounted at %q", file, c.Args, cm.Metadata.Name, c.configDir)
	}
	if c.secretDir == "" || !strings.Contains(cm.Data["config.yml"], "access_token_file: "+c.secretDir+"/access_token") {
		t.Errorf("%s: the config's access_token_file is not the Secret %s's access_token key mounted at %q", file, secret.Metadata.Name, c.secretDir)
	}
	checkMemory(t, c.Resources.Limits["memory"], c.Resources.Requests["memory"], c.Env, cm.Data["config.yml"], c.secretDir)
	return c, c.Ports[0].Name
}

// checkService: the Service selects the workload's pods and targets their
// port.
func checkService(t *testing.T, svc service, w workload, portName string) {
	t.Helper()
	if !reflect.DeepEqual(svc.Spec.Selector, w.Spec.Template.Metadata.Labels) {
		t.Errorf("the Service %s does not select the %s's pods", svc.Metadata.Name, w.Kind)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != portName {
		t.Errorf("the Service %s's port must target %q", svc.Metadata.Name, portName)
	}
}

// expandArgs is the container's args as Kubernetes passes them to a pod
// of that name: $(VAR) replaced by the container's variable VAR, the pod's
// name for a fieldRef of metadata.name
// (https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/).
func expandArgs(c container, podName string) []string {
	values := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			values[e.Name] = podName
		case e.ValueFrom == nil:
			values[e.Name] = e.Value
		}
	}
	out := make([]string, len(c.Args))
	for i, a := range c.Args {
		out[i] = envReference.ReplaceAllStringFunc(a, func(m string) string {
			if v, ok := values[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		})
	}
	return out
}

var envReference = regexp.MustCompile(`\$\([A-Za-z_][A-Za-z0-9_]*\)`)

// loadConfigMap loads the configuration of a ConfigMap with the exporter's
// loader, its secret files stubbed where the container mounts them.
func loadConfigMap(t *testing.T, file string, c container) *config.Config {
	t.Helper()
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	readYAML(t, file, &cm)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "access_token"), "example-token")
	writeFile(t, filepath.Join(dir, "config.yml"), strings.ReplaceAll(cm.Data["config.yml"], c.secretDir+"/", dir+"/"))
	cfg, err := config.Load(filepath.Join(dir, "config.yml"))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return cfg
}

// checkMemory: the worst answers the ConfigMap's configuration lets in take
// about 3.5 times its max_response_bytes_in_flight of heap
// (docs/operations.md#sizing-memory), beside the Go runtime's ~30 MiB. The
// garbage collector's soft limit (GOMEMLIMIT) must hold that, and the
// container's limit be above the soft limit, or the container is killed
// on the worst answers however few WABAs it exports.
func checkMemory(t *testing.T, limit, request string, env []envVar, configYAML, secretDir string) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "access_token"), "example-token")
	writeFile(t, filepath.Join(dir, "config.yml"), strings.ReplaceAll(configYAML, secretDir+"/", dir+"/"))
	cfg, err := config.Load(filepath.Join(dir, "config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	const runtime = 30 << 20
	worst := int64(3.5*float64(cfg.Global.MaxResponseBytesInFlight)) + runtime

	var soft int64
	for _, e := range env {
		if e.Name == "GOMEMLIMIT" {
			soft = byteSize(t, e.Value, "iB")
		}
	}
	hard, requested := byteSize(t, limit, "i"), byteSize(t, request, "i")
	switch {
	case soft == 0:
		t.Error("no GOMEMLIMIT: the garbage collector lets garbage grow to the limit and past it")
	case soft < worst:
		t.Errorf("GOMEMLIMIT %d MiB is below the worst answers and the runtime, %d MiB", soft>>20, worst>>20)
	case hard <= soft:
		t.Errorf("the memory limit %s is not above GOMEMLIMIT", limit)
	}
	if requested > hard {
		t.Errorf("the memory request %s is above the limit %s", request, limit)
	}
}

// byteSize reads a size in bytes with an optional binary suffix: Ki, Mi, Gi
// with suffix "i" (Kubernetes), KiB, MiB, GiB with "iB" (Go's GOMEMLIMIT).
func byteSize(t *testing.T, s, suffix string) int64 {
	t.Helper()
	for i, unit := range []string{"K", "M", "G"} {
		if n, ok := strings.CutSuffix(s, unit+suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				t.Fatalf("size %q: %v", s, err)
			}
			return v << (10 * (i + 1))
		}
	}
	v, err := strconv.ParseInt(strings.TrimSuffix(s, "B"), 10, 64)
	if err != nil {
		t.Fatalf("size %q: want a number of bytes or a binary unit (%s)", s, "M"+suffix)
	}
	return v
}

// TestComposeStack checks that docker-compose.yml mounts what exists and
// that the services find each other: Grafana's provider reads where the
// dashboards are mounted, its data source is the Prometheus service, and
// Prometheus scrapes the exporter service and finds its rules.
func TestComposeStack(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			Build *struct {
				Context string `yaml:"context"`
			} `yaml:"build"`
			Command []string `yaml:"command"`
			Volumes []string `yaml:"volumes"`
			Ports   []string `yaml:"ports"`
		} `yaml:"services"`
	}
	readYAML(t, "docker-compose.yml", &compose)
	mountTarget := map[string]string{} // host path (cleaned) -> container path
	for name, s := range compose.Services {
		if s.Build != nil {
			if _, err := os.Stat(filepath.Join(s.Build.Context, "Dockerfile")); err != nil {
				t.Errorf("service %s: %v", name, err)
			}
		}
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if !strings.HasPrefix(parts[0], ".") {
				continue // a named volume
			}
			if _, err := os.Stat(parts[0]); err != nil {
				t.Errorf("service %s mounts %s: %v", name, parts[0], err)
			}
			mountTarget[filepath.Clean(parts[0])] = parts[1]
		}
	}

	var provider struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, "grafana/provisioning/dashboards/whatsapp.yml", &provider)
	if len(provider.Providers) != 1 || provider.Providers[0].Options.Path != mountTarget[filepath.Clean("../dashboards")] {
		t.Errorf("the dashboard provider reads %+v, but ../dashboards is mounted at %q", provider.Providers, mountTarget["../dashboards"])
	}
	if mountTarget[filepath.Clean("./grafana/provisioning")] != "/etc/grafana/provisioning" {
		t.Error("grafana/provisioning must be mounted at /etc/grafana/provisioning")
	}

	var ds struct {
		Datasources []struct {
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	readYAML(t, "grafana/provisioning/datasources/prometheus.yml", &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" {
		t.Fatalf("want one prometheus data source: %+v", ds.Datasources)
	}
	if _, ok := compose.Services[hostOf(ds.Datasources[0].URL)]; !ok {
		t.Errorf("the data source points at %s, which is no service", ds.Datasources[0].URL)
	}

	var prom struct {
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, "prometheus.yml", &prom)
	exporter, ok := compose.Services["whatsapp-exporter"]
	if !ok {
		t.Fatal("no whatsapp-exporter service")
	}
	if len(prom.ScrapeConfigs) == 0 || len(prom.ScrapeConfigs[0].StaticConfigs) == 0 ||
		!slices.Contains(prom.ScrapeConfigs[0].StaticConfigs[0].Targets, "whatsapp-exporter:9919") {
		t.Error("prometheus.yml does not scrape whatsapp-exporter:9919")
	}
	if !slices.Contains(exporter.Command, "--demo") {
		t.Error("the stack must run on demo data out of the box, without credentials")
	}
	if mountTarget["prometheus.yml"] != "/etc/prometheus/prometheus.yml" || mountTarget["rules"] != "/etc/prometheus/rules" {
		t.Error("prometheus.yml and rules/ must be mounted side by side in /etc/prometheus, as rule_files expects")
	}
}

// TestScrapePassesPromtool lints a real scrape of the demo exporter with
// promtool check metrics (names, units, help, counter suffixes).
func TestScrapePassesPromtool(t *testing.T) {
	tool := promtest.Promtool(t)
	scrape := scrapeDemo(t)
	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(scrape)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	// A scrape of nothing would pass too: make sure it had the analytics,
	// both the newest-bucket gauges and the month-to-date counters.
	for _, m := range []string{
		"whatsapp_messages_sent_newest{", "whatsapp_messages_sent_total{",
		"whatsapp_template_read_newest{", "whatsapp_template_read_total{",
		"whatsapp_exporter_refresh_success{",
	} {
		if !bytes.Contains(scrape, []byte(m)) {
			t.Errorf("the scrape has no %s series", strings.TrimSuffix(m, "{"))
		}
	}
}

// scrapeDemo builds the exporter, runs its demo, and returns a scrape (in
// Prometheus' text format, which promtool reads) taken once every account
// has finished its first refresh (demo.Refreshed).
func scrapeDemo(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	bin := promtest.BuildExporter(t, dir)
	exporter := promtest.Start(t, dir, "exporter", bin, "--demo", "--web.listen-address="+promtest.FreeAddrs(t, 1)[0])
	return promtest.WaitDemoRefreshed(t, exporter)
}

func hostOf(url string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
	if i := strings.IndexAny(host, ":/"); i >= 0 {
		host = host[:i]
	}
	return host
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
