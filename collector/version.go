package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
)

// The account's API version: what it asks for, what answered, and when the
// version asked for ends. Absent for an API without versions.
var (
	apiVersionInfoDesc = newDesc("exporter_api_version_info",
		"The Graph API version the account's requests name (configured) and the one the API last answered in (served, from the facebook-api-version header; empty until an answer named one); always 1.",
		"waba_id", "configured", "served")
	apiVersionExpiryDesc = newDesc("exporter_api_version_expiry_timestamp_seconds",
		"When Meta stops serving the configured Graph API version, as a Unix timestamp; absent when not known.",
		"waba_id", "version")
)

func renderVersion(s *analytics.Snapshot) []prometheus.Metric {
	v := s.APIVersion
	if v == nil {
		return nil
	}
	out := []prometheus.Metric{
		prometheus.MustNewConstMetric(apiVersionInfoDesc, prometheus.GaugeValue, 1, s.WABAID, v.Configured, v.Served),
	}
	if !v.Expires.IsZero() {
		out = append(out, prometheus.MustNewConstMetric(apiVersionExpiryDesc, prometheus.GaugeValue, float64(v.Expires.Unix()), s.WABAID, v.Configured))
	}
	return out
}
