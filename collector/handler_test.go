package collector

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

const (
	acceptText        = "text/plain;version=0.0.4"
	acceptOpenMetrics = "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;q=0.5"
)

// fixture is a collector's state: what was published and forgotten, and
// the time of the scrape.
type fixture struct {
	name    string
	now     time.Time
	publish func(c *Collector)
}

// withMonthToDate gives every family of s month-to-date sums of its
// additive values.
func withMonthToDate(s *analytics.Snapshot) *analytics.Snapshot {
	for _, r := range s.Families {
		var additive []analytics.Value
		for _, v := range r.Values {
			if v.Measure.Additive() {
				additive = append(additive, v)
			}
		}
		r.MonthToDate = &analytics.MonthToDate{Month: r.BucketStart, Values: additive, DownwardRevisions: 1}
	}
	return s
}

func fixtures() []fixture {
	scrapeTime := lastSuccess.Add(15 * time.Minute)
	return []fixture{
		{name: "no accounts", now: scrapeTime, publish: func(*Collector) {}},
		{name: "profile, health and versions", now: scrapeTime, publish: func(c *Collector) {
			s := withMonthToDate(profileSnapshot("102290129340398"))
			s.Currency = "USD"
			s.Errors = map[analytics.Outcome]float64{{Family: provider.Pricing, Code: "4"}: 1, {Family: analytics.HealthFamily, Code: "timeout"}: 2}
			s.Usage = []provider.Usage{{Type: "app", CallCount: 5, TotalCPUTime: -1, TotalTime: 2, RegainAccess: 90 * time.Second}}
			s.APIVersion = &analytics.APIVersion{Configured: "v21.0", Served: "v22.0", Expires: time.Date(2027, 1, 21, 0, 0, 0, 0, time.UTC)}
			s.DroppedSeries = map[provider.Family]int{provider.Calls: 12}
			c.Publish(s)
			c.Publish(healthSnapshot())
			c.Publish(&analytics.Snapshot{WABAID: "3", Provider: "vonage", APIVersion: &analytics.APIVersion{Configured: "v25.0"}})
		}},
		{name: "stale family dropped", now: scrapeTime, publish: func(c *Collector) {
			s := withMonthToDate(profileSnapshot("1"))
			s.MaxDataAge = time.Hour
			s.Families[provider.Pricing].LastSuccess = lastSuccess.Add(-50 * time.Minute) // 65 minutes old
			c.Publish(s)
			c.Publish(withMonthToDate(profileSnapshot("2"))) // no max_data_age
		}},
		{name: "forgotten accounts", now: scrapeTime, publish: func(c *Collector) {
			for _, id := range []string{"1", "2", "3"} {
				c.Publish(profileSnapshot(id))
			}
			c.Forget("2")
			c.Publish(&analytics.Snapshot{WABAID: "1", Name: "renamed", Provider: "meta"})
			c.Forget("never published")
		}},
		{name: "partial snapshots", now: scrapeTime, publish: func(c *Collector) {
			c.Publish(&analytics.Snapshot{WABAID: "1", Name: "Acme", Provider: "meta", Currency: "BRL"})
			c.Publish(&analytics.Snapshot{WABAID: "2", Families: map[provider.Family]*analytics.Refresh{
				provider.Conversations: {Duration: time.Second},
				provider.Calls:         {Duration: time.Second, Unavailable: provider.ReasonNotSupported},
				provider.Templates: {LastSuccess: lastSuccess, BucketStart: bucketStart, BucketEnd: bucketEnd, Values: []analytics.Value{
					{Measure: analytics.TemplateClicked, Dimensions: analytics.Dimensions{TemplateID: "7", ButtonType: "url_button", ButtonContent: "Go"}, Value: 3},
				}},
				provider.Messaging: {Success: true, LastSuccess: lastSuccess}, // a window without data
			}, Health: &analytics.Health{Refresh: analytics.Refresh{Duration: time.Second}}})
		}},
		{name: "label values and numbers", now: scrapeTime, publish: func(c *Collector) {
			nasty := "a \"quoted\" \\back\\slash\\ and a\nnew line, S\u00e3o Paulo \u260e, \xff\xfe broken"
			s := &analytics.Snapshot{WABAID: "1\"\\\n", Name: nasty, Provider: "meta", Currency: "\xc3\x28",
				Families: map[provider.Family]*analytics.Refresh{
					provider.Templates: {Success: true, LastSuccess: lastSuccess, BucketEnd: bucketEnd, Values: []analytics.Value{
						{Measure: analytics.TemplateClicked, Dimensions: analytics.Dimensions{TemplateID: "7", ButtonType: "url_button", ButtonContent: nasty}, Value: 1e21},
						{Measure: analytics.TemplateSent, Dimensions: analytics.Dimensions{TemplateID: "8"}, Value: 123456789},
						{Measure: analytics.TemplateDelivered, Dimensions: analytics.Dimensions{TemplateID: "8"}, Value: math.Copysign(0, -1)},
						{Measure: analytics.TemplateRead, Dimensions: analytics.Dimensions{TemplateID: "8"}, Value: 5e-324},
						{Measure: analytics.TemplateAmountSpent, Dimensions: analytics.Dimensions{TemplateID: "8"}, Value: math.MaxFloat64},
						{Measure: analytics.TemplateUnitCost, Dimensions: analytics.Dimensions{TemplateID: "8", CostType: "cost_per_delivered"}, Value: math.NaN()},
						{Measure: analytics.TemplateUniqueClicks, Dimensions: analytics.Dimensions{TemplateID: "8", ButtonContent: "-"}, Value: -1},
					}, MonthToDate: &analytics.MonthToDate{Values: []analytics.Value{
						{Measure: analytics.TemplateSent, Dimensions: analytics.Dimensions{TemplateID: "8"}, Value: 0.1},
						{Measure: analytics.TemplateAmountSpent, Dimensions: analytics.Dimensions{TemplateID: "8"}, Value: 1e-7},
					}}},
				},
				Health: &analytics.Health{Refresh: analytics.Refresh{Success: true, LastSuccess: lastSuccess}, Phones: []analytics.PhoneHealth{
					{PhoneNumber: "1", VerifiedName: nasty, Status: nasty, MessagingLimitRecipients: ptr(math.Inf(1))},
				}},
			}
			c.Publish(s)
		}},
	}
}

func ptr(v float64) *float64 { return &v }

// otherCollectors are metrics that are not the collector's, as a
// registry holds beside it (build info, the reload metrics), with fixed
// values: a gauge, a counter, and label values that need escaping.
func otherCollectors() []prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "whatsapp_exporter_config_last_reload_successful", Help: "A \"gauge\" with a\nnew line."})
	g.Set(1)
	cnt := prometheus.NewCounter(prometheus.CounterOpts{Name: "other_events_total", Help: "A counter."})
	cnt.Add(3)
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "whatsapp_exporter_build_info", Help: "Build."}, []string{"version", "goversion"})
	v.WithLabelValues(`1.0 "x" \y`, "go1.26").Set(1)
	return []prometheus.Collector{g, cnt, v}
}

// handlers returns the collector's /metrics handler and the reference:
// client_golang's promhttp over a registry that holds the collector as a
// prometheus.Collector, beside the same other metrics.
func handlers(t *testing.T, c *Collector) (ours, reference http.Handler) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(otherCollectors()...)
	ours = c.Handler(reg, HandlerOpts{ErrorLog: testLogger{t}})
	ref := prometheus.NewPedanticRegistry()
	ref.MustRegister(otherCollectors()...)
	ref.MustRegister(c)
	return ours, promhttp.HandlerFor(ref, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

type testLogger struct{ t *testing.T }

func (l testLogger) Println(v ...any) { l.t.Error(v...) }

func get(h http.Handler, target, accept, acceptEncoding string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// What /metrics serves, in both formats, is what client_golang serves for
// the same snapshots: the same families, each with the same HELP and TYPE
// lines and the same sample lines byte for byte (in another order), each
// family one block; and both parse back to the same families, with
// expfmt's text parser and with the OpenMetrics reference parser.
func TestHandlerMatchesPromhttp(t *testing.T) {
	python := openMetricsParser(t)
	// The OpenMetrics answers, ours and promhttp's, for one run of the
	// reference parser at the end (it takes a while to start).
	type pair struct {
		name      string
		got, want []byte
	}
	var openMetrics []pair
	for _, fx := range fixtures() {
		for _, format := range []struct{ name, accept string }{{"text", acceptText}, {"openmetrics", acceptOpenMetrics}} {
			for _, target := range []string{"/metrics", "/metrics?name[]=whatsapp_exporter_account_info&name[]=whatsapp_template_sent_total&name[]=other_events_total&name[]=whatsapp_exporter_data_age_seconds"} {
				name := fx.name + "/" + format.name + "/" + target
				t.Run(name, func(t *testing.T) {
					c := New(Options{Now: func() time.Time { return fx.now }})
					fx.publish(c)
					ours, reference := handlers(t, c)
					got, want := get(ours, target, format.accept, ""), get(reference, target, format.accept, "")
					if got.Code != http.StatusOK || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
						t.Fatalf("status %d, Content-Type %q; promhttp: %q", got.Code, got.Header().Get("Content-Type"), want.Header().Get("Content-Type"))
					}
					isOpenMetrics := format.name == "openmetrics"
					gotFamilies, wantFamilies := blocks(t, got.Body.String(), isOpenMetrics), blocks(t, want.Body.String(), isOpenMetrics)
					if diff := diffBlocks(gotFamilies, wantFamilies); diff != "" {
						t.Errorf("differs from promhttp's:\n%s", diff)
					}
					if isOpenMetrics {
						openMetrics = append(openMetrics, pair{name, got.Body.Bytes(), want.Body.Bytes()})
					} else if g, w := parseText(t, got.Body.Bytes()), parseText(t, want.Body.Bytes()); g != w {
						t.Errorf("parsed text differs:\n got %s\nwant %s", g, w)
					}
					if fx.name != "no accounts" && !strings.Contains(target, "?") && !strings.Contains(got.Body.String(), "whatsapp_exporter_account_info{") {
						t.Error("no account in the output")
					}
				})
			}
		}
	}
	var bodies [][]byte
	for _, p := range openMetrics {
		bodies = append(bodies, p.got, p.want)
	}
	parsed := parseOpenMetricsFull(t, python, bodies)
	for i, p := range openMetrics {
		if g, w := parsed[2*i], parsed[2*i+1]; g != w {
			t.Errorf("%s: parsed OpenMetrics differ:\n got %s\nwant %s", p.name, g, w)
		}
	}
	if len(openMetrics) == 0 {
		t.Error("no OpenMetrics answer parsed")
	}
}

// block is one family of an exposition: its HELP and TYPE lines and its
// sample lines.
type block struct {
	header  string
	samples []string
}

// blocks splits an exposition into its families, and fails the test unless
// each family is one block with its HELP and TYPE once, every sample is in
// its family's block, and OpenMetrics ends with one # EOF.
func blocks(t *testing.T, body string, openMetrics bool) map[string]*block {
	t.Helper()
	if openMetrics {
		rest, ok := strings.CutSuffix(body, "# EOF\n")
		if !ok || strings.Contains(rest, "# EOF") {
			t.Fatalf("OpenMetrics does not end with one # EOF:\n%s", tail(body))
		}
		body = rest
	}
	out := map[string]*block{}
	var current *block
	var name string
	for _, line := range strings.SplitAfter(body, "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "# HELP "):
			name = strings.Fields(line)[2]
			if out[name] != nil {
				t.Fatalf("family %s written twice", name)
			}
			current = &block{header: line}
			out[name] = current
		case strings.HasPrefix(line, "# TYPE "):
			if current == nil || strings.Fields(line)[2] != name {
				t.Fatalf("TYPE line %q outside its family's block", line)
			}
			current.header += line
		default:
			sample := line[:strings.IndexAny(line, "{ ")]
			if current == nil || (sample != name && !(openMetrics && sample == name+"_total")) {
				t.Fatalf("sample %q outside its family's block (in %s)", line, name)
			}
			current.samples = append(current.samples, line)
		}
	}
	return out
}

func tail(s string) string { return s[max(0, len(s)-300):] }

func diffBlocks(got, want map[string]*block) string {
	var diff strings.Builder
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range want {
			if !yield(n) {
				return
			}
		}
		for n := range got {
			if want[n] == nil && !yield(n) {
				return
			}
		}
	}) {
		g, w := got[name], want[name]
		switch {
		case g == nil:
			fmt.Fprintf(&diff, "missing family %s\n", name)
		case w == nil:
			fmt.Fprintf(&diff, "extra family %s\n", name)
		case g.header != w.header:
			fmt.Fprintf(&diff, "family %s: header\n%s want\n%s", name, g.header, w.header)
		default:
			gs, ws := slices.Sorted(slices.Values(g.samples)), slices.Sorted(slices.Values(w.samples))
			if !slices.Equal(gs, ws) {
				fmt.Fprintf(&diff, "family %s: samples\n%s want\n%s", name, strings.Join(gs, ""), strings.Join(ws, ""))
			}
		}
	}
	return diff.String()
}

// parseText parses the text format with expfmt and prints the families
// canonically: sorted, each sample's labels and value.
func parseText(t *testing.T, body []byte) string {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("expfmt cannot parse the text format: %v", err)
	}
	var out []string
	for name, mf := range families {
		for _, m := range mf.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			sort.Strings(labels)
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
			out = append(out, fmt.Sprintf("%s %s %q {%s} %s", name, mf.GetType(), mf.GetHelp(), strings.Join(labels, ","), strconv.FormatFloat(v, 'g', -1, 64)))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// parseOpenMetricsFull prints what the OpenMetrics reference parser reads
// in each exposition (a JSON list of them on stdin): each family's name,
// type, help and unit, and its samples sorted; or why it rejects it.
const parseOpenMetricsFullScript = `
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
results = []
for body in json.load(sys.stdin):
    try:
        out = []
        for f in text_string_to_metric_families(body):
            samples = sorted([s.name, sorted(s.labels.items()), repr(s.value)] for s in f.samples)
            out.append([f.name, f.type, f.documentation, f.unit, samples])
        results.append(json.dumps(sorted(out)))
    except Exception as e:
        results.append("rejected: " + repr(e))
print(json.dumps(results))
`

func parseOpenMetricsFull(t *testing.T, python string, bodies [][]byte) []string {
	t.Helper()
	var in []string
	for _, b := range bodies {
		in = append(in, string(b))
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", parseOpenMetricsFullScript)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the OpenMetrics parser: %v\n%s", err, stderr.String())
	}
	var results []string
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(bodies) {
		t.Fatalf("the OpenMetrics parser's output: %v %q", err, out)
	}
	for i, r := range results {
		if strings.HasPrefix(r, "rejected: ") {
			t.Errorf("the OpenMetrics parser %s:\n%s", r, tail(string(bodies[i])))
		}
	}
	return results
}

// The format and the compression are negotiated as promhttp negotiates
// them, but that a client asking for protobuf gets the text format.
func TestNegotiationLikePromhttp(t *testing.T) {
	c := New(Options{})
	c.Publish(profileSnapshot("1"))
	ours, reference := handlers(t, c)
	text := string(expfmt.NegotiateAccept(http.Header{}, expfmt.FmtText))
	for _, accept := range []string{
		"",
		"*/*",
		"text/plain",
		acceptText,
		acceptOpenMetrics,
		"application/openmetrics-text",
		// Prometheus 2's and 3's defaults.
		"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
		"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
		"application/openmetrics-text;version=2.0.0",
		"application/json",
		// Protobuf, which Prometheus asks for first with native histograms.
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3",
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
	} {
		for _, encoding := range []string{"", "gzip", "gzip, deflate, br", "gzip;q=0", "identity", "*", "identity;q=0.5, gzip", "br", "gzip;q=0.5, identity;q=0.5", "deflate, gzip;q=0.1"} {
			got, want := get(ours, "/metrics", accept, encoding), get(reference, "/metrics", accept, encoding)
			wantType := want.Header().Get("Content-Type")
			if strings.HasPrefix(wantType, expfmt.ProtoType) {
				wantType = text
			}
			if got.Header().Get("Content-Type") != wantType || got.Header().Get("Content-Encoding") != want.Header().Get("Content-Encoding") ||
				!slices.Equal(got.Header().Values("Vary"), want.Header().Values("Vary")) {
				t.Errorf("Accept %q, Accept-Encoding %q: Content-Type %q, Content-Encoding %q, Vary %q; promhttp: %q, %q, %q", accept, encoding,
					got.Header().Get("Content-Type"), got.Header().Get("Content-Encoding"), got.Header().Values("Vary"),
					wantType, want.Header().Get("Content-Encoding"), want.Header().Values("Vary"))
			}
		}
	}
}

// A gzipped answer is the plain one, compressed.
func TestGzip(t *testing.T) {
	now := lastSuccess
	c := New(Options{Now: func() time.Time { return now }})
	c.Publish(withMonthToDate(profileSnapshot("1")))
	c.Publish(healthSnapshot())
	ours, _ := handlers(t, c)
	for _, accept := range []string{acceptText, acceptOpenMetrics} {
		plain := get(ours, "/metrics", accept, "")
		zipped := get(ours, "/metrics", accept, "gzip")
		if zipped.Header().Get("Content-Encoding") != "gzip" || plain.Header().Get("Content-Encoding") != "" {
			t.Fatalf("Content-Encoding %q and %q", zipped.Header().Get("Content-Encoding"), plain.Header().Get("Content-Encoding"))
		}
		r, err := gzip.NewReader(zipped.Body)
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(unzipped, plain.Body.Bytes()) {
			t.Errorf("%s: gunzipped answer differs from the plain one (%d and %d bytes)", accept, len(unzipped), plain.Body.Len())
		}
		if zipped.Body.Len() >= plain.Body.Len()/4 {
			t.Errorf("%s: %d bytes gzipped for %d plain", accept, zipped.Body.Len(), plain.Body.Len())
		}
	}
}

// Errors are answered as promhttp answers them: 500 with the error before
// anything is written, logged. Registering the collector in the registry
// the handler gathers would write its families twice: an error too.
func TestHandlerErrors(t *testing.T) {
	c := New(Options{})
	c.Publish(profileSnapshot("1"))
	registered := prometheus.NewRegistry()
	registered.MustRegister(c)
	counter := prometheus.NewRegistry()
	counter.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "whatsapp_pricing_volume_total", Help: "Clashes with a family."}))
	gauge := prometheus.NewRegistry()
	gauge.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "whatsapp_pricing_volume", Help: "Clashes in OpenMetrics."}))
	failing := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, errors.New("collector exploded") })
	for _, tc := range []struct {
		name string
		reg  prometheus.Gatherer
		want string
	}{
		{"collector registered", registered, "is the collector registered?"},
		{"a family's name", counter, "whatsapp_pricing_volume_total is both gathered and pre-rendered"},
		{"a family's OpenMetrics name", gauge, "whatsapp_pricing_volume is both gathered and pre-rendered"},
		{"gather fails", failing, "collector exploded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged []string
			h := c.Handler(tc.reg, HandlerOpts{ErrorLog: funcLogger(func(v ...any) { logged = append(logged, fmt.Sprint(v...)) })})
			rec := get(h, "/metrics", acceptOpenMetrics, "gzip")
			body := rec.Body.String()
			if rec.Code != http.StatusInternalServerError || rec.Header().Get("Content-Encoding") != "" ||
				!strings.HasPrefix(body, "An error has occurred while serving metrics:\n\n") || !strings.Contains(body, tc.want) {
				t.Errorf("%d %q", rec.Code, body)
			}
			if len(logged) != 1 || !strings.Contains(logged[0], tc.want) {
				t.Errorf("logged %q", logged)
			}
		})
	}
	// promhttp answers a failing gatherer alike.
	want := get(promhttp.HandlerFor(failing, promhttp.HandlerOpts{}), "/metrics", "", "")
	got := get(c.Handler(failing, HandlerOpts{}), "/metrics", "", "")
	if got.Code != want.Code || got.Body.String() != want.Body.String() {
		t.Errorf("%d %q; promhttp: %d %q", got.Code, got.Body, want.Code, want.Body)
	}
}

type funcLogger func(v ...any)

func (f funcLogger) Println(v ...any) { f(v...) }

// MaxRequestsInFlight and Timeout work as promhttp's: 503 for a scrape
// over the limit, and for one that takes too long.
func TestHandlerLimits(t *testing.T) {
	c := New(Options{})
	c.Publish(profileSnapshot("1"))
	entered, release := make(chan struct{}), make(chan struct{})
	slow := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		entered <- struct{}{}
		<-release
		return nil, nil
	})

	h := c.Handler(slow, HandlerOpts{MaxRequestsInFlight: 1})
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- get(h, "/metrics", "", "") }()
	<-entered
	if rec := get(h, "/metrics", "", ""); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Limit of concurrent requests reached (1)") {
		t.Errorf("second scrape at once: %d %q", rec.Code, rec.Body)
	}
	close(release)
	if rec := <-done; rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "whatsapp_exporter_account_info") {
		t.Errorf("first scrape: %d", rec.Code)
	}

	release = make(chan struct{})
	h = c.Handler(slow, HandlerOpts{Timeout: 10 * time.Millisecond})
	go func() { <-entered }()
	if rec := get(h, "/metrics", "", ""); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Exceeded configured timeout of 10ms") {
		t.Errorf("slow scrape: %d %q", rec.Code, rec.Body)
	}
	close(release)
}

// Scrapes while accounts are published and forgotten see each account
// whole, old or new, never half of it (run it with -race).
func TestScrapeWhilePublishing(t *testing.T) {
	c := New(Options{Now: func() time.Time { return lastSuccess }})
	reg := prometheus.NewRegistry()
	h := c.Handler(reg, HandlerOpts{})
	ids := []string{"1", "2", "3", "4"}
	perAccount := len(blocks(t, get(func() http.Handler {
		one := New(Options{})
		one.Publish(profileSnapshot("1"))
		return one.Handler(reg, HandlerOpts{})
	}(), "/metrics", acceptText, "").Body.String(), false)["whatsapp_pricing_cost_newest"].samples)
	if perAccount == 0 {
		t.Fatal("no pricing series in the profile")
	}

	var wg sync.WaitGroup
	for p := range 2 {
		wg.Go(func() {
			for i := range 200 {
				s := profileSnapshot(ids[(i+p)%len(ids)])
				s.Name = strconv.Itoa(i)
				c.Publish(s)
				if i%5 == 0 {
					c.Forget(ids[(i+p+1)%len(ids)])
				}
			}
		})
	}
	published := make(chan struct{})
	go func() {
		wg.Wait()
		close(published)
	}()
	for i := 0; ; i++ {
		accept := []string{acceptText, acceptOpenMetrics}[i%2]
		body := get(h, "/metrics", accept, "").Body.String()
		families := blocks(t, body, accept == acceptOpenMetrics)
		if accept == acceptText {
			parseText(t, []byte(body))
		}
		perWABA := map[string]int{}
		if b := families["whatsapp_pricing_cost_newest"]; b != nil {
			for _, line := range b.samples {
				perWABA[line[strings.Index(line, `waba_id="`):]]++
			}
		}
		for id, n := range perWABA {
			if n != perAccount {
				t.Errorf("scrape %d: %d pricing series of %s, want %d", i, n, id, perAccount)
			}
		}
		select {
		case <-published:
			if i >= 10 {
				return
			}
		default:
		}
	}
}

// The text format passes promtool check metrics, Prometheus' own linter.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("WHATSAPP_EXPORTER_E2E") == "required" {
			t.Fatal("no promtool (apt-get install -y prometheus) (WHATSAPP_EXPORTER_E2E=required)")
		}
		t.Skip("no promtool (apt-get install -y prometheus)")
	}
	c := New(Options{Now: func() time.Time { return lastSuccess }})
	for _, fx := range fixtures() {
		if fx.name == "profile, health and versions" {
			fx.publish(c)
		}
	}
	ours, _ := handlers(t, c)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = get(ours, "/metrics", acceptText, "").Body
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// expfmtEncode is how client_golang's encoder writes one const metric of
// a family, in a format.
func expfmtEncode(t *testing.T, f *family, m prometheus.Metric, format int) string {
	t.Helper()
	pb := &dto.Metric{}
	if err := m.Write(pb); err != nil {
		t.Fatal(err)
	}
	typ := dto.MetricType_GAUGE
	if f.counter {
		typ = dto.MetricType_COUNTER
	}
	mf := &dto.MetricFamily{Name: &f.name, Help: &f.help, Type: &typ, Metric: []*dto.Metric{pb}}
	var out bytes.Buffer
	var err error
	if format == openMetricsFormat {
		_, err = expfmt.MetricFamilyToOpenMetrics(&out, mf)
	} else {
		_, err = expfmt.MetricFamilyToText(&out, mf)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// Every family's HELP and TYPE lines are client_golang's, in both formats.
func TestHeadersLikeExpfmt(t *testing.T) {
	for _, f := range allFamilies {
		labels := make([]string, len(f.labels))
		m := prometheus.MustNewConstMetric(f.desc, f.valueType(), 1, labels...)
		for _, format := range []int{textFormat, openMetricsFormat} {
			if want := expfmtEncode(t, f, m, format); !strings.HasPrefix(want, string(f.header[format])) {
				t.Errorf("%s header\n%s, expfmt's\n%s", f.name, f.header[format], want)
			}
		}
	}
}

// Each sample line is the one client_golang's encoders write for the same
// const metric, in both formats: label values escaped alike (invalid UTF-8,
// which client_golang refuses, replaced first), values formatted alike.
func FuzzSampleLine(f *testing.F) {
	f.Add("plain", 1.0)
	f.Add("a \"quoted\" \\back\\slash\\ and a\nnew line", 0.1)
	f.Add("S\u00e3o Paulo \u260e", 1e21)
	f.Add("\xff\xfe", math.Inf(-1))
	f.Add("", math.Copysign(0, -1))
	f.Add("\\n", 123456789.0)
	f.Add("x", math.NaN())
	f.Add("-", 5e-324)
	f.Fuzz(func(t *testing.T, label string, value float64) {
		for _, fam := range []*family{measures[analytics.TemplateClicked].newest, apiRequests} {
			labels := make([]string, len(fam.labels)-1)
			for i := range labels {
				labels[i] = label + strconv.Itoa(i)
			}
			p := &prerenderer{}
			w := &walker{out: p, id: validUTF8(label)}
			w.add(fam, value, labels...)
			m := prometheus.MustNewConstMetric(fam.desc, fam.valueType(), value, w.labels...)
			for _, format := range []int{textFormat, openMetricsFormat} {
				want := strings.TrimPrefix(expfmtEncode(t, fam, m, format), string(fam.header[format]))
				var got bytes.Buffer
				bw := bufio.NewWriter(&got)
				if format == openMetricsFormat {
					bw.Write(p.buf)
				} else {
					writeText(bw, p.buf)
				}
				bw.Flush()
				if got.String() != want {
					t.Errorf("format %d: sample line\n%q, expfmt's\n%q", format, got.String(), want)
				}
			}
		}
	})
}
