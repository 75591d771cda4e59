package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/whatsapp-exporter/whatsapp_exporter/collector"
	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
)

// testNow is the clock of most tests: 12:10 UTC, so that with the default
// half-hour delay of 30m the newest eligible half hour is 11:00-11:30 and
// with the daily delay of 2h the newest eligible day is June 2.
var testNow = time.Date(2024, 6, 3, 12, 10, 0, 0, time.UTC)

// earlyInMonth is the clock of tests that page through every answer in
// small pages: three hours into June, there is little of the month so far to
// fetch before the buckets the gauges need.
var earlyInMonth = time.Date(2024, 6, 1, 3, 10, 0, 0, time.UTC)

// clock is a settable clock shared by the scheduler and the fake API.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects go-kit log lines from concurrent refreshes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() log.Logger { return log.NewLogfmtLogger(b) }

// count returns how many lines contain every one of parts.
func (b *logBuffer) count(parts ...string) int {
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		all := line != ""
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

var (
	disabled = func() *bool { b := false; return &b }()
	enabled  = func() *bool { b := true; return &b }()
)

// newAccount builds an account the way a config file would, defaults and
// validation included, then lets mod change it.
func testAccount(t testing.TB, wabaID, apiURL, token string, mod func(*config.Account)) config.Account {
	t.Helper()
	a := config.Account{
		WABAID: wabaID, Name: "Test " + wabaID, APIURL: apiURL, AccessToken: config.Secret(token),
		Interval: 15 * time.Minute, Timeout: 5 * time.Second,
		// The analytics tests count families and requests exactly;
		// account health has tests of its own (health_test.go).
		Health: config.Health{Enabled: disabled},
	}
	if mod != nil {
		mod(&a)
	}
	cfg := &config.Config{Accounts: []config.Account{a}}
	if err := config.Finish(cfg); err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg.Accounts[0]
}

// onlyFamilies enables the families named, opt-in ones too, and disables
// every other.
func onlyFamilies(families ...string) func(*config.Account) {
	return func(a *config.Account) {
		keep := func(name string) *bool {
			for _, f := range families {
				if f == name {
					return enabled
				}
			}
			return disabled
		}
		a.Messaging.Enabled = keep("messaging")
		a.Conversations.Enabled = keep("conversations")
		a.Pricing.Enabled = keep("pricing")
		a.Templates.Enabled = keep("templates")
		a.Calls.Enabled = keep("calls")
	}
}

// withConversations turns on conversation analytics, which Meta accounts
// take as opt-in since per-message pricing, for the tests that check every
// family.
func withConversations(a *config.Account) { a.Conversations.Enabled = enabled }

func chain(mods ...func(*config.Account)) func(*config.Account) {
	return func(a *config.Account) {
		for _, m := range mods {
			if m != nil {
				m(a)
			}
		}
	}
}

// metaTarget points a real Graph client at the account's API URL.
func metaTarget(t testing.TB, a config.Account) Target {
	t.Helper()
	src, err := meta.New(meta.Options{
		BaseURL: a.APIURL, APIVersion: a.APIVersion,
		AccessToken: string(a.AccessToken), AppSecret: string(a.AppSecret),
		Timeout: a.Timeout,
	})
	if err != nil {
		t.Fatalf("meta.New: %v", err)
	}
	return Target{Account: a.WithoutCredentials(), Source: src, connection: fingerprint(a)}
}

// stub is a hand-made Graph API for exact values: respond gets the field or
// edge asked for and the query, and returns the status, extra headers and
// body of the answer.
type stub struct {
	mu       sync.Mutex
	requests []string
	respond  func(op string, q url.Values) (int, http.Header, string)
}

func (s *stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	op := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	ops := []string{op}
	if strings.HasPrefix(op, "1") || strings.HasPrefix(op, "2") { // a WABA ID: a node request
		ops = fieldNames(q.Get("fields"))
	}
	s.mu.Lock()
	s.requests = append(s.requests, strings.Join(ops, ","))
	s.mu.Unlock()
	if strings.HasPrefix(ops[0], "currency") {
		// The WABA's own fields, which every refresh of a Meta account
		// reads once a day.
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"currency":"USD","id":"1"}`)
		return
	}
	// A request for several fields is answered as Graph answers it: one
	// object with each field's answer, the first error for all.
	merged := map[string]json.RawMessage{}
	var header http.Header
	status, body := http.StatusOK, ""
	for _, op := range ops {
		var h http.Header
		status, h, body = s.respond(op, q)
		if header == nil {
			header = h
		}
		var fields map[string]json.RawMessage
		if status != http.StatusOK || len(ops) == 1 || json.Unmarshal([]byte(body), &fields) != nil {
			break
		}
		maps.Copy(merged, fields)
	}
	if status == http.StatusOK && len(ops) > 1 {
		encoded, _ := json.Marshal(merged)
		body = string(encoded)
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

// fieldNames are the names of the fields a fields= list asks for; a field's
// parameters may hold commas of their own, within brackets.
func fieldNames(fields string) []string {
	var names []string
	depth, start := 0, 0
	for i := 0; i <= len(fields); i++ {
		if i < len(fields) {
			switch fields[i] {
			case '(', '[', '{':
				depth++
				continue
			case ')', ']', '}':
				depth--
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		name, _, _ := strings.Cut(fields[start:i], ".")
		names = append(names, name)
		start = i + 1
	}
	return names
}

func startStub(t testing.TB, respond func(op string, q url.Values) (int, http.Header, string)) string {
	t.Helper()
	srv := httptest.NewServer(&stub{respond: respond})
	t.Cleanup(srv.Close)
	return srv.URL
}

// unix formats a time as the Graph API's data points spell it.
func unixAt(hour, minute int) int64 {
	return time.Date(2024, 6, 3, hour, minute, 0, 0, time.UTC).Unix()
}

func day(d int) int64 { return time.Date(2024, 6, d, 0, 0, 0, 0, time.UTC).Unix() }

// fakeGraph serves a fakeapi.Graph over HTTP.
func fakeGraph(t testing.TB, accounts []fakeapi.WABA, opts fakeapi.Options) (*fakeapi.Graph, string) {
	t.Helper()
	g := fakeapi.NewGraph(accounts, opts)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv.URL
}

// testFakeAccount is a small fake WABA with every kind of data.
func testFakeAccount(wabaID, token string) fakeapi.WABA {
	return fakeapi.WABA{
		WABAID: wabaID, Token: token, Volume: 100, DeliveryRate: 0.95,
		Phones: []fakeapi.Phone{
			{Number: "16505550111", Display: "+1 650-555-0111", Weight: 1},
			{Number: "16505550112", Display: "+1 650-555-0112", Weight: 0.5},
		},
		Countries: []fakeapi.Country{{Code: "US", Weight: 0.7, PriceFactor: 1}, {Code: "BR", Weight: 0.3, PriceFactor: 0.6}},
		Templates: []fakeapi.Template{
			{ID: "1421988012088524", Name: "order_confirmation", Category: "UTILITY", Weight: 1,
				Buttons: []fakeapi.Button{{Type: "url_button", Content: "Track order"}}},
			{ID: "954638012257287", Name: "login_code", Category: "AUTHENTICATION", Weight: 0.9},
		},
	}
}

// exposition gathers c and returns the text format of the metrics whose
// waba_id is wabaID (all when empty), without the ones that depend on the
// wall clock (refresh durations).
func exposition(t testing.TB, c prometheus.Collector, wabaID string, skip ...string) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatalf("register: %v", err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	skip = append(skip, "whatsapp_exporter_refresh_duration_seconds")
	var b strings.Builder
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range families {
		if contains(skip, mf.GetName()) {
			continue
		}
		var kept []*dto.Metric
		for _, m := range mf.Metric {
			if wabaID == "" || labelOf(m, "waba_id") == wabaID {
				kept = append(kept, m)
			}
		}
		if len(kept) == 0 {
			continue
		}
		mf.Metric = kept
		if err := enc.Encode(mf); err != nil {
			t.Fatalf("encode: %v", err)
		}
	}
	return b.String()
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// lines returns the sample lines of an exposition that start with prefix,
// sorted, for focused comparisons.
func lines(text, prefix string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

func refreshAll(e *exporter) { e.RefreshAll(context.Background()) }

// exporter is a scheduler publishing to a collector: the exporter's whole
// path from config to /metrics, minus the HTTP server.
type exporter struct {
	*Scheduler
	*collector.Collector
}

func newExporter(targets []Target, opts Options) *exporter {
	c := collector.New(collector.Options{Now: opts.Now})
	return &exporter{Scheduler: New(targets, c, opts), Collector: c}
}
