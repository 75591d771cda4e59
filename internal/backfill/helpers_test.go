package backfill

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/collector"
	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fleet"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
)

// testNow is the fakes' clock: the demo's APIs answer every bucket that
// ended by then.
var testNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// startDemo serves the demo's fakes (every family; a partner-billed WABA;
// Vonage; a Graph passthrough) on a fixed clock, with only the WABAs keep
// names, or all.
func startDemo(t *testing.T, keep ...string) *demo.Demo {
	t.Helper()
	d, err := demo.Start(demo.Healthy, func() time.Time { return testNow }, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if len(keep) > 0 {
		// Those accounts alone: not the demo business's listed WABAs.
		d.Config.Accounts = slices.DeleteFunc(d.Config.Accounts, func(a config.Account) bool { return !slices.Contains(keep, a.WABAID) })
		d.Config.Businesses = nil
	}
	return d
}

// countingTransport counts the requests that reach the fakes, by kind, and
// can interrupt a run before a given request.
type countingTransport struct {
	mu sync.Mutex
	// analytics counts requests for analytics, by WABA and query (path
	// and query string): a bucket fetched twice shows as a count of 2.
	analytics map[string]int
	// answered counts the analytics requests answered 200.
	answered map[string]int
	total    int
}

func newCountingTransport() *countingTransport {
	return &countingTransport{analytics: map[string]int{}, answered: map[string]int{}}
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total++
	if q := r.URL.RawQuery; strings.Contains(r.URL.Path, "analytics") || strings.Contains(q, "analytics") {
		c.analytics[r.URL.Path+"?"+q]++
		if err == nil && resp.StatusCode == http.StatusOK {
			c.answered[r.URL.Path+"?"+q]++
		}
	}
	return resp, err
}

func (c *countingTransport) analyticsRequests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.analytics {
		n += v
	}
	return n
}

// testOptions are a run's options on d, without waits.
func testOptions(d *demo.Demo, output string, transport http.RoundTripper) Options {
	return Options{
		Config: d.Config, Connector: &scheduler.Connector{HTTP: &http.Client{Transport: transport}},
		Output: output, Now: d.Now, Labels: map[string]string{"job": "whatsapp", "instance": "127.0.0.1:9919"},
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	}
}

// samples reads an OpenMetrics file into samples by time, each keyed by
// its name and labels (sorted, without job and instance).
func samples(t *testing.T, path string) map[int64]map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int64]map[string]float64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ts, err := parseSample(line)
		if err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		if out[ts] == nil {
			out[ts] = map[string]float64{}
		}
		if _, dup := out[ts][key]; dup {
			t.Fatalf("series %s has two samples at %d", key, ts)
		}
		out[ts][key] = value
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// parseSample parses `name{label="value",...} value timestamp`.
func parseSample(line string) (key string, value float64, ts int64, err error) {
	name, rest, ok := strings.Cut(line, "{")
	if !ok {
		return "", 0, 0, fmt.Errorf("no labels")
	}
	labels := map[string]string{}
	for {
		ln, r, ok := strings.Cut(rest, `="`)
		if !ok {
			return "", 0, 0, fmt.Errorf("bad labels")
		}
		var v strings.Builder
		i := 0
		for ; i < len(r) && r[i] != '"'; i++ {
			if r[i] == '\\' && i+1 < len(r) {
				i++
				if r[i] == 'n' {
					v.WriteByte('\n')
					continue
				}
			}
			v.WriteByte(r[i])
		}
		labels[ln] = v.String()
		rest = r[i+1:]
		if strings.HasPrefix(rest, ",") {
			rest = rest[1:]
			continue
		}
		if !strings.HasPrefix(rest, "} ") {
			return "", 0, 0, fmt.Errorf("bad end of labels")
		}
		rest = rest[2:]
		break
	}
	if labels["job"] != "whatsapp" || labels["instance"] != "127.0.0.1:9919" {
		return "", 0, 0, fmt.Errorf("job and instance missing")
	}
	delete(labels, "job")
	delete(labels, "instance")
	fields := strings.Fields(rest)
	if len(fields) != 2 {
		return "", 0, 0, fmt.Errorf("want a value and a timestamp")
	}
	if value, err = strconv.ParseFloat(fields[0], 64); err != nil {
		return "", 0, 0, err
	}
	if ts, err = strconv.ParseInt(fields[1], 10, 64); err != nil {
		return "", 0, 0, err
	}
	return seriesKeyOf(name, labels), value, ts, nil
}

func seriesKeyOf(name string, labels map[string]string) string {
	var names []string
	for n := range labels {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", n, labels[n])
	}
	b.WriteByte('}')
	return b.String()
}

// lastSnapshots keeps each account's latest snapshot.
type lastSnapshots struct {
	mu sync.Mutex
	by map[string]*analytics.Snapshot
}

func (l *lastSnapshots) Publish(s *analytics.Snapshot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.by[s.WABAID] = s
}
func (l *lastSnapshots) Forget(string) {}

// liveAt is what the live exporter, refreshed once at at on the same fakes,
// exports of the series the backfill writes: the collector's own rendering
// of the scheduler's snapshots.
func liveAt(t *testing.T, cfg *config.Config, at time.Time, backfilled map[string]bool) map[string]float64 {
	t.Helper()
	// The accounts the exporter would export: the configured ones and
	// those its businesses' listings find.
	accounts := fleet.New(cfg, &scheduler.Connector{}, func([]scheduler.Target) {}, fleet.Options{})
	if errs := accounts.ListOnce(context.Background()); len(errs) > 0 {
		t.Fatal(errs)
	}
	targets, err := accounts.Targets()
	if err != nil {
		t.Fatal(err)
	}
	pub := &lastSnapshots{by: map[string]*analytics.Snapshot{}}
	s := scheduler.New(targets, pub, scheduler.Options{Now: func() time.Time { return at }})
	s.RefreshAll(context.Background())
	c := collector.New(collector.Options{Now: func() time.Time { return at }})
	for _, snap := range pub.by {
		c.Publish(snap)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range families {
		if !backfilled[mf.GetName()] {
			continue
		}
		for _, m := range mf.Metric {
			labels := map[string]string{}
			for _, lp := range m.Label {
				labels[lp.GetName()] = lp.GetValue()
			}
			v := m.GetGauge().GetValue()
			if m.Counter != nil {
				v = m.GetCounter().GetValue()
			}
			out[seriesKeyOf(mf.GetName(), labels)] = v
		}
	}
	return out
}

// sameValue compares counts exactly and costs to a billionth: the exporter
// adds a month's costs from days and half hours, split where its own
// refreshes fell, and floating-point sums of decimals depend on the split.
func sameValue(key string, a, b float64) bool {
	if strings.Contains(key, "cost") || strings.Contains(key, "amount_spent") {
		return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(a))
	}
	return a == b
}

func outputPath(t *testing.T) string { return filepath.Join(t.TempDir(), "history.om") }
