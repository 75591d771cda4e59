package meta

import (
	"net/http"
	"testing"
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
