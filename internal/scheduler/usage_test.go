package scheduler

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// TestUsageHeaderBackoff: Graph says a budget is spent through its usage
// headers on answers that still succeed. At the limit the account backs off
// as on a rate-limit error, and does not ask for its other families first.
func TestUsageHeaderBackoff(t *testing.T) {
	const interval = 15 * time.Minute
	usage := func(callCount, regainMinutes int) http.Header {
		return http.Header{"X-Business-Use-Case-Usage": {
			`{"1001":[{"type":"whatsapp_business_management","call_count":` + strconv.Itoa(callCount) +
				`,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":` + strconv.Itoa(regainMinutes) + `}]}`,
		}}
	}
	tests := []struct {
		name         string
		header       http.Header
		wantRequests int
		minDelay     time.Duration
		maxDelay     time.Duration
	}{
		{"usage well below the limit", usage(42, 0), 2, interval * 9 / 10, interval * 11 / 10},
		// Past half its own budget, the WABA's interval stretches by
		// used/left: 4 times at 80%, up to the hour's backoff cap at 95%.
		{"usage nearing the limit", usage(80, 0), 2, interval * 4, interval * 4},
		{"usage close to the limit", usage(95, 0), 2, time.Hour, time.Hour},
		{"call count at the limit", usage(100, 0), 1, 2 * interval, 2 * interval},
		{"time to regain access given", usage(97, 120), 1, 120 * time.Minute, 120 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requests := 0
			var header http.Header
			srvURL := startStub(t, func(op string, q url.Values) (int, http.Header, string) {
				body := `{"` + op + `":{"data":[]},"id":"1001"}`
				if op == "analytics" {
					// Every request asks for messaging: one in two shares
					// it with the other families.
					requests++
					body = `{"analytics":{"data_points":[` + point(unixAt(11, 0), unixAt(11, 30), `"sent":1,"delivered":1`) + `]},"id":"1001"}`
				}
				return http.StatusOK, header, body
			})
			// Messaging split by country: a request for every family
			// (and US), then one for BR.
			c := newExporter([]Target{metaTarget(t, testAccount(t, wabaA, srvURL, "token", chain(onlyFamilies("messaging", "conversations", "pricing"),
				func(a *config.Account) {
					a.Messaging.SplitBy, a.Messaging.CountryCodes = []string{"COUNTRY"}, []string{"US", "BR"}
				})))},
				Options{Now: func() time.Time { return testNow }})
			// A first refresh fetches the month so far; the one measured
			// asks for the recent buckets only.
			c.pollers[0].refresh(context.Background())
			requests, header = 0, tt.header
			d := c.pollers[0].refresh(context.Background())
			if requests != tt.wantRequests {
				t.Errorf("requests in one refresh = %d, want %d", requests, tt.wantRequests)
			}
			if d < tt.minDelay || d > tt.maxDelay {
				t.Errorf("next refresh in %s, want between %s and %s", d, tt.minDelay, tt.maxDelay)
			}
		})
	}
}

// TestUsageGaugesForgotten: Graph sends its usage headers only while usage
// is high. A budget type that the answers of a refresh no longer report must
// vanish from /metrics, not keep its last value (and an alert firing).
func TestUsageGaugesForgotten(t *testing.T) {
	refresh := 0
	srvURL := startStub(t, func(op string, q url.Values) (int, http.Header, string) {
		var h http.Header
		if refresh == 1 {
			// Two objects report the same budget type: the WABA's own
			// counts; the other's is not its budget.
			h = http.Header{"X-Business-Use-Case-Usage": {`{"1001":[{"type":"whatsapp_business_management","call_count":95,"total_cputime":1,"total_time":1}],` +
				`"2002":[{"type":"whatsapp_business_management","call_count":20,"total_cputime":3,"total_time":1}]}`}}
		}
		return http.StatusOK, h, `{"analytics":{"data_points":[` + point(unixAt(11, 0), unixAt(11, 30), `"sent":1,"delivered":1`) + `]},"id":"1001"}`
	})
	c := newExporter([]Target{metaTarget(t, testAccount(t, wabaA, srvURL, "token", onlyFamilies("messaging")))},
		Options{Now: func() time.Time { return testNow }})

	refresh = 1
	c.pollers[0].refresh(context.Background())
	want := `
# HELP whatsapp_exporter_api_rate_limit_usage_ratio Share of the API rate limit used, as last reported by the API's usage headers (1 = the limit).
# TYPE whatsapp_exporter_api_rate_limit_usage_ratio gauge
whatsapp_exporter_api_rate_limit_usage_ratio{resource="call_count",usage_type="whatsapp_business_management",waba_id="1001"} 0.95
whatsapp_exporter_api_rate_limit_usage_ratio{resource="total_cputime",usage_type="whatsapp_business_management",waba_id="1001"} 0.01
whatsapp_exporter_api_rate_limit_usage_ratio{resource="total_time",usage_type="whatsapp_business_management",waba_id="1001"} 0.01
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "whatsapp_exporter_api_rate_limit_usage_ratio"); err != nil {
		t.Errorf("after a refresh with usage headers: %v", err)
	}

	refresh = 2
	c.pollers[0].refresh(context.Background())
	if n := testutil.CollectAndCount(c, "whatsapp_exporter_api_rate_limit_usage_ratio", "whatsapp_exporter_api_rate_limit_regain_access_seconds"); n != 0 {
		t.Errorf("after a refresh without usage headers: %d usage series, want none", n)
	}
}

// TestUpstreamWaitCapped: a Retry-After or a time to regain access is
// untrusted input; a year of it must not park the account for a year.
func TestUpstreamWaitCapped(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
	}{
		{"Retry-After of ten years", http.Header{"Retry-After": {"315360000"}}},
		{"regain access in a year", http.Header{"X-Business-Use-Case-Usage": {`{"1001":[{"type":"whatsapp_business_management","call_count":100,"estimated_time_to_regain_access":525600}]}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srvURL := startStub(t, func(op string, q url.Values) (int, http.Header, string) {
				return http.StatusBadRequest, tt.header, `{"error":{"message":"(#80007) Rate limit hit","type":"OAuthException","code":80007}}`
			})
			c := newExporter([]Target{metaTarget(t, testAccount(t, wabaA, srvURL, "token", onlyFamilies("messaging")))},
				Options{Now: func() time.Time { return testNow }})
			d := c.pollers[0].refresh(context.Background())
			if d != provider.MaxUpstreamWait {
				t.Errorf("next refresh in %s, want the cap %s", d, provider.MaxUpstreamWait)
			}
		})
	}
}

// TestPointWithoutEnd: a data point the API sent without an end belongs to
// no bucket; it must not become a series that reads 0.
func TestPointWithoutEnd(t *testing.T) {
	srvURL := startStub(t, func(op string, q url.Values) (int, http.Header, string) {
		return ok(dataPoints("conversation_analytics",
			point(unixAt(11, 0), unixAt(11, 30), `"conversation":7,"phone_number":"15550001111"`),
			`{"start":`+strconv.FormatInt(unixAt(11, 0), 10)+`,"conversation":3,"phone_number":"15550002222"}`))
	})
	c := newExporter([]Target{metaTarget(t, testAccount(t, wabaA, srvURL, "token", chain(onlyFamilies("conversations"), func(a *config.Account) {
		a.Conversations.Dimensions = []string{"PHONE"}
		no := false
		a.Conversations.Cost = &no
	})))}, Options{Now: func() time.Time { return testNow }})
	c.pollers[0].refresh(context.Background())
	want := `
# HELP whatsapp_conversations_newest Conversations opened in the newest analytics bucket with data.
# TYPE whatsapp_conversations_newest gauge
whatsapp_conversations_newest{conversation_category="",conversation_direction="",conversation_type="",country="",phone_number="15550001111",waba_id="1001"} 7
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "whatsapp_conversations_newest"); err != nil {
		t.Error(err)
	}
}

// TestUsageKeepsWithinBudget: WABAs whose own hourly budget is smaller than
// what their schedule would spend (a refresh a minute, against Graph's 60
// calls an hour here) slow down as their usage headers near the limit, and
// stay within it: over three virtual hours no sliding hour holds more than
// the budget, and Graph never has to refuse them (80007).
func TestUsageKeepsWithinBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const budget = 60
		cfg := &config.Config{}
		var wabas []fakeapi.WABA
		for i := range 2 {
			id := fmt.Sprint(5000 + i)
			wabas = append(wabas, testFakeAccount(id, "token-"+id))
			cfg.Accounts = append(cfg.Accounts, graphAccount(id, time.Minute, func(a *config.Account) {
				onlyFamilies("messaging", "pricing")(a)
			}))
		}
		fake := fakeapi.NewGraph(wabas, fakeapi.Options{Now: time.Now, HourlyBudget: budget})
		transport, ok := fleet(t, cfg, fake, 3*time.Hour)
		for i := range 2 {
			id := fmt.Sprint(5000 + i)
			at := transport.of(id)
			if most := mostInAnHour(at); most > budget {
				t.Errorf("WABA %s: %d requests within an hour, over its budget of %d", id, most, budget)
			}
			if n := len(ok.at[id]); n < 3*budget/2/2 {
				t.Errorf("WABA %s refreshed %d times in 3 hours; it should use most of its budget", id, n)
			}
			t.Logf("WABA %s: %d requests in 3 hours, at most %d in an hour (budget %d), %d successful refreshes", id, len(at), mostInAnHour(at), budget, len(ok.at[id]))
		}
	})
}
