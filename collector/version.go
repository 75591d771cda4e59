package collector

import "github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"

// The account's API version: what it asks for, what answered, and when the
// version asked for ends. Absent for an API without versions.
var (
	apiVersionInfo = newGauge("exporter_api_version_info",
		"The Graph API version the account's requests name (configured) and the one the API last answered in (served, from the facebook-api-version header; empty until an answer named one); always 1.",
		"waba_id", "configured", "served")
	apiVersionExpiry = newGauge("exporter_api_version_expiry_timestamp_seconds",
		"When Meta stops serving the configured Graph API version, as a Unix timestamp; absent when not known.",
		"waba_id", "version")
)

func (w *walker) version(s *analytics.Snapshot) {
	v := s.APIVersion
	if v == nil {
		return
	}
	w.add(apiVersionInfo, 1, v.Configured, v.Served)
	if !v.Expires.IsZero() {
		w.add(apiVersionExpiry, float64(v.Expires.Unix()), v.Configured)
	}
}
