package examples

import (
	"strings"
	"testing"
)

// TestAPIAlertConventions holds whatsapp-api-alerts.yml to the conventions
// TestAlertConventions holds whatsapp-alerts.yml to: one group of alerts
// only, each named WhatsApp*, with a severity a router can use, annotations
// that name the WABA, and unit tests in which it fires and stays quiet.
func TestAPIAlertConventions(t *testing.T) {
	var alerts ruleGroups
	readYAML(t, "rules/whatsapp-api-alerts.yml", &alerts)
	if len(alerts.Groups) != 1 || alerts.Groups[0].Name != "whatsapp-api" {
		t.Fatalf("whatsapp-api-alerts.yml: want one group named whatsapp-api, got %d groups", len(alerts.Groups))
	}
	var names []string
	for _, r := range alerts.Groups[0].Rules {
		if r.Alert == "" {
			t.Errorf("recording rule %s belongs in whatsapp-recording.yml", r.Record)
			continue
		}
		names = append(names, r.Alert)
		if !strings.HasPrefix(r.Alert, "WhatsAppAPIVersion") {
			t.Errorf("alert %s: names in this file start with WhatsAppAPIVersion", r.Alert)
		}
		if s := r.Labels["severity"]; s != "warning" && s != "critical" {
			t.Errorf("alert %s: severity %q, want warning or critical", r.Alert, s)
		}
		if !strings.Contains(r.Annotations["summary"]+r.Annotations["description"], "$labels.waba_id") {
			t.Errorf("alert %s: the annotations must name the WABA ($labels.waba_id)", r.Alert)
		}
	}
	if len(names) != 2 {
		t.Errorf("alerts %v, want WhatsAppAPIVersionExpiring and WhatsAppAPIVersionMismatch", names)
	}

	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	readYAML(t, "rules/whatsapp-api-alerts.test.yml", &tests)
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	for _, n := range names {
		if !fires[n] || !quiet[n] {
			t.Errorf("alert %s: tested firing %v, tested quiet %v; want both", n, fires[n], quiet[n])
		}
	}
}
