package dashboards

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"gopkg.in/yaml.v3"
)

// The variables each dashboard must offer, beyond the datasource.
var requiredVariables = map[string][]string{
	"whatsapp-overview.json":        {"job", "instance", "waba_id", "phone_number", "country"},
	"whatsapp-templates.json":       {"job", "instance", "waba_id", "template_id"},
	"whatsapp-exporter-health.json": {"job", "instance", "waba_id", "family"},
	"whatsapp-account-health.json":  {"job", "instance", "waba_id"},
}

// panel is the part of a Grafana panel these tests look at; the SDK checks
// the rest.
type panel struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	GridPos     struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Expr       string `json:"expr"`
		Datasource *struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

type variable struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	Query      any    `json:"query"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Multi      bool   `json:"multi"`
	IncludeAll bool   `json:"includeAll"`
	AllValue   string `json:"allValue"`
}

type board struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
	Panels []panel `json:"panels"`
}

func dashboardFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	// A dashboard added without its required variables listed here, or
	// one listed here but missing, is a mistake either way.
	want := make([]string, 0, len(requiredVariables))
	for name := range requiredVariables {
		want = append(want, name)
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("dashboards are %v, want %v", names, want)
	}
	return names
}

func load(t *testing.T, name string) (board, []byte) {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var b board
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b, raw
}

// allPanels flattens rows, whose panels may be nested when collapsed.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// TestSchema decodes each dashboard with the Grafana Foundation SDK, which
// rejects unknown fields, wrong types and missing required fields of the
// dashboard, its variables, its panels' options and its Prometheus queries.
func TestSchema(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, name := range dashboardFiles(t) {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var d dashboard.Dashboard
			if err := d.UnmarshalJSONStrict(raw); err != nil {
				t.Fatalf("strict decoding: %v", err)
			}
			if err := d.Validate(); err != nil {
				t.Fatalf("validation: %v", err)
			}
			if d.SchemaVersion < 39 {
				t.Errorf("schemaVersion %d predates Grafana 11's dashboard model", d.SchemaVersion)
			}
		})
	}
}

// TestConventions checks what the monitoring-mixin conventions ask of a
// dashboard that has to work in anybody's Grafana against anybody's
// Prometheus.
func TestConventions(t *testing.T) {
	uids := map[string]string{}
	for _, name := range dashboardFiles(t) {
		t.Run(name, func(t *testing.T) {
			b, raw := load(t, name)
			if b.UID == "" || b.Title == "" {
				t.Errorf("uid %q, title %q: both are needed for stable links and provisioning", b.UID, b.Title)
			}
			if other, dup := uids[b.UID]; dup {
				t.Errorf("uid %q is also the uid of %s", b.UID, other)
			}
			uids[b.UID] = name

			checkVariables(t, name, b.Templating.List)
			checkDatasourceUIDs(t, raw)

			checkLayout(t, allPanels(b.Panels))
			ids := map[int]string{}
			for _, p := range allPanels(b.Panels) {
				if prev, dup := ids[p.ID]; dup {
					t.Errorf("panel %q has id %d, as %q does", p.Title, p.ID, prev)
				}
				ids[p.ID] = p.Title
				if p.Type == "row" || p.Type == "text" {
					continue
				}
				checkPanel(t, p)
			}
		})
	}
}

func checkVariables(t *testing.T, name string, vars []variable) {
	t.Helper()
	byName := map[string]variable{}
	for _, v := range vars {
		byName[v.Name] = v
	}
	ds, ok := byName["datasource"]
	switch {
	case !ok:
		t.Error(`no "datasource" variable: users could not point the dashboard at their Prometheus`)
	case ds.Type != "datasource" || ds.Query != "prometheus":
		t.Errorf(`variable "datasource" is a %s of %v, want a datasource variable of prometheus`, ds.Type, ds.Query)
	}
	for _, want := range requiredVariables[name] {
		v, ok := byName[want]
		if !ok {
			t.Errorf("no %q variable", want)
			continue
		}
		if v.Type != "query" || v.Datasource == nil || v.Datasource.UID != "${datasource}" {
			t.Errorf("variable %q: want a query variable on ${datasource}, got %s on %+v", want, v.Type, v.Datasource)
		}
		if !v.Multi || !v.IncludeAll {
			t.Errorf("variable %q: want multi-value with All", want)
		}
		q, _ := v.Query.(string)
		if !strings.Contains(q, "whatsapp_") {
			t.Errorf("variable %q: query %q does not read the exporter's metrics", want, q)
		}
	}
	// A breakdown a WABA does not ask for is the empty label: only .*
	// matches it, the list of values that All otherwise stands for does not.
	for _, optional := range []string{"phone_number", "country"} {
		if v, ok := byName[optional]; ok && v.AllValue != ".*" {
			t.Errorf("variable %q: All must be .* to keep series without the label, is %q", optional, v.AllValue)
		}
	}
}

// checkLayout: panels fit the 24-column grid and do not overlap (Grafana
// would push them around, and the dashboard would not look as designed).
func checkLayout(t *testing.T, ps []panel) {
	t.Helper()
	for i, p := range ps {
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v does not fit the 24-column grid", p.Title, g)
		}
		for _, q := range ps[:i] {
			h := q.GridPos
			if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				t.Errorf("panels %q and %q overlap", q.Title, p.Title)
			}
		}
	}
}

// checkDatasourceUIDs walks the whole JSON: any "uid" inside a datasource
// reference must be the variable, or the dashboard only works in the
// Grafana it was made in.
func checkDatasourceUIDs(t *testing.T, raw []byte) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if k == "datasource" {
					if ref, ok := child.(map[string]any); ok {
						if uid := ref["uid"]; uid != "${datasource}" {
							t.Errorf("%s.datasource has uid %v, want ${datasource}", path, uid)
						}
					} else if child != nil {
						t.Errorf("%s.datasource is %v, want a reference with uid ${datasource}", path, child)
					}
				}
				walk(path+"."+k, child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), child)
			}
		}
	}
	walk("$", doc)
}

var (
	// A counter function and the metric it is applied to.
	counterFunc = regexp.MustCompile(`\b(rate|irate|increase)\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`)
	// A metric selector, so that its matchers can be checked.
	selector   = regexp.MustCompile(`\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}`)
	rangeParam = regexp.MustCompile(`\[([^\]]+)\]`)
)

func checkPanel(t *testing.T, p panel) {
	t.Helper()
	if p.Title == "" || p.Description == "" {
		t.Errorf("panel %d: title %q, description %q: both are needed", p.ID, p.Title, p.Description)
	}
	if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
		t.Errorf("panel %q: datasource %+v, want prometheus ${datasource}", p.Title, p.Datasource)
	}
	if p.FieldConfig.Defaults.Unit == "" {
		t.Errorf("panel %q has no unit", p.Title)
	}
	if len(p.Targets) == 0 {
		t.Errorf("panel %q has no query", p.Title)
	}
	for i, tg := range p.Targets {
		expr := tg.Expr
		if strings.TrimSpace(expr) == "" {
			t.Errorf("panel %q target %d has no expr", p.Title, i)
			continue
		}
		// Only counters may go through rate or increase: the analytics
		// gauges hold one bucket's value, and their rate means nothing.
		for _, m := range counterFunc.FindAllStringSubmatch(expr, -1) {
			if !strings.HasSuffix(m[2], "_total") {
				t.Errorf("panel %q: %s(%s): only counters (_total) may be rated", p.Title, m[1], m[2])
			}
		}
		for _, m := range selector.FindAllStringSubmatch(expr, -1) {
			metric, matchers := m[1], m[2]
			if strings.HasSuffix(metric, "_total") && !regexp.MustCompile(`(rate|increase)\(\s*`+regexp.QuoteMeta(metric)+`\{`).MatchString(expr) {
				t.Errorf("panel %q: counter %s is used without rate or increase", p.Title, metric)
			}
			// job and instance on every selector keep replicas and other
			// exporters apart, and make the variables apply everywhere.
			for _, want := range []string{`job=~"$job"`, `instance=~"$instance"`} {
				if !strings.Contains(matchers, want) {
					t.Errorf("panel %q: selector %s{%s} lacks %s", p.Title, metric, matchers, want)
				}
			}
		}
		for _, m := range rangeParam.FindAllStringSubmatch(expr, -1) {
			if m[1] != "$__rate_interval" && m[1] != "$__range" {
				t.Errorf("panel %q: range [%s]: use $__rate_interval (or $__range), which follow the scrape interval and time range", p.Title, m[1])
			}
		}
	}
}

// TestMetricsExist checks every metric a dashboard reads against what the
// exporter really serves (a scrape of its demo) and what the recording rules
// of ../examples/rules record: a renamed metric would otherwise leave an
// empty panel that no other test notices.
func TestMetricsExist(t *testing.T) {
	known := scrapeDemoMetricNames(t)
	for _, r := range recordedNames(t) {
		known[r] = true
	}
	known["ALERTS"] = true // Prometheus' own, for the alert annotations.

	for _, name := range dashboardFiles(t) {
		t.Run(name, func(t *testing.T) {
			b, _ := load(t, name)
			var exprs []string
			for _, p := range allPanels(b.Panels) {
				for _, tg := range p.Targets {
					exprs = append(exprs, tg.Expr)
				}
			}
			for _, v := range b.Templating.List {
				if q, ok := v.Query.(string); ok && v.Type == "query" {
					exprs = append(exprs, q)
				}
			}
			for _, a := range b.Annotations.List {
				exprs = append(exprs, a.Expr)
			}
			for _, expr := range exprs {
				for _, m := range metricNames(expr) {
					if !known[m] {
						t.Errorf("%s reads %s, which neither the exporter nor a recording rule provides", name, m)
					}
				}
				for _, re := range nameRegexps(expr) {
					n := 0
					for m := range known {
						if re.MatchString(m) {
							n++
						}
					}
					if alternatives := strings.Count(re.String(), "|") + 1; n != alternatives {
						t.Errorf("%s: __name__ matcher %s matches %d metrics, want %d", name, re, n, alternatives)
					}
				}
			}
		})
	}
}

var (
	stringLiteral = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	identifier    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	nameMatcher   = regexp.MustCompile(`__name__=~"([^"]+)"`)
)

// metricNames returns the metric names an expression reads: the exporter's
// (whatsapp_...), recording rules' (level:metric:ops) and ALERTS. Strings are
// left out first, so that a label value such as
// "whatsapp_business_management" does not count.
func metricNames(expr string) []string {
	var out []string
	for _, id := range identifier.FindAllString(stringLiteral.ReplaceAllString(expr, `""`), -1) {
		if strings.HasPrefix(id, "whatsapp_") || strings.Contains(id, ":") || id == "ALERTS" {
			out = append(out, id)
		}
	}
	return out
}

// nameRegexps returns the anchored regexps of __name__=~ matchers.
func nameRegexps(expr string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, m := range nameMatcher.FindAllStringSubmatch(expr, -1) {
		out = append(out, regexp.MustCompile("^(?:"+m[1]+")$"))
	}
	return out
}

func recordedNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../examples/rules/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Groups []struct {
				Rules []struct {
					Record string `yaml:"record"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range doc.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					names = append(names, r.Record)
				}
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("no recording rules found in ../examples/rules")
	}
	return names
}

// scrapeDemoMetricNames builds the exporter, runs its demo and returns the
// metric names of a scrape taken once every account has refreshed.
func scrapeDemoMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	if testing.Short() && os.Getenv("WHATSAPP_EXPORTER_E2E") != "required" {
		t.Skip("builds and runs the exporter")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "whatsapp_exporter")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--demo", "--web.listen-address="+addr)
	logFile, err := os.Create(filepath.Join(dir, "exporter.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		logFile.Close()
	})

	deadline := time.Now().Add(60 * time.Second)
	for {
		names, ready, err := scrapeNames("http://" + addr + "/metrics")
		if err == nil && ready {
			return names
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("the demo exporter did not finish its first refreshes in 60s (last error: %v); its log:\n%s", err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// scrapeNames returns the metric names of one scrape, and whether every
// account of whatsapp_exporter_account_info has finished a refresh (has a
// whatsapp_exporter_refresh_success series).
func scrapeNames(url string) (map[string]bool, bool, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return nil, false, fmt.Errorf("%s: %s: %s", url, resp.Status, body)
	}
	names := map[string]bool{}
	accounts, refreshed := map[string]bool{}, map[string]bool{}
	wabaLabel := regexp.MustCompile(`waba_id="([^"]*)"`)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		names[name] = true
		if m := wabaLabel.FindStringSubmatch(line); m != nil {
			switch name {
			case "whatsapp_exporter_account_info":
				accounts[m[1]] = true
			case "whatsapp_exporter_refresh_success":
				refreshed[m[1]] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, false, err
	}
	ready := len(accounts) > 0
	for a := range accounts {
		ready = ready && refreshed[a]
	}
	return names, ready, nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
