package main

// The end-to-end test: the exporter's demo, scraped by a real Prometheus that
// loads examples/rules, against which every dashboard query and every rule
// is evaluated. Dashboard queries and recording rules must return series on
// the demo. Alerts return nothing on healthy data by design, so for them:
// every rule evaluates with health ok, every metric an alert reads exists,
// and the delivery-rate and account health alerts are active for the WABA of
// an exporter run with --demo.scenario=delivery-drop and for no WABA of a
// healthy one.
//
// The month-to-date counters move only as the API's buckets complete, every
// half hour (every day for templates): the exporters run the demo on a clock
// 600 times faster than the wall clock (e2eFastClock), so that in seconds
// they report hours of buckets, and a template day.
//
// It needs prometheus and promtool (Debian's prometheus package); without
// them it skips, unless WHATSAPP_EXPORTER_E2E=required.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/promtest"
)

const (
	// e2eScrapeInterval is how often Prometheus scrapes (and at most how
	// long a scrape may take). A half hour completes every 3 s of the fast
	// demo clock; a second would be too tight when the tests of other
	// packages load the machine: a scrape that times out marks every series
	// stale and makes up 0, which is what WhatsAppExporterDown waits for.
	e2eScrapeInterval = 3 * time.Second
	e2eHealthyJob     = "whatsapp"
	e2eDropJob        = "whatsapp-drop"
	// The demo WABA whose deliveries drop under --demo.scenario=delivery-drop.
	e2eDropWABA = "109259195336416"
)

// e2eTools returns the paths of prometheus and promtool (promtest.Tools).
// Under -short it skips, as these tests run exporters and a Prometheus for
// minutes, unless WHATSAPP_EXPORTER_E2E=required.
func e2eTools(t *testing.T) (prometheus, promtool string) {
	t.Helper()
	prometheus, promtool = promtest.Tools(t)
	if testing.Short() && !promtest.Required() {
		t.Skip("end-to-end test: runs two exporters and a Prometheus")
	}
	return prometheus, promtool
}

func TestEndToEnd(t *testing.T) {
	prometheusBin, promtoolBin := e2eTools(t)
	dir := t.TempDir()
	bin := promtest.BuildExporter(t, dir)

	// Two exporters, two jobs, one Prometheus: the delivery-rate alerts must
	// fire on the one and not on the other in the same evaluation.
	addrs := promtest.FreeAddrs(t, 3)
	targets := []e2eTarget{{job: e2eHealthyJob, addr: addrs[0]}, {job: e2eDropJob, addr: addrs[1]}}

	// A week of history does not fit in a test, but the week-over-week
	// alert needs the same hours a week ago: backfill them, as the healthy
	// demo would have delivered, for both jobs.
	data := filepath.Join(dir, "prometheus-data")
	history := filepath.Join(dir, "history.om")
	e2eWriteHistory(t, history, time.Now().Add(-7*24*time.Hour), targets)
	if out, err := exec.Command(promtoolBin, "tsdb", "create-blocks-from", "openmetrics", history, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}

	// Prometheus first, so that it scrapes each counter from the exporters'
	// first value on: increase() counts from there.
	ruleFiles := promtest.RuleFiles(t, "examples/rules")
	api := e2eAPI{promtest.StartPrometheus(t, prometheusBin, dir, addrs[2], e2ePrometheusConfig(ruleFiles, targets),
		"--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=30d")}

	clock := e2eFastClock(time.Now())
	healthy := promtest.Start(t, dir, "healthy", bin, append(clock.args(), "--demo", "--web.listen-address="+addrs[0])...)
	drop := promtest.Start(t, dir, "drop", bin, append(clock.args(), "--demo", "--demo.scenario=delivery-drop", "--web.listen-address="+addrs[1])...)
	promtest.WaitDemoRefreshed(t, healthy)
	promtest.WaitDemoRefreshed(t, drop)

	// Data: both jobs' counters moved (a template day too, which lands
	// about 17 s in: see e2eFastClock), the recording rules evaluated, and
	// every rule evaluated once on that data.
	api.WaitFor(t, 60*time.Second, "both jobs' counters moving, a template day in, rules evaluated", func() error {
		for _, q := range []string{
			`count by (job) (increase(whatsapp_messages_sent_total[1h]) > 0)`,
			`count by (job) (increase(whatsapp_template_sent_total[1h]) > 0)`,
			`count by (job) (rate(whatsapp_exporter_api_requests_total[1m]))`,
			`count by (job) (waba:whatsapp_messages_delivered_per_sent:ratio_rate1h)`,
		} {
			res, err := api.Query(q)
			if err != nil {
				return err
			}
			if len(res) != 2 {
				return fmt.Errorf("%s: %d jobs, want 2", q, len(res))
			}
		}
		return api.RulesEvaluatedSince(time.Now().Add(-time.Second))
	})

	t.Run("dashboards", func(t *testing.T) { e2eCheckDashboards(t, api) })
	t.Run("recording rules", func(t *testing.T) { e2eCheckRecordingRules(t, api, ruleFiles) })
	t.Run("rules health", func(t *testing.T) { e2eCheckRulesHealth(t, api, ruleFiles) })
	t.Run("alert metrics exist", func(t *testing.T) { e2eCheckAlertMetrics(t, api, ruleFiles) })
	t.Run("alerts", func(t *testing.T) { e2eCheckAlerts(t, api) })
}

// e2eClock is a demo clock for exporters started together: the same start
// and since give them the same time (demo.Clock).
type e2eClock struct {
	start, since time.Time
	speed        float64
}

// e2eFastClock is a demo clock that runs 600 times faster than the wall
// clock from since (10 demo minutes a wall second; the demo then refreshes
// every second), so that half hours complete every 3 s. It starts at the
// first 23:20 UTC after since whose next 12 hours (72 s of test) stay in one
// month, so that no month start resets the counters midway; and since a
// template day lands about 2h50m after it ends (the 2 h delay, and the
// refreshes), the day that ends at midnight lands about 17 s in: late
// enough for Prometheus to have scraped the counters before it, early
// enough to keep the test short. Demo time runs ahead of the wall clock,
// never behind, so that the exporters' refresh timestamps never look stale.
func e2eFastClock(since time.Time) e2eClock {
	since = since.UTC()
	start := since.Truncate(24 * time.Hour).Add(23*time.Hour + 20*time.Minute)
	for start.Before(since) || start.Add(12*time.Hour).Month() != start.Month() {
		start = start.Add(24 * time.Hour)
	}
	return e2eClock{start: start, since: since, speed: 600}
}

// args are the exporter's flags for the clock.
func (c e2eClock) args() []string {
	return []string{
		"--demo.clock.start=" + c.start.Format(time.RFC3339Nano),
		"--demo.clock.since=" + c.since.Format(time.RFC3339Nano),
		fmt.Sprintf("--demo.clock.speed=%g", c.speed),
	}
}

// e2eCheckDashboards resolves each dashboard's variables as Grafana would
// (All of every one), then runs every panel query: each must be valid and
// return at least one series on the demo.
func e2eCheckDashboards(t *testing.T, api e2eAPI) {
	files, err := filepath.Glob("dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var d struct {
				Templating struct {
					List []struct {
						Type     string `json:"type"`
						Name     string `json:"name"`
						Query    any    `json:"query"`
						Regex    string `json:"regex"`
						AllValue string `json:"allValue"`
					} `json:"list"`
				} `json:"templating"`
				Annotations struct {
					List []struct {
						Name string `json:"name"`
						Expr string `json:"expr"`
					} `json:"list"`
				} `json:"annotations"`
				Panels []e2ePanel `json:"panels"`
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}

			vars := map[string]string{
				// What Grafana would put in for a short range: the panels'
				// minimum step (an hour; a day for templates). Either covers
				// the whole test, as the range does.
				"__rate_interval": "1h",
				"__interval":      "1h",
				"__range":         "10m",
			}
			for _, v := range d.Templating.List {
				if v.Type != "query" {
					continue
				}
				q, _ := v.Query.(string)
				values, texts, err := api.variableValues(e2eSubstitute(q, vars), v.Regex)
				if err != nil {
					t.Errorf("variable %s: %s: %v", v.Name, q, err)
					continue
				}
				if len(values) == 0 {
					t.Errorf("variable %s: %s lists no values", v.Name, q)
					continue
				}
				if v.Name == "waba_id" {
					// The regex shows each account by name: every demo
					// account has one.
					for i := range values {
						if texts[i] == values[i] || texts[i] == "" {
							t.Errorf("variable waba_id: %s is shown as %q, want its name", values[i], texts[i])
						}
					}
				}
				// All is the allValue, or else the regex of all values.
				if v.AllValue != "" {
					vars[v.Name] = v.AllValue
				} else {
					quoted := make([]string, len(values))
					for i, s := range values {
						quoted[i] = regexp.QuoteMeta(s)
					}
					vars[v.Name] = "(" + strings.Join(quoted, "|") + ")"
				}
			}

			n := 0
			for _, p := range e2eFlatten(d.Panels) {
				for _, tg := range p.Targets {
					n++
					expr := e2eSubstitute(tg.Expr, vars)
					res, err := api.queryEventually(expr)
					switch {
					case err != nil:
						t.Errorf("panel %q: %v\n  query: %s", p.Title, err, expr)
					case len(res) == 0:
						t.Errorf("panel %q returns no series\n  query: %s", p.Title, expr)
					}
				}
			}
			if n == 0 {
				t.Error("no panel queries")
			}
			// ALERTS exist only while alerts do: the annotation query must be
			// valid, it need not return anything.
			for _, a := range d.Annotations.List {
				if _, err := api.Query(e2eSubstitute(a.Expr, vars)); err != nil {
					t.Errorf("annotation %q: %v", a.Name, err)
				}
			}
		})
	}
}

type e2ePanel struct {
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []e2ePanel `json:"panels"`
}

func e2eFlatten(ps []e2ePanel) []e2ePanel {
	var out []e2ePanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, e2eFlatten(p.Panels)...)
	}
	return out
}

var e2eVariable = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)

// e2eSubstitute replaces Grafana variables ($name, ${name}) with values.
func e2eSubstitute(expr string, vars map[string]string) string {
	return e2eVariable.ReplaceAllStringFunc(expr, func(m string) string {
		sub := e2eVariable.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

func e2eCheckRecordingRules(t *testing.T, api e2eAPI, files []string) {
	n := 0
	for _, r := range promtest.Rules(t, files...) {
		if r.Record == "" {
			continue
		}
		n++
		res, err := api.queryEventually(r.Record)
		switch {
		case err != nil:
			t.Errorf("%s: %v", r.Record, err)
		case len(res) == 0:
			t.Errorf("recording rule %s has no series on the demo", r.Record)
		}
	}
	if n == 0 {
		t.Error("no recording rules")
	}
}

// e2eCheckRulesHealth asks Prometheus itself: every rule of the files is
// loaded and its last evaluation went without error.
func e2eCheckRulesHealth(t *testing.T, api e2eAPI, files []string) {
	groups, err := api.Rules()
	if err != nil {
		t.Fatal(err)
	}
	loaded := map[string]bool{}
	for _, g := range groups {
		for _, r := range g.Rules {
			loaded[r.Name] = true
			if r.Health != "ok" || r.LastError != "" {
				t.Errorf("rule %s: health %q, last error %q", r.Name, r.Health, r.LastError)
			}
		}
	}
	for _, r := range promtest.Rules(t, files...) {
		if name := r.Name(); !loaded[name] {
			t.Errorf("rule %s is not loaded", name)
		}
	}
}

var (
	e2eString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	e2eMatchers = regexp.MustCompile(`\{[^}]*\}`)
	e2eGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	e2eRange    = regexp.MustCompile(`\[[^\]]*\]|\boffset\s+\w+`)
	e2eToken    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	e2eKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "by": true, "without": true,
		"on": true, "ignoring": true, "group_left": true, "group_right": true, "offset": true}
)

// e2eMetricNames extracts the metric names of a PromQL expression: what is
// left once strings, matchers, grouping clauses, ranges, functions and
// keywords are taken out.
func e2eMetricNames(expr string) []string {
	s := e2eString.ReplaceAllString(expr, `""`)
	s = e2eMatchers.ReplaceAllString(s, " ")
	s = e2eGrouping.ReplaceAllString(s, " ")
	s = e2eRange.ReplaceAllString(s, " ")
	var names []string
	for _, m := range e2eToken.FindAllStringSubmatch(s, -1) {
		tok := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[0]), "("))
		if m[1] != "" || e2eKeywords[tok] { // a function call, or a keyword
			continue
		}
		if !slices.Contains(names, tok) {
			names = append(names, tok)
		}
	}
	return names
}

// e2eCheckAlertMetrics: alert expressions return nothing on healthy data by
// design, so instead every metric they read must exist in Prometheus: a
// renamed metric would otherwise silence an alert for good.
func e2eCheckAlertMetrics(t *testing.T, api e2eAPI, files []string) {
	for _, r := range promtest.Rules(t, files...) {
		if r.Alert == "" {
			continue
		}
		names := e2eMetricNames(r.Expr)
		if len(names) == 0 {
			t.Errorf("alert %s: found no metric in %s", r.Alert, r.Expr)
		}
		for _, name := range names {
			// Over a minute: a scrape that failed leaves the series stale
			// until the next.
			res, err := api.Query(fmt.Sprintf(`count(last_over_time({__name__=%q}[1m]))`, name))
			if err != nil || len(res) == 0 {
				t.Errorf("alert %s reads %s, which Prometheus does not have (err %v)", r.Alert, name, err)
			}
		}
	}
}

// e2eCheckAlerts: on the delivery-drop demo the delivery-rate, account
// health and webhook alerts are pending (or firing) for the dropping WABA,
// and nothing else is; on the healthy demo no alert is, in the same
// evaluations of the same rules.
func e2eCheckAlerts(t *testing.T, api e2eAPI) {
	want := []string{
		e2eDropJob + "/" + e2eDropWABA + "/WhatsAppDeliveryRateDrop",
		e2eDropJob + "/" + e2eDropWABA + "/WhatsAppDeliveryRateLow",
		// The scenario's number turned RED and its template was paused.
		e2eDropJob + "/" + e2eDropWABA + "/WhatsAppPhoneNumberQualityRed",
		e2eDropJob + "/" + e2eDropWABA + "/WhatsAppTemplatePausedOrDisabled",
		// Its status webhooks say so within minutes, and name the error
		// that jumped: 131026, undeliverable (alone: the dropping WABA's
		// other codes, and every code of the healthy ones, stay under 5%
		// of their outcomes).
		e2eDropJob + "/" + e2eDropWABA + "/WhatsAppWebhookDeliveryFailuresHigh",
		e2eDropJob + "/" + e2eDropWABA + "/WhatsAppWebhookErrorCodeSpike",
	}
	var got []string
	api.WaitFor(t, 30*time.Second, "the delivery-rate and health alerts for the dropping WABA", func() error {
		alerts, err := api.Alerts()
		if err != nil {
			return err
		}
		got = got[:0]
		for _, a := range alerts {
			if a.State != "pending" && a.State != "firing" {
				continue
			}
			got = append(got, a.Labels["job"]+"/"+a.Labels["waba_id"]+"/"+a.Labels["alertname"])
		}
		sort.Strings(got)
		for _, w := range want {
			if !slices.Contains(got, w) {
				return fmt.Errorf("active alerts %v lack %s", got, w)
			}
		}
		return nil
	})
	// The rules have now been evaluated on both jobs' data. Let two more
	// evaluations pass all the same, so that an alert of the healthy job, if
	// there is one, has certainly shown.
	mark := time.Now().Add(2 * time.Second)
	api.WaitFor(t, 15*time.Second, "two more rule evaluations", func() error {
		return api.RulesEvaluatedSince(mark)
	})
	alerts, err := api.Alerts()
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, a := range alerts {
		got = append(got, a.Labels["job"]+"/"+a.Labels["waba_id"]+"/"+a.Labels["alertname"])
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("alerts are %v, want exactly %v: the healthy demo must raise none", got, want)
	}
}

// e2eTarget is an exporter Prometheus scrapes, as a job of its own.
type e2eTarget struct{ job, addr string }

func e2ePrometheusConfig(ruleFiles []string, targets []e2eTarget) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %[1]s\n  evaluation_interval: 1s\nrule_files:\n", model.Duration(e2eScrapeInterval))
	for _, f := range ruleFiles {
		fmt.Fprintf(&b, "  - %q\n", f)
	}
	b.WriteString("scrape_configs:\n")
	for _, j := range targets {
		fmt.Fprintf(&b, "  - job_name: %q\n    static_configs:\n      - targets: [%q]\n", j.job, j.addr)
	}
	return b.String()
}

// e2eWriteHistory writes, as OpenMetrics, the messaging counters of every
// demo WABA from 7 hours before at until 15 minutes after it (at is a week
// before the test: its 6-hour windows "offset 1w" fall within), for each
// target with the labels Prometheus would add. Each WABA sends its demo
// volume every half hour and delivers its demo delivery rate of it: what
// the healthy demo does, give or take its noise. The series need no phone
// or country: the alert adds them up per WABA.
func e2eWriteHistory(t *testing.T, path string, at time.Time, targets []e2eTarget) {
	t.Helper()
	var wabas []fakeapi.WABA
	wabas = append(wabas, demo.MetaWABAs()...)
	wabas = append(wabas, demo.VonageWABAs()...)
	wabas = append(wabas, demo.PassthroughWABAs()...)
	from, to := at.Add(-7*time.Hour), at.Add(15*time.Minute)
	var b strings.Builder
	for _, family := range []string{"whatsapp_messages_delivered", "whatsapp_messages_sent"} {
		fmt.Fprintf(&b, "# TYPE %s counter\n", family)
		for _, tg := range targets {
			for _, w := range wabas {
				perHalfHour := w.Volume
				if family == "whatsapp_messages_delivered" {
					perHalfHour *= w.DeliveryRate
				}
				for ts := from; ts.Before(to); ts = ts.Add(time.Minute) {
					v := perHalfHour * ts.Sub(from).Minutes() / 30
					fmt.Fprintf(&b, "%s_total{job=%q,instance=%q,waba_id=%q} %.2f %d\n", family, tg.job, tg.addr, w.WABAID, v, ts.Unix())
				}
			}
		}
	}
	b.WriteString("# EOF\n")
	e2eWriteFile(t, path, b.String())
}

// e2eAPI asks the end-to-end tests' Prometheus what promtest's client does
// not: questions that only these tests ask.
type e2eAPI struct{ *promtest.Prometheus }

// waitForSeries waits until q returns series, or fails the test.
func (a e2eAPI) waitForSeries(t *testing.T, timeout time.Duration, what, q string) {
	t.Helper()
	a.WaitFor(t, timeout, what, func() error {
		res, err := a.Query(q)
		if err == nil && len(res) == 0 {
			err = fmt.Errorf("%s returns no series yet", q)
		}
		return err
	})
}

// queryEventually runs an instant query until it returns series, for a few
// scrapes at most: a scrape that failed (under load, it may time out) marks
// the target's series stale until the next one succeeds.
func (a e2eAPI) queryEventually(q string) ([]promtest.Series, error) {
	deadline := time.Now().Add(3 * e2eScrapeInterval)
	for {
		res, err := a.Query(q)
		if err != nil || len(res) > 0 || time.Now().After(deadline) {
			return res, err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

var (
	e2eLabelValues = regexp.MustCompile(`^label_values\((.*),\s*(\w+)\)$`)
	e2eQueryResult = regexp.MustCompile(`^query_result\((.*)\)$`)
)

// variableValues runs a Grafana Prometheus variable query (label_values or
// query_result) and applies its regex, as Grafana does: the named groups
// "value" and "text" pick what the option filters on and what it shows.
func (a e2eAPI) variableValues(q, regex string) (values, texts []string, err error) {
	var candidates []string
	switch {
	case e2eLabelValues.MatchString(q):
		m := e2eLabelValues.FindStringSubmatch(q)
		var series []map[string]string
		params := url.Values{"match[]": {m[1]}, "start": {fmt.Sprint(time.Now().Add(-5 * time.Minute).Unix())}}
		if err := a.API("/api/v1/series", params, &series); err != nil {
			return nil, nil, err
		}
		for _, s := range series {
			if v := s[m[2]]; v != "" && !slices.Contains(candidates, v) {
				candidates = append(candidates, v)
			}
		}
	case e2eQueryResult.MatchString(q):
		// Grafana lists each series as name{labels in API order} value ts.
		res, err := a.Query(e2eQueryResult.FindStringSubmatch(q)[1])
		if err != nil {
			return nil, nil, err
		}
		for _, s := range res {
			keys := make([]string, 0, len(s.Metric))
			for k := range s.Metric {
				if k != "__name__" {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = fmt.Sprintf("%s=%q", k, s.Metric[k])
			}
			candidates = append(candidates, fmt.Sprintf("%s{%s} 1 %d", s.Metric["__name__"], strings.Join(parts, ","), time.Now().UnixMilli()))
		}
	default:
		return nil, nil, fmt.Errorf("not a label_values or query_result query")
	}
	if regex == "" {
		return candidates, candidates, nil
	}
	re, err := regexp.Compile(strings.TrimSuffix(strings.TrimPrefix(regex, "/"), "/"))
	if err != nil {
		return nil, nil, fmt.Errorf("regex %s: %v", regex, err)
	}
	for _, c := range candidates {
		m := re.FindStringSubmatch(c)
		if m == nil {
			continue
		}
		value, text := m[re.SubexpIndex("value")], ""
		if i := re.SubexpIndex("text"); i >= 0 {
			text = m[i]
		}
		if text == "" {
			text = value
		}
		if !slices.Contains(values, value) {
			values, texts = append(values, value), append(texts, text)
		}
	}
	return values, texts, nil
}

func e2eWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
