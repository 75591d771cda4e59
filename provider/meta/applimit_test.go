package meta

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// TestAppLimit: which answers say the app's own budget is spent, for every
// WABA it reads, rather than one WABA's.
func TestAppLimit(t *testing.T) {
	appUsage := func(v string) http.Header { return http.Header{"X-App-Usage": {v}} }
	tests := []struct {
		name    string
		header  http.Header
		apiErr  *provider.APIError
		limited bool
		wait    time.Duration
	}{
		{"code 4", nil, &provider.APIError{Code: "4", RateLimited: true}, true, 0},
		{"code 4 with a time to regain access", nil, &provider.APIError{Code: "4", RateLimited: true, RetryAfter: 7 * time.Minute}, true, 7 * time.Minute},
		{"code 341, application limit reached", nil, &provider.APIError{Code: "341", RateLimited: true}, true, 0},
		{"a WABA's limit is its own", nil, &provider.APIError{Code: "80007", RateLimited: true}, false, 0},
		{"a user's limit is its own", nil, &provider.APIError{Code: "17", RateLimited: true}, false, 0},
		{"X-App-Usage call count at 100%", appUsage(`{"call_count":100,"total_cputime":3,"total_time":4}`), nil, true, 0},
		{"X-App-Usage CPU time over 100%", appUsage(`{"call_count":10,"total_cputime":104,"total_time":4}`), nil, true, 0},
		{"X-App-Usage total time at 100%", appUsage(`{"call_count":10,"total_cputime":3,"total_time":100}`), nil, true, 0},
		{"X-App-Usage below", appUsage(`{"call_count":99,"total_cputime":3,"total_time":4}`), nil, false, 0},
		{"X-App-Usage unreadable", appUsage(`{"call_count":"lots"`), nil, false, 0},
		{"a business use case at 100% is one WABA's", http.Header{"X-Business-Use-Case-Usage": {
			`{"1":[{"type":"whatsapp_business_management","call_count":100,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":5}]}`,
		}}, nil, false, 0},
		{"nothing", nil, nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait, limited := appLimit(tt.header, tt.apiErr)
			if limited != tt.limited || wait != tt.wait {
				t.Errorf("appLimit = %s, %v; want %s, %v", wait, limited, tt.wait, tt.limited)
			}
		})
	}
}

// graphFunc answers requests in-process, so that they run in a synctest
// bubble's virtual time.
type graphFunc func(r *http.Request) (int, http.Header, string)

func (f graphFunc) RoundTrip(r *http.Request) (*http.Response, error) {
	status, header, body := f(r)
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r}, nil
}

// TestAppLimitHoldsBackTheHost: the client tells the throttle, so a code 4
// seen by one WABA holds back the next request of another WABA of the same
// API, for the time the usage header names.
func TestAppLimitHoldsBackTheHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var sent []time.Duration
		transport := graphFunc(func(r *http.Request) (int, http.Header, string) {
			sent = append(sent, time.Since(start))
			if len(sent) == 1 {
				return http.StatusForbidden, http.Header{"X-Business-Use-Case-Usage": {
					`{"1":[{"type":"whatsapp_business_management","call_count":100,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":7}]}`,
				}}, `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4}}`
			}
			return http.StatusOK, nil, `{"analytics":{"data_points":[]},"id":"1"}`
		})
		th := provider.NewThrottle(provider.ThrottleOptions{RequestsPerSecond: 100, Burst: 10, MaxConcurrent: 10})
		client := func(waba string) *Client {
			c, err := New(Options{BaseURL: "https://graph.example.com", APIVersion: "v21.0", AccessToken: "token-" + waba,
				HTTP: &http.Client{Transport: transport}, Throttle: th.Account(waba, 0)})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		q := func(waba string) provider.MessagingQuery {
			return provider.MessagingQuery{WABAID: waba, Window: provider.Window{Start: start.Add(-time.Hour), End: start, Granularity: provider.HalfHour}}
		}
		if _, err := client("1").Messaging(context.Background(), q("1")); err == nil {
			t.Fatal("code 4 is no error")
		}
		if _, err := client("2").Messaging(context.Background(), q("2")); err != nil {
			t.Fatal(err)
		}
		if want := []time.Duration{0, 7 * time.Minute}; len(sent) != 2 || sent[1] != want[1] {
			t.Errorf("requests sent at %v, want %v: the second WABA waits the 7 minutes the first was told", sent, want)
		}
	})
}
