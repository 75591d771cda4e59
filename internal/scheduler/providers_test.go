package scheduler

// Tests of the providers behind the scheduler: whichever API feeds an
// account, the exporter's output has the same metrics with the same labels,
// and the API's failures become the same failure metrics and log lines.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/vonage"
)

var sourcesNow = time.Date(2026, 3, 10, 12, 10, 0, 0, time.UTC)

// refreshOnce builds the real sources of cfg, refreshes every account once at
// sourcesNow, and returns the collector's registry and log.
func refreshOnce(t *testing.T, cfg *config.Config) (*prometheus.Registry, *logBuffer) {
	t.Helper()
	// The fakes are in-process: no need to wait for the rate that keeps
	// a real API's budget, while the month so far is fetched.
	cfg.Global.RequestsPerSecond, cfg.Global.Burst = 1e6, 1000
	targets, err := Targets(cfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	c := newExporter(targets, Options{Logger: logs.logger(), Now: func() time.Time { return sourcesNow }})
	refreshAll(c)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	return reg, logs
}

// The demo's config has Meta, Vonage and passthrough accounts. Every metric
// they share has the same label names for all three, and each provider's
// accounts export the metrics it can: all for Meta, no cost for the others,
// no conversations for Vonage (which has none), no pricing or templates for
// the passthrough (opt-in, off in the demo).
func TestProvidersExportSameMetricsAndLabels(t *testing.T) {
	d, err := demo.Start(demo.Healthy, func() time.Time { return sourcesNow }, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	reg, logs := refreshOnce(t, d.Config)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}

	provider := map[string]string{}
	for _, a := range d.Config.Accounts {
		provider[a.WABAID] = a.Provider
	}
	// labelNames[metric][provider] is the sorted label names of its series.
	labelNames := map[string]map[string]string{}
	names := map[string][]string{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			var labels []string
			waba := ""
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName())
				if l.GetName() == "waba_id" {
					waba = l.GetValue()
				}
			}
			p := provider[waba]
			if p == "" {
				continue // not per account (none today)
			}
			sort.Strings(labels)
			if labelNames[mf.GetName()] == nil {
				labelNames[mf.GetName()] = map[string]string{}
			}
			joined := strings.Join(labels, ",")
			if prev, ok := labelNames[mf.GetName()][p]; ok && prev != joined {
				t.Errorf("%s: %s series with labels %s and %s", mf.GetName(), p, prev, joined)
			}
			labelNames[mf.GetName()][p] = joined
			if !slices.Contains(names[p], mf.GetName()) {
				names[p] = append(names[p], mf.GetName())
			}
		}
	}
	for metric, byProvider := range labelNames {
		var first string
		for _, labels := range byProvider {
			if first == "" {
				first = labels
			} else if labels != first {
				t.Errorf("%s has labels %v per provider: one dashboard cannot serve them all", metric, byProvider)
			}
		}
	}

	// Each additive measure has its newest-bucket gauge and its
	// month-to-date counter.
	both := func(measures ...string) []string {
		var names []string
		for _, m := range measures {
			names = append(names, "whatsapp_"+m+"_newest", "whatsapp_"+m+"_total")
		}
		return names
	}
	common := append(both("messages_delivered", "messages_sent"),
		"whatsapp_bucket_end_timestamp_seconds",
		"whatsapp_exporter_account_info",
		"whatsapp_exporter_api_requests_total",
		"whatsapp_exporter_data_age_seconds",
		"whatsapp_exporter_downward_revisions_total",
		"whatsapp_exporter_refresh_duration_seconds",
		"whatsapp_exporter_refresh_last_success_timestamp_seconds",
		"whatsapp_exporter_refresh_success",
		"whatsapp_exporter_series_dropped",
		"whatsapp_exporter_family_available",
	)
	templates := both("template_clicked", "template_delivered", "template_read", "template_sent")
	// Account health, where the provider has it.
	health := []string{"whatsapp_phone_number_info", "whatsapp_phone_number_status", "whatsapp_phone_number_quality_rating",
		"whatsapp_phone_number_name_status", "whatsapp_phone_number_throughput_level", "whatsapp_phone_number_can_send_message",
		"whatsapp_phone_number_messaging_limit", "whatsapp_phone_number_messaging_limit_recipients",
		"whatsapp_template_info", "whatsapp_template_status", "whatsapp_template_category", "whatsapp_template_quality_score"}
	// Graph requests name an API version, and the version's end is known.
	version := []string{"whatsapp_exporter_api_version_info", "whatsapp_exporter_api_version_expiry_timestamp_seconds"}
	want := map[string][]string{
		meta.Name: slices.Concat(common, templates, health, version,
			both("conversations", "conversation_cost", "pricing_volume", "pricing_cost", "template_amount_spent", "calls", "call_cost"),
			// Ratios and counts of people have a gauge only.
			[]string{"whatsapp_template_unit_cost_newest", "whatsapp_template_unique_url_clicks_newest", "whatsapp_call_average_duration_seconds_newest"},
			// Graph reports rate-limit usage in headers; Globex Travel is
			// partner billed, so error 100 (cost not available) shows too.
			[]string{"whatsapp_exporter_api_rate_limit_usage_ratio", "whatsapp_exporter_api_rate_limit_regain_access_seconds", "whatsapp_exporter_api_errors_total"}),
		vonage.Name: slices.Concat(common, templates, both("pricing_volume")),
		meta.PassthroughName: slices.Concat(common, both("conversations"), health, version,
			[]string{"whatsapp_exporter_api_rate_limit_usage_ratio", "whatsapp_exporter_api_rate_limit_regain_access_seconds"}),
	}
	for p, w := range want {
		slices.Sort(w)
		got := slices.Sorted(slices.Values(names[p]))
		if !slices.Equal(got, w) {
			t.Errorf("%s accounts export\n  %v\nwant\n  %v", p, got, w)
		}
	}

	// Every family of every account refreshed: nothing fails for want of
	// an endpoint the provider lacks.
	for _, mf := range families {
		if mf.GetName() != "whatsapp_exporter_refresh_success" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetGauge().GetValue() != 1 {
				t.Errorf("refresh failed: %v\nlog:\n%s", m.GetLabel(), logs)
			}
		}
	}
	if n := d.Vonage.InsightsEnabled(demo.VonageWABA); n != 0 {
		t.Errorf("the exporter called enable_insights %d times; it must leave that to the user", n)
	}
	if s := d.Passthrough.Stats(demo.PassthroughWABA); s.Requests == 0 || s.ByOperation["conversation_analytics"] == 0 {
		t.Errorf("the passthrough fake saw %+v, want the conversation_analytics requests under its prefix", s)
	}
	if s := d.Graph.Stats(demo.PassthroughWABA); s.Requests != 0 {
		t.Errorf("passthrough requests reached the Meta fake without the BSP prefix: %+v", s)
	}
	if s := d.Vonage.Stats(demo.VonageWABA); s.MaxTemplateIDs == 0 || s.MaxDaysPerRequest > 91 || s.CredentialsInURL != 0 {
		t.Errorf("the Vonage fake saw %+v: want template requests, at most 90 days (plus the partial day) a request, no credential in a URL", s)
	}
}

// vonageTarget is a config with one Vonage account against the fake at url.
func vonageTarget(t *testing.T, url, waba, key, secret string) *config.Config {
	t.Helper()
	cfg := &config.Config{
		// The process-wide throttle would spread a test's hundreds of
		// pages over a minute.
		Global: config.Global{RequestsPerSecond: 1e6, Burst: 1000},
		Accounts: []config.Account{{
			WABAID: waba, Provider: vonage.Name, APIURL: url,
			APIKey: key, APISecret: config.Secret(secret),
		}},
	}
	cfg.Accounts[0].Templates.TemplateIDs = []string{"458951126288942"}
	if err := config.Finish(cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Each error answer of the Channel Manager (the document's 403 and 404, and
// 401, 429, 5xx) becomes the exporter's own failure metrics, labelled
// error_code="http_<status>", and one warning that says what is wrong without
// the secret.
func TestVonageErrorsBecomeFailureMetrics(t *testing.T) {
	const (
		waba   = demo.VonageWABA
		key    = "a1b2c3d4"
		secret = "the-vonage-secret"
	)
	accounts := func() []fakeapi.WABA {
		a := demo.VonageWABAs()[0]
		a.APIKey, a.Token = key, secret
		other := a
		other.WABAID, other.APIKey, other.Token = "345688589250626", "e5f6a7b8", "other-secret"
		return []fakeapi.WABA{a, other}
	}
	for _, tc := range []struct {
		name           string
		waba, key, sec string
		fault          *fakeapi.Fault
		code           string
		failed         []string // families that fail; the others are not tried
		logs           []string
	}{
		{
			name: "403 key not linked to the WABA", waba: "345688589250626", key: key, sec: secret, code: "http_403",
			failed: []string{"messaging", "pricing", "templates"},
			logs:   []string{"the API key is not linked to this WABA ID", "code http_403, HTTP 403"},
		},
		{
			name: "404 invalid WABA ID", waba: "345688589250699", key: key, sec: secret, code: "http_404",
			failed: []string{"messaging", "pricing", "templates"},
			logs:   []string{"the WABA ID is invalid", "code http_404, HTTP 404"},
		},
		{
			name: "401 wrong secret", waba: waba, key: key, sec: "wrong-secret", code: "http_401",
			failed: []string{"messaging", "pricing", "templates"},
			logs:   []string{"check api_key and api_secret", "code http_401, HTTP 401"},
		},
		{
			name: "429 rate limited", waba: waba, key: key, sec: secret, code: "http_429",
			fault:  &fakeapi.Fault{Kind: fakeapi.RateLimit, Times: 1, RegainMinutes: 3},
			failed: []string{"messaging"}, // the others wait for the backoff
			logs:   []string{"Vonage rate limit reached", "retry after 3m0s"},
		},
		{
			name: "503 server error", waba: waba, key: key, sec: secret, code: "http_503",
			fault:  &fakeapi.Fault{Kind: fakeapi.ServerError},
			failed: []string{"messaging", "pricing", "templates"},
			logs:   []string{"Vonage server error (Service Unavailable)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := fakeapi.NewVonage(accounts(), fakeapi.Options{Now: func() time.Time { return sourcesNow }})
			if tc.fault != nil {
				v.Inject(tc.waba, *tc.fault)
			}
			srv := httptest.NewServer(v)
			defer srv.Close()
			reg, logs := refreshOnce(t, vonageTarget(t, srv.URL, tc.waba, tc.key, tc.sec))

			var errs, success strings.Builder
			errs.WriteString("# HELP whatsapp_exporter_api_errors_total Failed API requests, by the API's error code (Graph's 4, 190, 80007, ...) or the exporter's own (timeout, connection, malformed_response, ...).\n# TYPE whatsapp_exporter_api_errors_total counter\n")
			success.WriteString("# HELP whatsapp_exporter_refresh_success Whether the last refresh of the family succeeded (1) or failed (0).\n# TYPE whatsapp_exporter_refresh_success gauge\n")
			for _, f := range []string{"messaging", "pricing", "templates"} {
				if slices.Contains(tc.failed, f) {
					fmt.Fprintf(&errs, "whatsapp_exporter_api_errors_total{error_code=%q,family=%q,waba_id=%q} 1\n", tc.code, f, tc.waba)
				}
				fmt.Fprintf(&success, "whatsapp_exporter_refresh_success{family=%q,waba_id=%q} 0\n", f, tc.waba)
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(errs.String()+success.String()),
				"whatsapp_exporter_api_errors_total", "whatsapp_exporter_refresh_success"); err != nil {
				t.Error(err)
			}

			out := logs.String()
			var warnings []string
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, "level=warn") {
					warnings = append(warnings, line)
				}
			}
			if len(warnings) != len(tc.failed) {
				t.Errorf("%d warnings, want one per failed family (%v):\n%s", len(warnings), tc.failed, out)
			}
			for _, w := range warnings {
				if !strings.Contains(w, `msg="Refresh failed; serving the last good values"`) || !strings.Contains(w, "waba_id="+tc.waba) {
					t.Errorf("warning %q does not say which refresh failed", w)
				}
				for _, want := range tc.logs {
					if !strings.Contains(w, want) {
						t.Errorf("warning %q lacks %q", w, want)
					}
				}
			}
			if strings.Contains(out, secret) || strings.Contains(out, "wrong-secret") {
				t.Errorf("the log carries the API secret:\n%s", out)
			}
		})
	}
}

// The Vonage fake's injected faults reach the exporter's error codes as the
// Graph fake's do, and the secret an API echoes stays out of the log.
func TestVonageFaultsBecomeErrorCodes(t *testing.T) {
	const waba, key, secret = demo.VonageWABA, "a1b2c3d4", "the-vonage-secret"
	for _, tc := range []struct {
		fault fakeapi.Fault
		code  string
	}{
		{fakeapi.Fault{Kind: fakeapi.Malformed}, "malformed_response"},
		{fakeapi.Fault{Kind: fakeapi.WrongTypes}, "malformed_response"},
		{fakeapi.Fault{Kind: fakeapi.EndlessPages}, "too_many_pages"},
		{fakeapi.Fault{Kind: fakeapi.ForeignNext}, "foreign_next_url"},
		{fakeapi.Fault{Kind: fakeapi.InvalidToken}, "http_401"},
		{fakeapi.Fault{Kind: fakeapi.EchoToken}, "http_400"},
		{fakeapi.Fault{Kind: fakeapi.Hang}, "timeout"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			a := demo.VonageWABAs()[0]
			a.APIKey, a.Token = key, secret
			// One entry a page, so that every answer has a next link.
			v := fakeapi.NewVonage([]fakeapi.WABA{a}, fakeapi.Options{Now: func() time.Time { return sourcesNow }, PageSize: 1})
			v.Inject(waba, tc.fault)
			srv := httptest.NewServer(v)
			defer srv.Close()
			cfg := vonageTarget(t, srv.URL, waba, key, secret)
			if tc.fault.Kind == fakeapi.Hang {
				// Only a hung request needs a short timeout. Any other
				// fault keeps the default 30 s: with 200 ms, one of the
				// hundreds of pages an endless-paging answer takes now
				// and then ran past it on a loaded machine (2 cores,
				// -race), and the family failed as a timeout instead.
				cfg.Accounts[0].Timeout = 200 * time.Millisecond
			}
			reg, logs := refreshOnce(t, cfg)
			families, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			// Every error is the fault's: a timeout or any other code in
			// its place would be the machine's doing, not the fault's.
			byCode := map[string]float64{}
			for _, mf := range families {
				if mf.GetName() != "whatsapp_exporter_api_errors_total" {
					continue
				}
				for _, m := range mf.GetMetric() {
					for _, l := range m.GetLabel() {
						if l.GetName() == "error_code" {
							byCode[l.GetValue()] += m.GetCounter().GetValue()
						}
					}
				}
			}
			if byCode[tc.code] == 0 || len(byCode) != 1 {
				t.Errorf("whatsapp_exporter_api_errors_total by error_code: %v, want only %q; log:\n%s", byCode, tc.code, logs)
			}
			if !strings.Contains(logs.String(), "level=warn") {
				t.Errorf("no warning logged:\n%s", logs)
			}
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the log carries the API secret:\n%s", logs)
			}
		})
	}
}

// A passthrough BSP's root can be given as api_url plus api_version, or as
// one full prefix; either way the requests go to the BSP's path, with its
// API key as the bearer token, and the counts flow without cost series.
func TestPassthroughPathPrefix(t *testing.T) {
	acct := demo.PassthroughWABAs()[0]
	acct.Token = "pk_live_demo"
	g := fakeapi.NewGraph([]fakeapi.WABA{acct}, fakeapi.Options{Now: func() time.Time { return sourcesNow }})
	g.NoCost = true
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(recordPaths(func(path string) {
		mu.Lock()
		defer mu.Unlock()
		paths = append(paths, path)
	}, g))
	defer srv.Close()

	for _, tc := range []struct{ url, version string }{
		{srv.URL + "/api", "v25.0"},
		{srv.URL + "/api/v25.0", ""},
		{srv.URL + "/api/v25.0/", "v25.0"},
	} {
		t.Run(tc.url+" "+tc.version, func(t *testing.T) {
			mu.Lock()
			paths = nil
			mu.Unlock()
			cfg := &config.Config{Accounts: []config.Account{{
				WABAID: acct.WABAID, Provider: meta.PassthroughName,
				APIURL: tc.url, APIVersion: tc.version, AccessToken: config.Secret(acct.Token),
			}}}
			if err := config.Finish(cfg); err != nil {
				t.Fatal(err)
			}
			reg, logs := refreshOnce(t, cfg)
			mu.Lock()
			got := slices.Clone(paths)
			mu.Unlock()
			if len(got) == 0 {
				t.Fatal("no requests")
			}
			for _, p := range got {
				// The node, or its edges (account health).
				if node := "/api/v25.0/" + acct.WABAID; p != node && !strings.HasPrefix(p, node+"/") {
					t.Errorf("request to %s, want /api/v25.0/%s", p, acct.WABAID)
				}
			}
			n, err := testutil.GatherAndCount(reg, "whatsapp_conversations_newest", "whatsapp_messages_sent_newest")
			if err != nil || n == 0 {
				t.Errorf("%d count series (%v); log:\n%s", n, err, logs)
			}
			if n, _ := testutil.GatherAndCount(reg, "whatsapp_conversation_cost_newest", "whatsapp_pricing_cost_newest", "whatsapp_template_amount_spent_newest",
				"whatsapp_conversation_cost_total", "whatsapp_pricing_cost_total", "whatsapp_template_amount_spent_total"); n != 0 {
				t.Errorf("%d cost series from a passthrough, want none", n)
			}
		})
	}
}

// recordPaths passes requests on to h after telling record their path.
func recordPaths(record func(string), h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r.URL.Path)
		h.ServeHTTP(w, r)
	})
}

// A phone number last seen before the lookback window is absent, whatever the
// provider: Vonage takes whole days, so its answer also holds the hours of the
// first day before the window, and those must not make the number read 0 as
// if it had been seen within the window. Both servers below answer with the
// same buckets whatever the request's start: phone 111 sent in the newest
// eligible half hour, phone 222 only at 03:00 the same day, before the 6-hour
// lookback (the window starts at 05:30).
func TestSeriesBeforeLookbackAbsentForEveryProvider(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2024, 6, 3, h, m, 0, 0, time.UTC) }
	buckets := map[string][2]time.Time{"111": {at(11, 0), at(11, 30)}, "222": {at(3, 0), at(3, 30)}}
	phoneOf := func(r *http.Request) string {
		q := r.URL.Query()
		for _, phone := range []string{"111", "222"} {
			if strings.Contains(q.Get("fields"), phone) || strings.Contains(q.Get("phone_number"), phone) {
				return phone
			}
		}
		return ""
	}
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := buckets[phoneOf(r)]
		fmt.Fprintf(w, `{"analytics":{"data_points":[{"start":%d,"end":%d,"sent":7,"delivered":6}]}}`, b[0].Unix(), b[1].Unix())
	}))
	defer graph.Close()
	channelManager := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/messaging-analytics") {
			http.Error(w, "unexpected request "+r.URL.String(), http.StatusBadRequest)
			return
		}
		b := buckets[phoneOf(r)]
		fmt.Fprintf(w, `{"_embedded":{"messaging_analytics":[{"start":"%d","end":"%d","sent":7,"delivered":6}]}}`, b[0].Unix(), b[1].Unix())
	}))
	defer channelManager.Close()

	split := func(a *config.Account) {
		a.Messaging.SplitBy, a.Messaging.PhoneNumbers = []string{"PHONE"}, []string{"111", "222"}
		a.Conversations.Enabled, a.Pricing.Enabled, a.Templates.Enabled = disabled, disabled, disabled
	}
	cfg := &config.Config{Accounts: []config.Account{
		{WABAID: "1", APIURL: graph.URL, AccessToken: "t"},
		{WABAID: "2", Provider: vonage.Name, APIURL: channelManager.URL, APIKey: "k", APISecret: "s"},
	}}
	for i := range cfg.Accounts {
		split(&cfg.Accounts[i])
	}
	if err := config.Finish(cfg); err != nil {
		t.Fatal(err)
	}
	targets, err := Targets(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := newExporter(targets, Options{Now: func() time.Time { return testNow }})
	refreshAll(e)
	want := `
# HELP whatsapp_messages_sent_newest Messages sent in the newest analytics bucket with data.
# TYPE whatsapp_messages_sent_newest gauge
whatsapp_messages_sent_newest{country="",phone_number="111",waba_id="1"} 7
whatsapp_messages_sent_newest{country="",phone_number="111",waba_id="2"} 7
`
	if err := testutil.CollectAndCompare(e, strings.NewReader(want), "whatsapp_messages_sent_newest"); err != nil {
		t.Error(err)
	}
}
