package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
)

// The API version: the info series always (served empty until an answer
// named one), the expiry only when known, nothing for an API without
// versions.
func TestRenderVersion(t *testing.T) {
	names := []string{"whatsapp_exporter_api_version_info", "whatsapp_exporter_api_version_expiry_timestamp_seconds"}
	for _, tt := range []struct {
		name string
		snap analytics.Snapshot
		want string
	}{
		{
			name: "served another version, end known",
			snap: analytics.Snapshot{WABAID: "1", APIVersion: &analytics.APIVersion{
				Configured: "v21.0", Served: "v22.0", Expires: time.Date(2027, 1, 21, 0, 0, 0, 0, time.UTC)}},
			want: `
# HELP whatsapp_exporter_api_version_expiry_timestamp_seconds When Meta stops serving the configured Graph API version, as a Unix timestamp; absent when not known.
# TYPE whatsapp_exporter_api_version_expiry_timestamp_seconds gauge
whatsapp_exporter_api_version_expiry_timestamp_seconds{version="v21.0",waba_id="1"} 1.8004896e+09
# HELP whatsapp_exporter_api_version_info The Graph API version the account's requests name (configured) and the one the API last answered in (served, from the facebook-api-version header; empty until an answer named one); always 1.
# TYPE whatsapp_exporter_api_version_info gauge
whatsapp_exporter_api_version_info{configured="v21.0",served="v22.0",waba_id="1"} 1
`,
		},
		{
			name: "nothing served yet, end not known",
			snap: analytics.Snapshot{WABAID: "1", APIVersion: &analytics.APIVersion{Configured: "v27.0"}},
			want: `
# HELP whatsapp_exporter_api_version_info The Graph API version the account's requests name (configured) and the one the API last answered in (served, from the facebook-api-version header; empty until an answer named one); always 1.
# TYPE whatsapp_exporter_api_version_info gauge
whatsapp_exporter_api_version_info{configured="v27.0",served="",waba_id="1"} 1
`,
		},
		{
			name: "an API without versions",
			snap: analytics.Snapshot{WABAID: "1", Provider: "vonage"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{})
			c.Publish(&tt.snap)
			if err := testutil.CollectAndCompare(c, strings.NewReader(tt.want), names...); err != nil {
				t.Error(err)
			}
		})
	}
}
