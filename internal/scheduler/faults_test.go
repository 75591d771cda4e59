package scheduler

// Behaviour against the fake Graph API: cost fallback, failure isolation,
// backoff, secrecy, and scrapes that never reach the API.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

const (
	healthyWABA = "2001"
	faultyWABA  = "2002"
)

// A WABA billed through a partner gets "Cost not available" when it asks for
// cost: the counts are still exported, the cost series are absent, and the
// log says so once per family however many refreshes follow.
func TestCostFallback(t *testing.T) {
	clk := newClock(testNow)
	partner := testFakeAccount(faultyWABA, "partner-token")
	partner.PartnerBilled = true
	graph, url := fakeGraph(t, []fakeapi.WABA{testFakeAccount(healthyWABA, "direct-token"), partner}, fakeapi.Options{Now: clk.Now})
	var logs logBuffer
	c := newExporter([]Target{
		metaTarget(t, testAccount(t, healthyWABA, url, "direct-token", withConversations)),
		metaTarget(t, testAccount(t, faultyWABA, url, "partner-token", withConversations)),
	}, Options{Logger: logs.logger(), Now: clk.Now})

	var requestsPerRefresh, healthyPerRefresh []int
	for i := 0; i < 3; i++ {
		before, healthyBefore := graph.Stats(faultyWABA).Requests, graph.Stats(healthyWABA).Requests
		refreshAll(c)
		requestsPerRefresh = append(requestsPerRefresh, graph.Stats(faultyWABA).Requests-before)
		healthyPerRefresh = append(healthyPerRefresh, graph.Stats(healthyWABA).Requests-healthyBefore)
		clk.Add(15 * time.Minute)
	}

	for _, f := range []string{"conversations", "pricing", "templates"} {
		if n := logs.count("reports no cost", "waba_id="+faultyWABA, "family="+f); n != 1 {
			t.Errorf("cost fallback of %s logged %d times in 3 refreshes, want 1\n%s", f, n, logs.String())
		}
	}
	if n := logs.count("reports no cost"); n != 3 {
		t.Errorf("cost fallback logged %d times, want 3 (one per family of the partner-billed WABA)\n%s", n, logs.String())
	}
	// After the first refresh the partner-billed WABA no longer asks for cost
	// first: its refreshes cost as many requests as the healthy one's. (The
	// first refresh of both also fetches the month so far.) On the first,
	// 6 more: the request for every family, which "Cost not available"
	// refuses as a whole, the three families it held asked one by one, and
	// the three refused cost queries (conversations, pricing, templates).
	if requestsPerRefresh[1] != requestsPerRefresh[2] || requestsPerRefresh[1] != healthyPerRefresh[1] || requestsPerRefresh[0] != healthyPerRefresh[0]+6 {
		t.Errorf("requests per refresh of the partner-billed WABA = %v, of the healthy one %v; want 6 more on the first, then as many", requestsPerRefresh, healthyPerRefresh)
	}

	for _, tt := range []struct {
		waba       string
		wantCounts bool
		wantCost   bool
	}{
		{healthyWABA, true, true},
		{faultyWABA, true, false},
	} {
		text := exposition(t, c, tt.waba)
		for _, m := range []string{"whatsapp_conversations_newest{", "whatsapp_pricing_volume_newest{", "whatsapp_template_sent_newest{", "whatsapp_messages_sent_newest{"} {
			if got := len(lines(text, m)) > 0; got != tt.wantCounts {
				t.Errorf("WABA %s: %s present = %v, want %v", tt.waba, m, got, tt.wantCounts)
			}
		}
		for _, m := range []string{"whatsapp_conversations_total{", "whatsapp_pricing_volume_total{", "whatsapp_template_sent_total{", "whatsapp_messages_sent_total{"} {
			if got := len(lines(text, m)) > 0; got != tt.wantCounts {
				t.Errorf("WABA %s: %s present = %v, want %v", tt.waba, m, got, tt.wantCounts)
			}
		}
		// Unknown is not zero: no cost counter either.
		for _, m := range []string{"whatsapp_conversation_cost_newest{", "whatsapp_pricing_cost_newest{", "whatsapp_template_amount_spent_newest{",
			"whatsapp_conversation_cost_total{", "whatsapp_pricing_cost_total{", "whatsapp_template_amount_spent_total{"} {
			if got := len(lines(text, m)) > 0; got != tt.wantCost {
				t.Errorf("WABA %s: %s present = %v, want %v", tt.waba, m, got, tt.wantCost)
			}
		}
		for _, l := range lines(text, "whatsapp_exporter_refresh_success{") {
			if !strings.HasSuffix(l, " 1") {
				t.Errorf("WABA %s: %s, want every family to succeed", tt.waba, l)
			}
		}
	}
}

// snapshotOf is the exposition of one WABA's analytics and bucket ends,
// without the health metrics that a failure is expected to change.
func dataOf(t *testing.T, c prometheus.Collector, waba string) string {
	t.Helper()
	return exposition(t, c, waba,
		"whatsapp_exporter_refresh_success", "whatsapp_exporter_refresh_last_success_timestamp_seconds",
		"whatsapp_exporter_api_requests_total", "whatsapp_exporter_api_errors_total",
		"whatsapp_exporter_api_rate_limit_usage_ratio", "whatsapp_exporter_api_rate_limit_regain_access_seconds",
		"whatsapp_exporter_data_age_seconds")
}

// familyMetrics names each family's data metrics.
var familyMetrics = map[string][]string{
	"messaging":     {"whatsapp_messages_"},
	"conversations": {"whatsapp_conversation"},
	"pricing":       {"whatsapp_pricing_"},
	"templates":     {"whatsapp_template_"},
}

// ofFamilies reports whether an exposition line belongs to one of families.
func ofFamilies(line string, families []string) bool {
	for _, f := range families {
		if strings.Contains(line, `family="`+f+`"`) {
			return true
		}
		for _, prefix := range familyMetrics[f] {
			if strings.HasPrefix(line, prefix) {
				return true
			}
		}
	}
	return false
}

// spoiled returns the sample lines of an exposition, but those of the
// families a fault leaves alone.
func spoiled(text string, unaffected []string) []string {
	var out []string
	for _, l := range lines(text, "whatsapp_") {
		if !ofFamilies(l, unaffected) {
			out = append(out, l)
		}
	}
	return out
}

// One WABA failing in any of the ways an API fails does not touch the other:
// the healthy one's metrics are exactly those of a run without the faulty
// one, and the faulty one keeps serving its last good values, marked failed.
func TestFailureIsolation(t *testing.T) {
	tests := []struct {
		name      string
		fault     fakeapi.Fault
		errorCode string
		// unaffected are the families the fault cannot spoil: the
		// messaging field is not paged, so paging faults pass it by.
		unaffected []string
	}{
		{"server error", fakeapi.Fault{Kind: fakeapi.ServerError}, "http_503", nil},
		{"malformed JSON", fakeapi.Fault{Kind: fakeapi.Malformed}, provider.CodeMalformedResponse, nil},
		{"wrong types", fakeapi.Fault{Kind: fakeapi.WrongTypes}, provider.CodeMalformedResponse, nil},
		{"hang past the timeout", fakeapi.Fault{Kind: fakeapi.Hang}, provider.CodeTimeout, nil},
		{"invalid token", fakeapi.Fault{Kind: fakeapi.InvalidToken}, "190", nil},
		{"rate limit 80007", fakeapi.Fault{Kind: fakeapi.RateLimit, Code: 80007}, "80007", nil},
		{"endless pages", fakeapi.Fault{Kind: fakeapi.EndlessPages}, provider.CodeTooManyPages, []string{"messaging"}},
		{"foreign next link", fakeapi.Fault{Kind: fakeapi.ForeignNext}, provider.CodeForeignNextURL, []string{"messaging"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(earlyInMonth)
			opts := fakeapi.Options{Now: clk.Now}
			if tt.unaffected != nil {
				// Small pages make every paged answer span pages, so
				// that the paging faults have links to spoil.
				opts.PageSize = 5
			}
			accounts := []fakeapi.WABA{testFakeAccount(healthyWABA, "healthy-token"), testFakeAccount(faultyWABA, "faulty-token")}
			graph, url := fakeGraph(t, accounts, opts)
			short := func(a *config.Account) {
				withConversations(a)
				if tt.fault.Kind == fakeapi.Hang {
					// Only a hung request needs a short timeout: one on
					// every request fails healthy pages under a loaded
					// race-enabled run of all packages.
					a.Timeout = 500 * time.Millisecond
				}
				// Less history, fewer pages of it to page through.
				a.Conversations.Lookback, a.Pricing.Lookback = time.Hour, time.Hour
			}
			// The healthy WABA's own requests never hang: a timeout as
			// short as the faulty one's only made it fail on a loaded
			// machine (2 cores, every package's tests at once, -race).
			healthy := testAccount(t, healthyWABA, url, "healthy-token", chain(short, func(a *config.Account) { a.Timeout = 5 * time.Second }))
			faulty := testAccount(t, faultyWABA, url, "faulty-token", short)
			c := newExporter([]Target{metaTarget(t, healthy), metaTarget(t, faulty)}, Options{Now: clk.Now})

			refreshAll(c)
			good := dataOf(t, c, faultyWABA)
			if len(lines(good, "whatsapp_conversations_newest{")) == 0 || len(lines(good, "whatsapp_template_sent_newest{")) == 0 {
				t.Fatalf("the first refresh got no data:\n%s", good)
			}

			// An hour later, with the faulty WABA failing on every request.
			graph.Inject(faultyWABA, tt.fault)
			clk.Add(time.Hour)
			refreshAll(c)
			graph.Clear(faultyWABA)

			// The healthy WABA: everything, exactly as a collector that
			// only ever knew it would export at this time.
			alone := newExporter([]Target{metaTarget(t, healthy)}, Options{Now: clk.Now})
			refreshAll(alone)
			if got, want := dataOf(t, c, healthyWABA), dataOf(t, alone, healthyWABA); got != want {
				t.Errorf("the healthy WABA's metrics differ from a run without the faulty one:\n got: %s\nwant: %s", got, want)
			}
			for _, l := range lines(exposition(t, c, healthyWABA), "whatsapp_exporter_refresh_success{") {
				if !strings.HasSuffix(l, " 1") {
					t.Errorf("healthy WABA: %s", l)
				}
			}

			// The faulty WABA: last good values, failure marked, last
			// success still the first refresh.
			if got, want := spoiled(dataOf(t, c, faultyWABA), tt.unaffected), spoiled(good, tt.unaffected); !slices.Equal(got, want) {
				t.Errorf("the faulty WABA's data changed; want the last good values\n got: %s\nwant: %s", got, want)
			}
			text := exposition(t, c, faultyWABA)
			success := lines(text, "whatsapp_exporter_refresh_success{")
			if len(success) != 4 {
				t.Errorf("want refresh_success for 4 families, got %q", success)
			}
			for _, l := range success {
				if want := " 0"; !strings.HasSuffix(l, want) && !ofFamilies(l, tt.unaffected) {
					t.Errorf("faulty WABA: %s, want 0", l)
				}
			}
			for _, l := range lines(text, "whatsapp_exporter_refresh_last_success_timestamp_seconds{") {
				if !strings.HasSuffix(l, fmt.Sprintf(" %g", float64(earlyInMonth.Unix()))) && !ofFamilies(l, tt.unaffected) {
					t.Errorf("faulty WABA: %s, want the time of the first refresh", l)
				}
			}
			if n := len(lines(text, `whatsapp_exporter_api_errors_total{error_code="`+tt.errorCode+`"`)); n == 0 {
				t.Errorf("no api_errors_total with error_code %q:\n%s", tt.errorCode, strings.Join(lines(text, "whatsapp_exporter_api_errors_total"), "\n"))
			}

			// Once the fault clears, the faulty WABA catches up.
			refreshAll(c)
			for _, l := range lines(exposition(t, c, faultyWABA), "whatsapp_exporter_refresh_success{") {
				if !strings.HasSuffix(l, " 1") {
					t.Errorf("after the fault cleared: %s", l)
				}
			}
			if got, want := dataOf(t, c, faultyWABA), good; got == want {
				t.Errorf("after the fault cleared the faulty WABA still serves the values of an hour ago")
			}
		})
	}
}

// The backoff policy, simulated over hours of virtual time with the real
// refresh and the fake API: a rate-limited WABA waits longer after every
// rate-limited refresh, as long as the API asks when it says so, and returns
// to its interval once the limit lifts; the WABA beside it keeps its
// interval throughout.
func TestRateLimitBackoff(t *testing.T) {
	const interval = 15 * time.Minute
	tests := []struct {
		name  string
		fault fakeapi.Fault
		// check gets the faulty WABA's delays while limited.
		check func(t *testing.T, d []time.Duration)
	}{
		{
			name:  "80007 without a wait: doubling up to the cap",
			fault: fakeapi.Fault{Kind: fakeapi.RateLimit, Code: 80007},
			check: func(t *testing.T, d []time.Duration) {
				if d[0] <= interval*11/10 {
					t.Errorf("first delay after a rate limit = %s, want more than the interval %s with its jitter", d[0], interval)
				}
				for i := 1; i < len(d); i++ {
					if d[i] < d[i-1] {
						t.Errorf("delay %d = %s shorter than the one before (%s)", i, d[i], d[i-1])
					}
				}
				if last := d[len(d)-1]; last != maxRateLimitBackoff {
					t.Errorf("delay after %d rate limits = %s, want the cap %s", len(d), last, maxRateLimitBackoff)
				}
			},
		},
		{
			name:  "code 4 with 90 minutes to regain access",
			fault: fakeapi.Fault{Kind: fakeapi.RateLimit, RegainMinutes: 90},
			check: func(t *testing.T, d []time.Duration) {
				for i, got := range d {
					if got < 90*time.Minute {
						t.Errorf("delay %d = %s, want at least the 90m the API asked for", i, got)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(testNow)
			accounts := []fakeapi.WABA{testFakeAccount(healthyWABA, "t1"), testFakeAccount(faultyWABA, "t2")}
			graph, url := fakeGraph(t, accounts, fakeapi.Options{Now: clk.Now})
			c := newExporter([]Target{
				metaTarget(t, testAccount(t, healthyWABA, url, "t1", nil)),
				metaTarget(t, testAccount(t, faultyWABA, url, "t2", nil)),
			}, Options{Now: clk.Now})
			graph.Inject(faultyWABA, tt.fault)

			// A discrete-event run of the scheduler: each account's next
			// refresh is due at the time its last refresh said.
			due := map[*poller]time.Time{c.pollers[0]: testNow, c.pollers[1]: testNow}
			got := map[string][]time.Duration{}
			refreshes := map[string]int{}
			end := testNow.Add(6 * time.Hour)
			lifted := false
			for {
				var a *poller
				for acc, at := range due {
					if a == nil || at.Before(due[a]) || at.Equal(due[a]) && acc.account.WABAID < a.account.WABAID {
						a = acc
					}
				}
				if due[a].After(end) {
					break
				}
				if !lifted && due[a].Sub(testNow) >= 4*time.Hour {
					graph.Clear(faultyWABA) // the limit lifts after 4 hours
					lifted = true
				}
				clk.Set(due[a])
				before := graph.Stats(a.account.WABAID).Requests
				d := a.refresh(context.Background())
				if a.account.WABAID == faultyWABA && graph.Stats(faultyWABA).Requests-before > 1 && !lifted {
					t.Errorf("a rate-limited refresh sent %d requests; want it to stop at the first rate limit", graph.Stats(faultyWABA).Requests-before)
				}
				got[a.account.WABAID] = append(got[a.account.WABAID], d)
				refreshes[a.account.WABAID]++
				due[a] = due[a].Add(d)
			}

			for i, d := range got[healthyWABA] {
				if d < interval*9/10 || d > interval*11/10 {
					t.Errorf("healthy WABA delay %d = %s, want its interval %s ± 10%%", i, d, interval)
				}
			}
			if n := refreshes[healthyWABA]; n < 22 { // 6h / 16.5m
				t.Errorf("healthy WABA refreshed %d times in 6h, want at least 22", n)
			}
			// Split the faulty WABA's delays into those of limited
			// refreshes and those after the limit lifted.
			var limited, after []time.Duration
			var at time.Time = testNow
			for _, d := range got[faultyWABA] {
				if at.Sub(testNow) < 4*time.Hour {
					limited = append(limited, d)
				} else {
					after = append(after, d)
				}
				at = at.Add(d)
			}
			if len(limited) < 2 {
				t.Fatalf("only %d rate-limited refreshes: %v", len(limited), got[faultyWABA])
			}
			tt.check(t, limited)
			if len(after) == 0 {
				t.Fatalf("no refresh after the limit lifted: %v", got[faultyWABA])
			}
			for i, d := range after {
				if d < interval*9/10 || d > interval*11/10 {
					t.Errorf("delay %d after the limit lifted = %s, want the interval %s ± 10%%", i, d, interval)
				}
			}
			if refreshes[faultyWABA] >= refreshes[healthyWABA] {
				t.Errorf("rate-limited WABA refreshed %d times, the healthy one %d: no backoff", refreshes[faultyWABA], refreshes[healthyWABA])
			}
		})
	}
}

// Run waits what refresh asks, per WABA: the rate-limited one's next
// refresh is further off, the healthy one's is not.
func TestRunSleepsPerAccount(t *testing.T) {
	clk := newClock(testNow)
	accounts := []fakeapi.WABA{testFakeAccount(healthyWABA, "t1"), testFakeAccount(faultyWABA, "t2")}
	graph, url := fakeGraph(t, accounts, fakeapi.Options{Now: clk.Now})
	graph.Inject(faultyWABA, fakeapi.Fault{Kind: fakeapi.RateLimit, Code: 80007, RegainMinutes: 120})
	var mu sync.Mutex
	var slept []time.Duration
	ctx, cancel := context.WithCancel(context.Background())
	c := newExporter([]Target{
		metaTarget(t, testAccount(t, healthyWABA, url, "t1", nil)),
		metaTarget(t, testAccount(t, faultyWABA, url, "t2", nil)),
	}, Options{Now: clk.Now, refreshed: func(_ string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		slept = append(slept, d)
		if len(slept) == 2 {
			cancel() // one round is enough
		}
	}})
	c.Run(ctx)
	if len(slept) != 2 {
		t.Fatalf("Run scheduled %d refreshes, want one per account: %v", len(slept), slept)
	}
	var short, long int
	for _, d := range slept {
		switch {
		case d >= 13*time.Minute+30*time.Second && d <= 16*time.Minute+30*time.Second:
			short++
		case d >= 120*time.Minute:
			long++
		}
	}
	if short != 1 || long != 1 {
		t.Errorf("Run scheduled %v; want one interval (healthy) and one of at least 2h (rate limited)", slept)
	}
	if graph.Stats(healthyWABA).Requests == 0 {
		t.Error("the healthy WABA was not refreshed")
	}
}

// A transient failure is retried sooner than the interval, doubling up to it.
func TestTransientRetry(t *testing.T) {
	clk := newClock(testNow)
	graph, url := fakeGraph(t, []fakeapi.WABA{testFakeAccount(faultyWABA, "t")}, fakeapi.Options{Now: clk.Now})
	graph.Inject(faultyWABA, fakeapi.Fault{Kind: fakeapi.ServerError})
	c := newExporter([]Target{metaTarget(t, testAccount(t, faultyWABA, url, "t", onlyFamilies("messaging")))}, Options{Now: clk.Now})
	var got []time.Duration
	for i := 0; i < 8; i++ {
		got = append(got, c.pollers[0].refresh(context.Background()))
	}
	want := []time.Duration{15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("retry delays = %v, want %v", got, want)
			break
		}
	}
}

// The token (and the app secret) never reach a log line, an error text or
// /metrics, whatever the API echoes back; and it never travels in a URL.
func TestTokenSecrecy(t *testing.T) {
	const token = "test-token-not-real-1234567890zz"
	const appSecret = "app-secret-0987654321"
	clk := newClock(earlyInMonth)
	fa := testFakeAccount(faultyWABA, token)
	fa.AppSecret = appSecret
	graph, url := fakeGraph(t, []fakeapi.WABA{fa}, fakeapi.Options{Now: clk.Now, PageSize: 5})
	acct := testAccount(t, faultyWABA, url, token, func(a *config.Account) {
		a.AppSecret = appSecret
		a.Timeout = 200 * time.Millisecond
	})
	target := metaTarget(t, acct)
	var logs logBuffer
	c := newExporter([]Target{target}, Options{Logger: logs.logger(), Now: clk.Now})

	faults := []fakeapi.Fault{
		{Kind: fakeapi.EchoToken}, {Kind: fakeapi.InvalidToken}, {Kind: fakeapi.Malformed},
		{Kind: fakeapi.WrongTypes}, {Kind: fakeapi.ServerError}, {Kind: fakeapi.RateLimit},
		{Kind: fakeapi.ForeignNext}, {Kind: fakeapi.Hang},
	}
	refreshAll(c) // a good refresh first, so there are values to keep
	var errs []string
	for _, f := range faults {
		graph.Inject(faultyWABA, f)
		refreshAll(c)
		// The same fault seen by the source directly, for its error text.
		_, err := target.Source.Conversations(context.Background(), provider.ConversationQuery{
			WABAID: faultyWABA, Cost: true,
			Window: provider.Window{Start: earlyInMonth.Add(-3 * time.Hour), End: earlyInMonth, Granularity: provider.HalfHour},
		})
		if err == nil {
			t.Errorf("fault %d: no error", f.Kind)
		} else {
			errs = append(errs, err.Error())
		}
		graph.Clear(faultyWABA)
		clk.Add(time.Hour)
	}

	rec := httptest.NewRecorder()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)

	for _, secret := range []string{token, appSecret} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a secret is in the log:\n%s", logs.String())
		}
		if strings.Contains(string(body), secret) {
			t.Errorf("a secret is in /metrics")
		}
		for _, e := range errs {
			if strings.Contains(e, secret) {
				t.Errorf("a secret is in an error: %s", e)
			}
		}
	}
	// The echoing fault did reach the log, redacted: the test saw the
	// message it guards.
	if !strings.Contains(logs.String(), "Malformed access token <redacted>") {
		t.Errorf("the echoed token message is not in the log:\n%s", logs.String())
	}
	if n := graph.Stats(faultyWABA).CredentialsInURL; n != 0 {
		t.Errorf("%d requests carried a credential in the URL", n)
	}
	if graph.Stats(faultyWABA).Requests == 0 {
		t.Fatal("no requests reached the fake")
	}
}

// A scrape reads the snapshots only: however many scrapes, no request, even
// once the data is too old to serve; the scrapes then leave the values out,
// and keep the exporter's own health.
func TestScrapeNeverCallsAPI(t *testing.T) {
	clk := newClock(testNow)
	graph, url := fakeGraph(t, []fakeapi.WABA{testFakeAccount(healthyWABA, "t")}, fakeapi.Options{Now: clk.Now})
	c := newExporter([]Target{metaTarget(t, testAccount(t, healthyWABA, url, "t", withConversations))}, Options{Now: clk.Now})

	// Before any refresh: the account, and the API version it asks for
	// (info and end).
	if n := testutil.CollectAndCount(c); n != 3 || graph.Stats(healthyWABA).Requests != 0 {
		t.Fatalf("before any refresh: %d series (want account_info and the API version's two), %d requests (want 0)", n, graph.Stats(healthyWABA).Requests)
	}
	refreshAll(c)
	before := graph.Stats(healthyWABA).Requests
	series := testutil.CollectAndCount(c)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	for i := 0; i < 100; i++ {
		clk.Add(30 * time.Second) // 50 minutes: within the max_data_age of an hour
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
	}
	if got := testutil.CollectAndCount(c); got != series {
		t.Errorf("scrapes changed the series count from %d to %d", series, got)
	}
	if series < 50 {
		t.Errorf("only %d series after a refresh of every family", series)
	}
	clk.Add(11 * time.Minute) // the data is now older than an hour
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	if after := graph.Stats(healthyWABA).Requests; after != before {
		t.Errorf("101 scrapes made %d API requests, want 0", after-before)
	}
	text := exposition(t, c, healthyWABA)
	if n := len(lines(text, "whatsapp_messages_sent_")) + len(lines(text, "whatsapp_bucket_end_timestamp_seconds")); n != 0 {
		t.Errorf("%d analytics series still served with data older than max_data_age", n)
	}
	if n := len(lines(text, "whatsapp_exporter_refresh_success{")); n != 4 {
		t.Errorf("%d refresh_success series, want the health of 4 families kept", n)
	}
	if got := lines(text, `whatsapp_exporter_data_age_seconds{family="messaging"`); len(got) != 1 || !strings.HasSuffix(got[0], " 3660") {
		t.Errorf("data age %q, want 3660 s", got)
	}
}

// Describe lists the descriptor of every metric Collect sends, which a
// pedantic registry checks on gather.
func TestDescribeCoversCollect(t *testing.T) {
	clk := newClock(testNow)
	partner := testFakeAccount(faultyWABA, "t2")
	graph, url := fakeGraph(t, []fakeapi.WABA{testFakeAccount(healthyWABA, "t"), partner}, fakeapi.Options{Now: clk.Now})
	graph.Inject(faultyWABA, fakeapi.Fault{Kind: fakeapi.RateLimit})
	c := newExporter([]Target{
		metaTarget(t, testAccount(t, healthyWABA, url, "t", nil)),
		metaTarget(t, testAccount(t, faultyWABA, url, "t2", nil)),
	}, Options{Now: clk.Now})
	refreshAll(c)
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Error(err)
	}
}

// Paging and chunking are invisible in the output: a WABA with 23 templates
// and 5 phones exports the same through pages of 20 as through one big page,
// and no template_analytics request names more than 10 templates.
func TestPagingAndChunking(t *testing.T) {
	acct := testFakeAccount(healthyWABA, "t")
	acct.Templates = nil
	for i := 0; i < 23; i++ {
		acct.Templates = append(acct.Templates, fakeapi.Template{
			ID: fmt.Sprint(9000000 + i), Name: fmt.Sprint("t", i), Category: "MARKETING", Weight: 1,
			Buttons: []fakeapi.Button{{Type: "url_button", Content: "Go"}},
		})
	}
	for i := 3; i <= 5; i++ {
		acct.Phones = append(acct.Phones, fakeapi.Phone{Number: fmt.Sprint("1650555010", i), Display: fmt.Sprint("+1 650-555-010", i), Weight: 0.2})
	}
	splitByPhone := func(a *config.Account) { a.Messaging.SplitBy = []string{"PHONE"} }

	run := func(pageSize int) (string, fakeapi.Stats) {
		clk := newClock(earlyInMonth)
		graph, url := fakeGraph(t, []fakeapi.WABA{acct}, fakeapi.Options{Now: clk.Now, PageSize: pageSize})
		c := newExporter([]Target{metaTarget(t, testAccount(t, healthyWABA, url, "t", splitByPhone))}, Options{Now: clk.Now})
		refreshAll(c)
		for _, l := range lines(exposition(t, c, healthyWABA), "whatsapp_exporter_refresh_success{") {
			if !strings.HasSuffix(l, " 1") {
				t.Errorf("page size %d: %s", pageSize, l)
			}
		}
		return dataOf(t, c, healthyWABA), graph.Stats(healthyWABA)
	}
	paged, pagedStats := run(20)
	whole, wholeStats := run(100000)

	if paged != whole {
		t.Errorf("pages of 20 and one big page export different metrics:\n%s\n---\n%s", paged, whole)
	}
	// Marketing templates, sent through the Cloud API and the Marketing
	// Messages API: a series for each.
	for _, product := range []string{"cloud_api", "marketing_messages"} {
		if n := len(lines(whole, `whatsapp_template_sent_newest{product_type="`+product+`"`)); n != 23 {
			t.Errorf("%d templates exported for %s, want 23", n, product)
		}
	}
	if n := len(lines(whole, "whatsapp_messages_sent_newest{")); n != 5 {
		t.Errorf("%d phones exported, want 5", n)
	}
	for _, s := range []fakeapi.Stats{pagedStats, wholeStats} {
		if s.MaxTemplateIDs != 10 {
			t.Errorf("the largest template_analytics request named %d templates, want 10", s.MaxTemplateIDs)
		}
	}
	if got := wholeStats.ByOperation["template_analytics"]; got != 2*3 {
		t.Errorf("%d template_analytics requests for 23 templates, want 3 per product type", got)
	}
	if pagedStats.Requests <= wholeStats.Requests {
		t.Errorf("pages of 20 took %d requests, one big page %d: no paging happened", pagedStats.Requests, wholeStats.Requests)
	}
}

// A transient failure of one family is retried alone, sooner than the
// interval; the other families keep their interval, and the next full
// refresh comes when it is due. (Messaging and pricing share one request,
// so the family that fails alone is templates, asked for on its own.)
func TestTransientRetryOneFamily(t *testing.T) {
	clk := newClock(earlyInMonth)
	graph, url := fakeGraph(t, []fakeapi.WABA{testFakeAccount(faultyWABA, "t")}, fakeapi.Options{Now: clk.Now})
	c := newExporter([]Target{metaTarget(t, testAccount(t, faultyWABA, url, "t", onlyFamilies("messaging", "pricing", "templates")))}, Options{Now: clk.Now})
	p := c.pollers[0]
	p.refresh(context.Background())

	const shared, templates = "analytics,pricing_analytics", "template_analytics"
	ops := func() map[string]int { return graph.Stats(faultyWABA).ByOperation }
	clk.Add(20 * time.Minute) // past the interval: a full refresh
	graph.Inject(faultyWABA, fakeapi.Fault{Kind: fakeapi.ServerError, Op: templates, Times: 1})
	before := ops()
	// Messaging and pricing succeed; templates meet the 503.
	d := p.refresh(context.Background())
	if d != retryBase {
		t.Errorf("after a transient failure the next refresh is in %s, want %s", d, retryBase)
	}
	clk.Add(d)
	mid := ops()
	p.refresh(context.Background())
	after := ops()
	if got := after[templates] - mid[templates]; got != 1 {
		t.Errorf("the retry sent %d template requests, want 1", got)
	}
	if got := after[shared] - mid[shared]; got != 0 {
		t.Errorf("the retry of templates also asked for messaging and pricing (%d requests), which had not failed", got)
	}
	if mid[shared] == before[shared] {
		t.Fatal("messaging and pricing were not refreshed in the full refresh; the test is wrong")
	}
	for _, l := range lines(exposition(t, c, faultyWABA), "whatsapp_exporter_refresh_success{") {
		if !strings.HasSuffix(l, " 1") {
			t.Errorf("after the retry: %s", l)
		}
	}
	// The next full refresh keeps its time: it comes an interval after
	// the last full one, not after the retry.
	clk.Add(16*time.Minute + 30*time.Second - d)
	p.refresh(context.Background())
	if got := ops()[shared] - after[shared]; got != 1 {
		t.Errorf("the next full refresh sent %d requests for messaging and pricing, want 1", got)
	}
}

// The API's refusal to report cost is asked again once a day: a WABA that
// stops being billed through a partner gets its cost back without a restart.
func TestCostReprobedDaily(t *testing.T) {
	clk := newClock(earlyInMonth)
	partner := testFakeAccount(faultyWABA, "partner-token")
	partner.PartnerBilled = true
	graph, url := fakeGraph(t, []fakeapi.WABA{partner}, fakeapi.Options{Now: clk.Now})
	var logs logBuffer
	c := newExporter([]Target{metaTarget(t, testAccount(t, faultyWABA, url, "partner-token", onlyFamilies("pricing")))},
		Options{Logger: logs.logger(), Now: clk.Now})
	refused := func() float64 {
		v, _ := metricValue(t, c, "whatsapp_exporter_api_errors_total")
		return v
	}
	refreshAll(c)
	if refused() != 1 {
		t.Fatalf("%g refused cost queries in the first refresh, want 1", refused())
	}
	for range 3 { // the same day: no more asking
		clk.Add(time.Hour)
		refreshAll(c)
	}
	if refused() != 1 {
		t.Errorf("cost was asked for again within a day: %g refusals", refused())
	}
	clk.Add(21 * time.Hour)
	refreshAll(c)
	if refused() != 2 {
		t.Errorf("cost was not asked for again a day later: %g refusals", refused())
	}
	graph.SetPartnerBilled(faultyWABA, false)
	clk.Add(24 * time.Hour)
	refreshAll(c)
	if n := len(lines(exposition(t, c, faultyWABA), "whatsapp_pricing_cost_newest{")); n == 0 {
		t.Error("no cost after the WABA stopped being billed through a partner")
	}
	if n := logs.count("level=info", "reports no cost"); n != 1 {
		t.Errorf("the refusal was logged at info %d times, want once\n%s", n, logs.String())
	}
}

// A WABA without a phone number, its messaging split by phone, asks for no
// messaging at all and does not fail: the split has no cell, and pricing,
// which would share its request, is asked alone.
func TestSplitByPhoneWithoutPhones(t *testing.T) {
	acct := testFakeAccount(healthyWABA, "t")
	acct.Phones = nil
	clk := newClock(earlyInMonth)
	graph, url := fakeGraph(t, []fakeapi.WABA{acct}, fakeapi.Options{Now: clk.Now})
	splitByPhone := func(a *config.Account) { a.Messaging.SplitBy = []string{"PHONE"} }
	c := newExporter([]Target{metaTarget(t, testAccount(t, healthyWABA, url, "t", splitByPhone))}, Options{Now: clk.Now})
	refreshAll(c)
	out := exposition(t, c, healthyWABA)
	for _, l := range lines(out, "whatsapp_exporter_refresh_success{") {
		if !strings.HasSuffix(l, " 1") {
			t.Errorf("%s", l)
		}
	}
	if n := len(lines(out, "whatsapp_messages_sent_newest{")); n != 0 {
		t.Errorf("%d messaging series for a WABA without phone numbers, want none", n)
	}
	stats := graph.Stats(healthyWABA)
	if got := stats.ByOperation["analytics"]; got != 0 {
		t.Errorf("%d analytics requests for a split over no phone numbers, want 0", got)
	}
	if stats.ByOperation["pricing_analytics"] != 1 {
		t.Errorf("pricing, which would have shared messaging's request, was not asked alone once: %v", stats.ByOperation)
	}
}

// A WABA a business's listing found needs no request for its currency and
// time zone when the listing gave them; where it left one out (a BSP that
// does not forward the field), the WABA reads its own, as an account
// listed by hand does, and its costs get their currency.
func TestListedWABAFields(t *testing.T) {
	tests := []struct {
		name       string
		listed     provider.DiscoveredWABA
		wantReads  int
		wantLabels string
	}{
		{"complete", provider.DiscoveredWABA{Name: "Listed", Currency: "EUR", Location: time.UTC, Complete: true}, 0, `currency="EUR"`},
		{"without currency", provider.DiscoveredWABA{Name: "Listed", Location: time.UTC}, 1, `currency="USD"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(earlyInMonth)
			graph, url := fakeGraph(t, []fakeapi.WABA{testFakeAccount(healthyWABA, "t")}, fakeapi.Options{Now: clk.Now})
			target := metaTarget(t, testAccount(t, healthyWABA, url, "t", onlyFamilies("pricing")))
			listed := tt.listed
			listed.ID = healthyWABA
			target.Discovered = &listed
			c := newExporter([]Target{target}, Options{Now: clk.Now})
			refreshAll(c)
			if got := graph.Stats(healthyWABA).ByOperation["currency,timezone_id"]; got != tt.wantReads {
				t.Errorf("%d reads of the WABA's fields, want %d", got, tt.wantReads)
			}
			info := lines(exposition(t, c, healthyWABA), "whatsapp_exporter_account_info{")
			if len(info) != 1 || !strings.Contains(info[0], tt.wantLabels) {
				t.Errorf("account info %q, want %s", info, tt.wantLabels)
			}
		})
	}
}
