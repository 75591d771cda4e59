package dashboards

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/common/model"

	wa "github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/promtest"
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
	// Interval is the minimum step of the panel's queries.
	Interval    string `json:"interval"`
	FieldConfig struct {
		Defaults struct {
			Unit   string `json:"unit"`
			Custom struct {
				AxisLabel string `json:"axisLabel"`
			} `json:"custom"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []target `json:"targets"`
	Panels  []panel  `json:"panels"`
}

// target is a panel's query.
type target struct {
	Expr       string `json:"expr"`
	RefID      string `json:"refId"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
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
		// Without an allValue, Grafana spells All out as every value:
		// a fleet's 10,000 WABA IDs in every query of the dashboard.
		if v.AllValue != ".+" && v.AllValue != ".*" {
			t.Errorf("variable %q: All must be a regex of everything (.+ or .*), not the list of every value; allValue is %q", want, v.AllValue)
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
	// A function over time and the metric it is applied to.
	overTime = regexp.MustCompile(`\b(rate|irate|increase|delta|idelta|deriv|(?:sum|avg|count|quantile|stddev|stdvar)_over_time)\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`)
	// A metric selector, so that its matchers can be checked.
	selector   = regexp.MustCompile(`\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}`)
	rangeParam = regexp.MustCompile(`\[([^\]]+)\]`)
	// An aggregation and its grouping, if it comes first (as it does
	// throughout these dashboards); what follows the match is its argument.
	aggregation = regexp.MustCompile(`\b(sum|avg|min|max|topk|bottomk|quantile|stddev|stdvar|count|group)\s*(?:(by|without)\s*\(([^)]*)\))?\s*\(`)
	// Metrics in a currency: they add up within a currency only.
	costMetric = regexp.MustCompile(`^whatsapp_(conversation_cost|pricing_cost|template_amount_spent|template_unit_cost)_`)
)

// refreshHealth are the metrics of a family's refreshes, which a family the
// API says is unavailable keeps at failed and ageing; leaveOutUnavailable is
// how the alerts leave such a family out.
var refreshHealth = map[string]bool{
	"whatsapp_exporter_refresh_success":                        true,
	"whatsapp_exporter_refresh_last_success_timestamp_seconds": true,
	"whatsapp_exporter_data_age_seconds":                       true,
}

const leaveOutUnavailable = "unless on (job, instance, waba_id, family) whatsapp_exporter_family_available"

// analytics reports whether a metric is one of the exporter's analytics
// (not its own health).
func analytics(metric string) bool {
	return strings.HasPrefix(metric, "whatsapp_") && !strings.HasPrefix(metric, "whatsapp_exporter_")
}

// titleSays reports whether a panel's title contains words, ignoring case
// and hyphens ("Month-to-date" says "month to date").
func titleSays(p panel, words string) bool {
	return strings.Contains(strings.ToLower(strings.ReplaceAll(p.Title, "-", " ")), words)
}

func checkPanel(t *testing.T, p panel) {
	t.Helper()
	for _, problem := range panelProblems(p) {
		t.Error(problem)
	}
}

// panelProblems lists what is wrong with a panel.
func panelProblems(p panel) []string {
	var out []string
	errorf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if p.Title == "" || p.Description == "" {
		errorf("panel %d: title %q, description %q: both are needed", p.ID, p.Title, p.Description)
	}
	if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
		errorf("panel %q: datasource %+v, want prometheus ${datasource}", p.Title, p.Datasource)
	}
	if p.FieldConfig.Defaults.Unit == "" {
		errorf("panel %q has no unit", p.Title)
	}
	if len(p.Targets) == 0 {
		errorf("panel %q has no query", p.Title)
	}
	var uniqueClicks, clicks bool
	for i, tg := range p.Targets {
		expr := tg.Expr
		if strings.TrimSpace(expr) == "" {
			errorf("panel %q target %d has no expr", p.Title, i)
			continue
		}
		out = append(out, exprProblems(p, expr)...)
		uniqueClicks = uniqueClicks || strings.Contains(expr, "whatsapp_template_unique_url_clicks")
		clicks = clicks || strings.Contains(expr, "whatsapp_template_clicked")
	}
	// Unique URL-button clicks count people, clicks count clicks: a panel
	// that shows both invites adding them up (or stacks them).
	if uniqueClicks && clicks {
		errorf("panel %q reads unique URL-button clicks and button clicks: keep them apart", p.Title)
	}
	return out
}

// exprProblems lists what is wrong with one query of a panel.
func exprProblems(p panel, expr string) []string {
	var out []string
	errorf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	// Only counters may go through rate or increase. The newest-bucket
	// gauges hold one bucket's value, scraped many times over: no function
	// over time makes sense of them.
	for _, m := range overTime.FindAllStringSubmatch(expr, -1) {
		fn, metric := m[1], m[2]
		if strings.HasSuffix(metric, "_newest") {
			errorf("panel %q: %s(%s): a newest-bucket gauge is no time series of counts", p.Title, fn, metric)
		} else if (fn == "rate" || fn == "irate" || fn == "increase") && !strings.HasSuffix(metric, "_total") && !strings.HasSuffix(metric, "_bucket") {
			errorf("panel %q: %s(%s): only counters (_total) may be rated, and the _bucket series of a histogram", p.Title, fn, metric)
		}
	}
	readsAnalytics, readsCost := false, false
	for _, m := range selector.FindAllStringSubmatch(expr, -1) {
		metric, matchers := m[1], m[2]
		// A family the API does not serve for a WABA reads refresh_success
		// 0 and ages for good, by design: the refresh alerts leave it out,
		// and a panel beside them that counts it would disagree with them.
		if refreshHealth[metric] && !strings.Contains(expr, leaveOutUnavailable) {
			errorf("panel %q reads %s but counts unavailable families: add %s ... == 0, as the alerts do", p.Title, metric, leaveOutUnavailable)
		}
		readsAnalytics = readsAnalytics || analytics(metric)
		readsCost = readsCost || costMetric.MatchString(metric)
		// A counter's value is the month so far: only a panel that says
		// so may show it; everything else wants its increase.
		if strings.HasSuffix(metric, "_total") && !regexp.MustCompile(`(rate|increase)\(\s*`+regexp.QuoteMeta(metric)+`\{`).MatchString(expr) {
			if !analytics(metric) || !titleSays(p, "month to date") {
				errorf("panel %q: counter %s is used without rate or increase (only month-to-date panels show its value)", p.Title, metric)
			}
		}
		// The newest bucket is not what a range asks for: only where the
		// title says so.
		if (strings.HasSuffix(metric, "_newest") || metric == "whatsapp_bucket_end_timestamp_seconds") && !titleSays(p, "newest") {
			errorf("panel %q reads the newest-bucket %s, but its title does not say newest", p.Title, metric)
		}
		// job and instance on every selector keep replicas and other
		// exporters apart, and make the variables apply everywhere.
		for _, want := range []string{`job=~"$job"`, `instance=~"$instance"`} {
			if !strings.Contains(matchers, want) {
				errorf("panel %q: selector %s{%s} lacks %s", p.Title, metric, matchers, want)
			}
		}
	}
	for _, m := range rangeParam.FindAllStringSubmatch(expr, -1) {
		switch r := m[1]; r {
		case "$__range", "$__rate_interval", "$__interval":
			if r == "$__range" {
				break
			}
			// A window that follows the graph's step must not be shorter
			// than the buckets the counters move by, and the panel must say
			// what one point is.
			out = append(out, stepProblems(p, expr)...)
		default:
			// A fixed window does not follow the time range: the title must
			// say which it is.
			d, err := model.ParseDuration(r)
			if err != nil {
				errorf("panel %q: range [%s]: %v", p.Title, r, err)
			} else if !titleSays(p, windowWords(time.Duration(d))) {
				errorf("panel %q: range [%s]: a fixed window must be named in the title (%q)", p.Title, r, windowWords(time.Duration(d)))
			}
		}
	}
	for _, m := range aggregation.FindAllStringSubmatchIndex(expr, -1) {
		op, kind, grouping := expr[m[2]:m[3]], "", ""
		if m[4] >= 0 {
			kind, grouping = expr[m[4]:m[5]], expr[m[6]:m[7]]
		}
		labels := strings.Split(strings.ReplaceAll(grouping, " ", ""), ",")
		// Replicas export the same WABA: a sum across them counts it twice.
		// The max across replicas goes first.
		if op == "sum" && readsAnalytics && !(kind == "by" && slices.Contains(labels, "instance")) {
			if arg := strings.TrimLeft(expr[m[1]:], " "); !strings.HasPrefix(arg, "max by") && !strings.HasPrefix(arg, "max(") {
				errorf("panel %q: %s(...) sums analytics across replicas: take the max by waba_id first", p.Title, op)
			}
		}
		// Amounts in different currencies do not add up, nor rank against
		// each other: every aggregation of a cost keeps the WABA or the
		// currency.
		if readsCost && op != "count" && op != "group" &&
			!(kind == "by" && (slices.Contains(labels, "waba_id") || slices.Contains(labels, "currency"))) {
			errorf("panel %q: %s %s (%s) of a cost mixes currencies: group by currency (or keep waba_id)", p.Title, op, kind, grouping)
		}
	}
	return out
}

// stepProblems: a panel whose windows follow the graph's step sets a minimum
// step (its interval) no shorter than the buckets of the analytics it reads,
// and says what one point counts.
func stepProblems(p panel, expr string) []string {
	var out []string
	errorf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	bucket := time.Duration(0)
	for _, m := range selector.FindAllStringSubmatch(expr, -1) {
		switch {
		case strings.HasPrefix(m[1], "whatsapp_webhook_"):
			// Counted as each webhook arrives: no bucket to wait for.
		case strings.HasPrefix(m[1], "whatsapp_template_"):
			bucket = max(bucket, 24*time.Hour)
		case analytics(m[1]):
			bucket = max(bucket, 30*time.Minute)
		}
	}
	if bucket == 0 {
		return nil
	}
	step, err := model.ParseDuration(p.Interval)
	if err != nil || time.Duration(step) < bucket {
		errorf("panel %q: interval %q: the step must be at least %s, the analytics' bucket", p.Title, p.Interval, bucket)
	}
	if !strings.Contains(p.Description, "interval") {
		errorf("panel %q: its description must say that a point covers an interval", p.Title)
	}
	// A count (not a ratio) over a step is in "... per interval".
	if !strings.Contains(expr, " / ") && !strings.HasSuffix(p.FieldConfig.Defaults.Custom.AxisLabel, "per interval") {
		errorf("panel %q: axis label %q: counts over a step are \"... per interval\"", p.Title, p.FieldConfig.Defaults.Custom.AxisLabel)
	}
	return out
}

// windowWords is how a title names a fixed window: "28 days", "1 hour",
// "5 minutes".
func windowWords(d time.Duration) string {
	if d < time.Hour {
		if n := d / time.Minute; n > 1 {
			return fmt.Sprintf("%d minutes", n)
		}
		return "1 minute"
	}
	if d%(24*time.Hour) == 0 {
		if n := d / (24 * time.Hour); n > 1 {
			return fmt.Sprintf("%d days", n)
		}
		return "1 day"
	}
	if n := d / time.Hour; n > 1 {
		return fmt.Sprintf("%d hours", n)
	}
	return "1 hour"
}

// TestMetricsExist checks every metric a dashboard reads against what the
// exporter really serves (a scrape of its demo, and what its fleet collector
// serves for a business it lists, which the demo has none of) and what the
// recording rules of ../examples/rules record: a renamed metric would
// otherwise leave an empty panel that no other test notices.
func TestMetricsExist(t *testing.T) {
	known := scrapeDemoMetricNames(t)
	listed := wa.Discovery{Businesses: []wa.Business{{Label: "1", Provider: "meta", Listed: 2, Kept: 1, Success: true, LastSuccess: time.Unix(1, 0), Listings: true}}}
	for _, s := range fleetSamples(t, listed, wa.Fleet{}) {
		known[s.name] = true
	}
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
	var names []string
	for _, r := range promtest.Rules(t, promtest.RuleFiles(t, "../examples/rules")...) {
		if r.Record != "" {
			names = append(names, r.Record)
		}
	}
	if len(names) == 0 {
		t.Fatal("no recording rules found in ../examples/rules")
	}
	return names
}

// scrapeDemoMetricNames returns the metric names of a scrape of the demo.
func scrapeDemoMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(demoScrape(t)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		names[line[:strings.IndexAny(line, "{ ")]] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// demoScrapeCache holds the demo's scrape, so that the tests that read it
// build and run the exporter once.
var demoScrapeCache struct {
	sync.Mutex
	body []byte
}

// demoScrape builds the exporter, runs its demo with
// --demo.scenario=delivery-drop (the same metrics as the healthy demo, and
// a WABA whose delivery-rate and health alerts fire) and returns a scrape,
// in Prometheus' text format, taken once every account has finished its
// first refresh (demo.Refreshed).
func demoScrape(t *testing.T) []byte {
	t.Helper()
	if testing.Short() && !promtest.Required() {
		t.Skip("builds and runs the exporter")
	}
	demoScrapeCache.Lock()
	defer demoScrapeCache.Unlock()
	if demoScrapeCache.body != nil {
		return demoScrapeCache.body
	}
	dir := t.TempDir()
	bin := promtest.BuildExporter(t, dir)
	exporter := promtest.Start(t, dir, "exporter", bin, "--demo", "--demo.scenario=delivery-drop",
		"--web.listen-address="+promtest.FreeAddrs(t, 1)[0])
	// The scrape is all the tests want of it.
	defer exporter.Stop()
	demoScrapeCache.body = promtest.WaitDemoRefreshed(t, exporter)
	return demoScrapeCache.body
}

// TestPanelRules shows that the checks of TestConventions catch each
// mistake they are there for, and let the right query pass.
func TestPanelRules(t *testing.T) {
	const (
		sel = `{job=~"$job", instance=~"$instance", waba_id=~"$waba_id"}`
		// The messages of each WABA over the range, each replica once.
		sent = `sum(max by (waba_id) (sum by (job, instance, waba_id) (increase(whatsapp_messages_sent_total` + sel + `[$__range]))))`
		info = `whatsapp_exporter_account_info{job=~"$job", instance=~"$instance", currency!=""}`
	)
	type c struct {
		title, interval, axis string
		exprs                 []string
		want                  string // a problem's text; "" for none
	}
	for name, c := range map[string]c{
		"a total over the range": {title: "Messages sent", exprs: []string{sent}},
		"a cost per currency": {title: "Message cost", exprs: []string{
			`sum by (currency) (max by (waba_id, currency) (sum by (job, instance, waba_id) (increase(whatsapp_pricing_cost_total` + sel + `[$__range])) * on (job, instance, waba_id) group_left (currency) ` + info + `))`}},
		"a month-to-date value": {title: "Month-to-date cost per WABA", exprs: []string{
			`max by (waba_id) (sum by (job, instance, waba_id) (whatsapp_pricing_cost_total` + sel + `))`}},
		"a graph per interval": {title: "Messages sent per WABA", interval: "1h", axis: "sent per interval", exprs: []string{
			`max by (waba_id) (sum by (job, instance, waba_id) (increase(whatsapp_messages_sent_total` + sel + `[$__rate_interval])))`}},
		"a template rate over 28 days": {title: "Read rate (28 days)", exprs: []string{
			`max by (waba_id) (sum by (job, instance, waba_id) (increase(whatsapp_template_read_total` + sel + `[4w])))`}},
		"the newest bucket where the title says so": {title: "Unique URL-button clicks on the newest day", exprs: []string{
			`max by (waba_id, template_id, button_content) (whatsapp_template_unique_url_clicks_newest` + sel + `)`}},

		"a newest-bucket gauge increased": {title: "Messages on the newest bucket", exprs: []string{
			`max by (waba_id) (increase(whatsapp_messages_sent_newest` + sel + `[$__range]))`},
			want: "a newest-bucket gauge is no time series"},
		"a newest-bucket gauge summed over time": {title: "Newest messages", exprs: []string{
			`max by (waba_id) (sum_over_time(whatsapp_messages_sent_newest` + sel + `[$__range]))`},
			want: "a newest-bucket gauge is no time series"},
		"a gauge rated": {title: "Refreshes", exprs: []string{
			`sum by (job, instance) (rate(whatsapp_exporter_refresh_success` + sel + `[$__rate_interval]))`},
			want: "only counters (_total) may be rated"},
		"a counter's value outside month to date": {title: "Messages sent", exprs: []string{
			`max by (waba_id) (sum by (job, instance, waba_id) (whatsapp_messages_sent_total` + sel + `))`},
			want: "used without rate or increase"},
		"the newest bucket under another title": {title: "Messages sent", exprs: []string{
			`max by (waba_id) (sum by (job, instance, waba_id) (whatsapp_messages_sent_newest` + sel + `))`},
			want: "does not say newest"},
		"replicas added up": {title: "Messages sent", exprs: []string{
			`sum(sum by (job, instance, waba_id) (increase(whatsapp_messages_sent_total` + sel + `[$__range])))`},
			want: "sums analytics across replicas"},
		"costs of different currencies added up": {title: "Message cost", exprs: []string{
			`sum(max by (waba_id) (sum by (job, instance, waba_id) (increase(whatsapp_pricing_cost_total` + sel + `[$__range]))))`},
			want: "mixes currencies"},
		"costs of different currencies ranked": {title: "Top countries by message cost", exprs: []string{
			`topk(10, max by (waba_id, country) (sum by (job, instance, waba_id, country) (increase(whatsapp_pricing_cost_total` + sel + `[$__range]))))`},
			want: "mixes currencies"},
		"unique clicks added to clicks": {title: "Clicks on the newest day", exprs: []string{
			`max by (waba_id, template_id) (whatsapp_template_unique_url_clicks_newest` + sel + `)`,
			`max by (waba_id, template_id) (whatsapp_template_clicked_newest` + sel + `)`},
			want: "keep them apart"},
		"a fixed window the title does not name": {title: "Read rate", exprs: []string{
			`max by (waba_id) (sum by (job, instance, waba_id) (increase(whatsapp_template_read_total` + sel + `[1w])))`},
			want: `named in the title ("7 days")`},
		"a step shorter than a half hour": {title: "Messages sent per WABA", axis: "sent per interval", exprs: []string{
			`max by (waba_id) (sum by (job, instance, waba_id) (increase(whatsapp_messages_sent_total` + sel + `[$__rate_interval])))`},
			want: "the step must be at least 30m0s"},
		"a step shorter than a day": {title: "Sent per template", interval: "1h", axis: "sent per interval", exprs: []string{
			`max by (waba_id) (sum by (job, instance, waba_id) (increase(whatsapp_template_sent_total` + sel + `[$__rate_interval])))`},
			want: "the step must be at least 24h0m0s"},
		"a count per step without its unit": {title: "Messages sent per WABA", interval: "1h", exprs: []string{
			`max by (waba_id) (sum by (job, instance, waba_id) (increase(whatsapp_messages_sent_total` + sel + `[$__rate_interval])))`},
			want: `counts over a step are "... per interval"`},
		"refresh age without unavailable families": {title: "Oldest successful refresh", exprs: []string{
			`max(time() - whatsapp_exporter_refresh_last_success_timestamp_seconds` + sel + ` unless on (job, instance, waba_id, family) whatsapp_exporter_family_available` + sel + ` == 0)`}},
		"refresh age of unavailable families too": {title: "Oldest successful refresh", exprs: []string{
			`max(time() - whatsapp_exporter_refresh_last_success_timestamp_seconds` + sel + `)`},
			want: "counts unavailable families"},
		"data age of unavailable families too": {title: "Data age", exprs: []string{
			`max by (waba_id, family) (whatsapp_exporter_data_age_seconds` + sel + `)`},
			want: "counts unavailable families"},
		"a webhook rate per step, which has no bucket to wait for": {title: "Message statuses per second (webhooks)", exprs: []string{
			`sum by (status) (max by (waba_id, status) (sum by (job, instance, waba_id, status) (rate(whatsapp_webhook_statuses_total` + sel + `[$__rate_interval]))))`}},
		"a histogram's buckets rated": {title: "Time from sent to delivered (webhooks)", exprs: []string{
			`histogram_quantile(0.5, sum by (le) (max by (waba_id, le) (sum by (job, instance, waba_id, le) (rate(whatsapp_webhook_sent_to_delivered_seconds_bucket` + sel + `[$__rate_interval])))))`}},
		"a fixed window in minutes the title names": {title: "Delivery rate per WABA (webhooks, 5 minutes)", exprs: []string{
			`max by (waba_id) (sum by (job, instance, waba_id) (increase(whatsapp_webhook_statuses_total` + sel + `[5m])))`}},
		"a fixed window in minutes the title does not name": {title: "Delivery rate per WABA (webhooks)", exprs: []string{
			`max by (waba_id) (sum by (job, instance, waba_id) (increase(whatsapp_webhook_statuses_total` + sel + `[5m])))`},
			want: `named in the title ("5 minutes")`},
		"a webhook counter summed across replicas": {title: "Message statuses per second (webhooks)", exprs: []string{
			`sum by (status) (rate(whatsapp_webhook_statuses_total` + sel + `[$__rate_interval]))`},
			want: "sums analytics across replicas"},
		"a selector without job": {title: "Messages sent", exprs: []string{
			`sum(max by (waba_id) (sum by (job, instance, waba_id) (increase(whatsapp_messages_sent_total{instance=~"$instance"}[$__range]))))`},
			want: `lacks job=~"$job"`},
	} {
		t.Run(name, func(t *testing.T) {
			p := panel{ID: 1, Type: "timeseries", Title: c.title, Interval: c.interval,
				Description: "What one point counts, over each interval."}
			p.Datasource = &struct {
				Type string `json:"type"`
				UID  string `json:"uid"`
			}{"prometheus", "${datasource}"}
			p.FieldConfig.Defaults.Unit = "short"
			p.FieldConfig.Defaults.Custom.AxisLabel = c.axis
			for _, e := range c.exprs {
				p.Targets = append(p.Targets, target{Expr: e})
			}
			problems := panelProblems(p)
			switch {
			case c.want == "" && len(problems) > 0:
				t.Errorf("want no problem, got %q", problems)
			case c.want != "" && !slices.ContainsFunc(problems, func(s string) bool { return strings.Contains(s, c.want) }):
				t.Errorf("want a problem with %q, got %q", c.want, problems)
			}
		})
	}
}
