package dashboards

// Dashboards and rules over several replicas: a fleet split over three
// replicas must read the same as the same fleet on one. The test takes a
// scrape of the demo, makes of it two datasets, one replica that exports
// every WABA and three that each export the WABAs of their shard (the
// exporter's own jump hash decides), as Prometheus would have scraped them
// for an hour, and asks a real Prometheus every panel query and every rule
// of both.

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/whatsapp-exporter/whatsapp_exporter/collector"
	wa "github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fleet"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/promtest"
)

const (
	// The two datasets live in one Prometheus as two jobs, so that every
	// query runs on each by its job matcher.
	oneReplicaJob = "whatsapp-one"
	shardedJob    = "whatsapp-sharded"
	shards        = 3

	// The datasets hold an hour of scrapes, a sample a minute: the
	// webhook panels' increase() over 5 minutes needs two samples in its
	// window.
	datasetSpan = time.Hour
	datasetStep = time.Minute
)

// perReplicaPanels answer per replica by design: what each replica is and
// does (its version, its shard, its own cycle of refreshes). Over three
// replicas they show, for each replica, the series one replica shows.
var perReplicaPanels = map[string]bool{
	"Exporter versions": true,
	"Shards":            true,
	"Cycle duration per replica, against its interval": true,
	"Refreshes waiting and running, per replica":       true,
	"API requests per cycle, per replica":              true,
	// Each replica serves a webhook endpoint of its own: what it answered,
	// refused and skipped, its dedup window and its latency are that
	// process's, whichever replica Meta's POSTs reach.
	"Webhook requests by answer":                      true,
	"Refused webhook requests by reason":              true,
	"Skipped parts of webhooks by reason":             true,
	"Duplicate statuses by status":                    true,
	"Dedup window: messages remembered and forgotten": true,
	"Webhook POST latency (99th percentile)":          true,
}

// perReplicaRules are judged per replica by design: whether a replica is
// up, and whether its share fits its interval.
var perReplicaRules = map[string]bool{
	"WhatsAppExporterDown":                    true,
	"WhatsAppExporterFleetOutgrewItsInterval": true,
}

// TestReplicasGiveTheSameAnswers evaluates every panel query of every
// dashboard and every recording and alert rule on one replica and on three,
// at the same instant: each must give the same series and values once the
// job and instance labels are set aside (a series that spans the fleet
// split per replica, or an exporter-wide figure added up over replicas,
// differs), and must give some on one replica, or the comparison proves
// nothing. The panels and rules of perReplicaPanels and perReplicaRules
// must instead give, for each of the three replicas, series of the labels
// one replica gives.
func TestReplicasGiveTheSameAnswers(t *testing.T) {
	prometheusBin, promtoolBin := promtest.Tools(t)
	body := demoScrape(t)
	end := time.Now().Truncate(time.Second)
	one, sharded := replicaDatasets(t, body, end)

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	om := filepath.Join(dir, "datasets.om")
	if err := os.WriteFile(om, openMetrics(append(one, sharded...), end), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtoolBin, "tsdb", "create-blocks-from", "openmetrics", om, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	ruleFiles := promtest.RuleFiles(t, "../examples/rules")
	rules := promtest.Rules(t, ruleFiles...)
	prom := promtest.StartPrometheus(t, prometheusBin, dir, promtest.FreeAddrs(t, 1)[0], rulesOnlyConfig(ruleFiles),
		"--storage.tsdb.path="+data, "--storage.tsdb.retention.time=30d")

	// The recording rules run from Prometheus' start, on the datasets' last
	// samples. Every query is asked at one instant, once every rule
	// evaluation at or before it has landed, so that both datasets are
	// read at the same time and the same evaluation.
	prom.WaitFor(t, 30*time.Second, "every rule evaluated once", func() error { return prom.RulesEvaluatedSince(end) })
	at := time.Now()
	time.Sleep(2 * time.Second) // two evaluation intervals

	vars := func(job string) map[string]string {
		return map[string]string{"job": regexp.QuoteMeta(job)}
	}
	checked := 0
	for _, name := range dashboardFiles(t) {
		b, _ := load(t, name)
		allValues := map[string]string{}
		for _, v := range b.Templating.List {
			allValues[v.Name] = v.AllValue
		}
		for _, p := range allPanels(b.Panels) {
			for i, tg := range p.Targets {
				what := fmt.Sprintf("%s: panel %q, query %c", name, p.Title, 'A'+i)
				q1 := substituteAll(tg.Expr, vars(oneReplicaJob), allValues)
				q3 := substituteAll(tg.Expr, vars(shardedJob), allValues)
				r1, err := prom.QueryAt(q1, at)
				if err != nil {
					t.Errorf("%s: %v\n  query: %s", what, err, q1)
					continue
				}
				r3, err := prom.QueryAt(q3, at)
				if err != nil {
					t.Errorf("%s: %v\n  query: %s", what, err, q3)
					continue
				}
				checked++
				compareReplicas(t, what, q1, perReplicaPanels[p.Title], true, r1, r3)
			}
		}
	}

	for _, r := range rules {
		name := r.Name()
		res, err := prom.QueryAt(r.Expr, at)
		if err != nil {
			t.Errorf("rule %s: %v", name, err)
			continue
		}
		var r1, r3 []promtest.Series
		for _, s := range res {
			switch s.Metric["job"] {
			case oneReplicaJob:
				r1 = append(r1, s)
			case shardedJob:
				r3 = append(r3, s)
			default:
				t.Errorf("rule %s: series %v has lost its job: the rule mixes exporters that are not one fleet", name, s.Metric)
			}
		}
		checked++
		// Alerts are silent on healthy data by design; recording rules
		// must record something.
		compareReplicas(t, "rule "+name, r.Expr, perReplicaRules[name], r.Record != "", r1, r3)
	}

	// The per-replica lists name panels and rules that exist, so that a
	// renamed one does not slip out of the comparison's exceptions.
	titles := map[string]bool{}
	for _, name := range dashboardFiles(t) {
		b, _ := load(t, name)
		for _, p := range allPanels(b.Panels) {
			titles[p.Title] = true
		}
	}
	for title := range perReplicaPanels {
		if !titles[title] {
			t.Errorf("perReplicaPanels names %q, which no dashboard has", title)
		}
	}
	for name := range perReplicaRules {
		if !slices.ContainsFunc(rules, func(r promtest.Rule) bool { return r.Name() == name }) {
			t.Errorf("perReplicaRules names %s, which no rule file has", name)
		}
	}
	t.Logf("%d panel queries and rules compared over one and %d replicas", checked, shards)
}

// compareReplicas compares a query's answers on one replica (r1) and on
// three (r3).
func compareReplicas(t *testing.T, what, query string, perReplica, mustAnswer bool, r1, r3 []promtest.Series) {
	t.Helper()
	if mustAnswer && len(r1) == 0 {
		t.Errorf("%s gives nothing on one replica, so its answers over replicas are not compared\n  query: %s", what, query)
		return
	}
	if perReplica {
		// Each replica answers for itself, with labels of its own (its
		// shard): the shape of its answer is one replica's.
		want := shapes(r1)
		byInstance := map[string][]promtest.Series{}
		for _, s := range r3 {
			byInstance[s.Metric["instance"]] = append(byInstance[s.Metric["instance"]], s)
		}
		if len(r1) > 0 && len(byInstance) != shards {
			t.Errorf("%s: answers for instances %v, want one answer per replica (%d)", what, slices.Sorted(mapKeys(byInstance)), shards)
		}
		for instance, got := range byInstance {
			if shape := shapes(got); !slices.Equal(shape, want) {
				t.Errorf("%s: replica %s gives series of labels %v, want those of one replica: %v", what, instance, shape, want)
			}
		}
		return
	}
	a, b := normalize(r1), normalize(r3)
	if len(a) != len(b) {
		t.Errorf("%s: %d series on one replica, %d on %d replicas\n  one:   %v\n  three: %v\n  query: %s", what, len(a), len(b), shards, a, b, query)
		return
	}
	for i := range a {
		if a[i].key != b[i].key || !sameValue(a[i].value, b[i].value) {
			t.Errorf("%s: one replica gives %s %g, %d replicas give %s %g\n  query: %s", what, a[i].key, a[i].value, shards, b[i].key, b[i].value, query)
			return
		}
	}
}

// keyedValue is a series without the labels that name a replica.
type keyedValue struct {
	key   string
	value float64
}

// fleetKey is a series' labels but job and instance, which name the
// replica that answered, not what the answer is about.
func fleetKey(s promtest.Series) string {
	var parts []string
	for k, v := range s.Metric {
		if k != "job" && k != "instance" {
			parts = append(parts, fmt.Sprintf("%s=%q", k, v))
		}
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}

// shapes are the label names of each series but job and instance.
func shapes(res []promtest.Series) []string {
	var out []string
	for _, s := range res {
		var names []string
		for k := range s.Metric {
			if k != "job" && k != "instance" {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		out = append(out, strings.Join(names, ","))
	}
	sort.Strings(out)
	return out
}

// normalize sorts a query's answer by labels (job and instance set aside)
// and value, keeping duplicates: a figure split per replica shows as
// several series of the same labels.
func normalize(res []promtest.Series) []keyedValue {
	out := make([]keyedValue, 0, len(res))
	for _, s := range res {
		out = append(out, keyedValue{fleetKey(s), s.Value})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].key != out[j].key {
			return out[i].key < out[j].key
		}
		return out[i].value < out[j].value
	})
	return out
}

// sameValue: equal but for the rounding of adding up in another order.
func sameValue(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// substituteAll puts values in a panel query: those given, Grafana's
// range and interval variables at an hour, and every other variable at
// All (its allValue; .* where it has none).
func substituteAll(expr string, values, allValues map[string]string) string {
	return grafanaVariable.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVariable.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if v, ok := values[name]; ok {
			return v
		}
		if strings.HasPrefix(name, "__") {
			return "1h"
		}
		if v := allValues[name]; v != "" {
			return v
		}
		return ".*"
	})
}

// sample is one series of a scrape: its name, labels and value, and
// whether it is a counter.
type sample struct {
	name    string
	labels  map[string]string
	value   float64
	counter bool
}

// The demo's WABAs that a business lists in the datasets, by provider
// (the demo has no business of its own): Meta's through a business
// portfolio, Vonage's through the API key, whose listing fails. The
// passthrough WABA stays listed in the configuration.
var (
	demoBusinesses = map[string]string{"meta": "506914307656634", "vonage": "Umbrella Logistics"}
	failingListing = "vonage"
)

// replicaDatasets makes the two datasets of a demo scrape: its analytics
// and health series (those with a waba_id) and the exporter's series
// (without), on one replica, and split over three: each WABA's series on
// the replica whose shard it hashes to, the exporter's series on every
// replica, as each replica serves its own. The fleet's own figures are the
// fleet collector's, for each replica: the businesses' listings the same on
// every replica (each lists every business), the accounts, shard and cycle
// its own.
func replicaDatasets(t *testing.T, body []byte, end time.Time) (one, sharded []sample) {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	// The fleet collector's series are made below, per replica.
	fleetFamilies := map[string]bool{}
	for _, s := range fleetSamples(t, wa.Discovery{Businesses: []wa.Business{{Label: "x", Listings: true, LastSuccess: end}}}, wa.Fleet{Cycles: 1, CycleInterval: 1}) {
		fleetFamilies[s.name] = true
	}
	var scraped []sample
	for name, mf := range families {
		if fleetFamilies[name] || !strings.HasPrefix(name, "whatsapp_") && name != "process_start_time_seconds" {
			continue // the Go runtime's and process' own: no panel reads them
		}
		scraped = append(scraped, samplesOf(mf)...)
	}

	// Which WABAs are configured and which discovered, and how many each
	// business's listing keeps.
	provider := map[string]string{}
	for _, s := range scraped {
		if s.name == "whatsapp_exporter_account_info" {
			provider[s.labels["waba_id"]] = s.labels["provider"]
		}
	}
	kept := map[string]int{}
	for _, p := range provider {
		if _, ok := demoBusinesses[p]; ok {
			kept[p]++
		}
	}
	var businesses []wa.Business
	for _, p := range slices.Sorted(mapKeys(demoBusinesses)) {
		b := wa.Business{Label: demoBusinesses[p], Provider: p, Listed: kept[p] + 1, Kept: kept[p],
			Success: true, LastSuccess: end.Add(-10 * time.Minute), Listings: true}
		if p == failingListing {
			b.Success, b.LastSuccess = false, end.Add(-3*time.Hour)
		}
		businesses = append(businesses, b)
	}
	accounts := func(shard fleet.Shard) (configured, discovered int) {
		for id, p := range provider {
			if !shard.Owns(id) {
				continue
			}
			if _, ok := demoBusinesses[p]; ok {
				discovered++
			} else {
				configured++
			}
		}
		return configured, discovered
	}

	// One replica.
	add := func(to *[]sample, s sample, job, instance string) {
		labels := map[string]string{"job": job, "instance": instance}
		for k, v := range s.labels {
			labels[k] = v
		}
		s.labels = labels
		*to = append(*to, s)
	}
	c, d := accounts(fleet.Shard{})
	own := append(scraped, fleetSamples(t,
		wa.Discovery{Businesses: businesses, ShardIndex: 0, ShardCount: 1, Configured: c, Discovered: d},
		wa.Fleet{Accounts: c + d, Waiting: 3, Refreshing: 2, Cycles: 12,
			CycleDuration: 20 * time.Minute, CycleInterval: 15 * time.Minute, CycleElapsed: 21 * time.Minute, CycleRequests: 9000})...)
	for _, s := range own {
		add(&one, s, oneReplicaJob, "whatsapp-exporter:9919")
	}

	// Three replicas.
	wabas := map[int]int{}
	for i := range shards {
		shard := fleet.Shard{Index: i, Count: shards}
		instance := fmt.Sprintf("whatsapp-exporter-%d.whatsapp-exporter:9919", i)
		c, d := accounts(shard)
		wabas[i] = c + d
		own := fleetSamples(t,
			wa.Discovery{Businesses: businesses, ShardIndex: i, ShardCount: shards, Configured: c, Discovered: d},
			wa.Fleet{Accounts: c + d, Waiting: i, Refreshing: 1, Cycles: 10 + i,
				CycleDuration: time.Duration(19+i) * time.Minute, CycleInterval: 15 * time.Minute,
				CycleElapsed: time.Duration(20+i) * time.Minute, CycleRequests: float64(3000 + i)})
		for _, s := range scraped {
			if id, ok := s.labels["waba_id"]; !ok || shard.Owns(id) {
				own = append(own, s)
			}
		}
		for _, s := range own {
			add(&sharded, s, shardedJob, instance)
		}
	}
	for i := range shards {
		if wabas[i] == 0 {
			t.Fatalf("replica %d of %d exports none of the demo's WABAs: the split would not test a share on each", i, shards)
		}
	}
	return one, sharded
}

// fleetSamples are what the fleet collector serves for discovery and a
// schedule.
func fleetSamples(t *testing.T, d wa.Discovery, f wa.Fleet) []sample {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collector.NewFleet(func() wa.Discovery { return d }, func() wa.Fleet { return f }))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []sample
	for _, mf := range families {
		out = append(out, samplesOf(mf)...)
	}
	return out
}

// samplesOf flattens a metric family of counters, gauges and histograms.
// A histogram's buckets, sum and count are counted up as counters are
// (openMetrics writes them as series of their own), so that rate() and
// histogram_quantile() read them.
func samplesOf(mf *dto.MetricFamily) []sample {
	var out []sample
	for _, m := range mf.GetMetric() {
		s := sample{name: mf.GetName(), labels: map[string]string{}}
		for _, l := range m.GetLabel() {
			s.labels[l.GetName()] = l.GetValue()
		}
		if h := m.GetHistogram(); mf.GetType() == dto.MetricType_HISTOGRAM && h != nil {
			part := func(suffix string, value float64, le string) {
				p := sample{name: s.name + suffix, labels: maps.Clone(s.labels), value: value, counter: true}
				if le != "" {
					p.labels["le"] = le
				}
				out = append(out, p)
			}
			inf := false
			for _, b := range h.GetBucket() {
				inf = inf || math.IsInf(b.GetUpperBound(), 1)
				part("_bucket", float64(b.GetCumulativeCount()), strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))
			}
			if !inf { // the text parser may leave the +Inf bucket implicit
				part("_bucket", float64(h.GetSampleCount()), "+Inf")
			}
			part("_sum", h.GetSampleSum(), "")
			part("_count", float64(h.GetSampleCount()), "")
			continue
		}
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			s.value, s.counter = m.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			s.value = m.GetGauge().GetValue()
		case dto.MetricType_UNTYPED:
			s.value = m.GetUntyped().GetValue()
		default:
			continue
		}
		out = append(out, s)
	}
	return out
}

// openMetrics writes samples as an hour of scrapes ending at end, in
// OpenMetrics for promtool's backfill: a gauge keeps its value, a counter
// climbs evenly to its value, as a month-to-date counter does while its
// buckets come in.
func openMetrics(samples []sample, end time.Time) []byte {
	byName := map[string][]sample{}
	for _, s := range samples {
		byName[s.name] = append(byName[s.name], s)
	}
	steps := int(datasetSpan / datasetStep)
	var b bytes.Buffer
	for _, name := range slices.Sorted(mapKeys(byName)) {
		family := byName[name]
		if base, ok := strings.CutSuffix(name, "_total"); ok && family[0].counter {
			fmt.Fprintf(&b, "# TYPE %s counter\n", base)
		} else {
			fmt.Fprintf(&b, "# TYPE %s gauge\n", name)
		}
		for _, s := range family {
			var labels []string
			for _, k := range slices.Sorted(mapKeys(s.labels)) {
				labels = append(labels, k+`="`+escapeLabelValue(s.labels[k])+`"`)
			}
			series := name + "{" + strings.Join(labels, ",") + "}"
			for i := 0; i <= steps; i++ {
				v := s.value
				if s.counter {
					v = s.value * float64(i+1) / float64(steps+1)
				}
				ts := end.Add(-time.Duration(steps-i) * datasetStep)
				fmt.Fprintf(&b, "%s %s %d\n", series, strconv.FormatFloat(v, 'g', -1, 64), ts.Unix())
			}
		}
	}
	b.WriteString("# EOF\n")
	return b.Bytes()
}

var labelValueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabelValue(v string) string { return labelValueEscaper.Replace(v) }

// rulesOnlyConfig is a Prometheus configuration that evaluates the rule
// files every second and scrapes nothing: the datasets are backfilled.
func rulesOnlyConfig(ruleFiles []string) string {
	var cfg strings.Builder
	cfg.WriteString("global:\n  evaluation_interval: 1s\nrule_files:\n")
	for _, f := range ruleFiles {
		fmt.Fprintf(&cfg, "  - %q\n", f)
	}
	return cfg.String()
}
