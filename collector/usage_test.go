package collector

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
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
		{"usage well below the limit", usage(42, 0), 3, interval * 9 / 10, interval * 11 / 10},
		{"call count at the limit", usage(100, 0), 1, 2 * interval, 2 * interval},
		{"time to regain access given", usage(97, 120), 1, 120 * time.Minute, 120 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requests := 0
			srvURL := startStub(t, func(op string, q url.Values) (int, http.Header, string) {
				requests++
				body := `{"` + op + `":{"data":[]},"id":"1001"}`
				if op == "analytics" {
					body = `{"analytics":{"data_points":[` + point(unixAt(11, 0), unixAt(11, 30), `"sent":1,"delivered":1`) + `]},"id":"1001"}`
				}
				return http.StatusOK, tt.header, body
			})
			c := New([]Target{metaTarget(t, testAccount(t, wabaA, srvURL, "token", onlyFamilies("messaging", "conversations", "pricing")))},
				Options{Now: func() time.Time { return testNow }})
			d := c.refresh(context.Background(), c.accounts[0])
			if requests != tt.wantRequests {
				t.Errorf("requests in one refresh = %d, want %d", requests, tt.wantRequests)
			}
			if d < tt.minDelay || d > tt.maxDelay {
				t.Errorf("next refresh in %s, want between %s and %s", d, tt.minDelay, tt.maxDelay)
			}
		})
	}
}
