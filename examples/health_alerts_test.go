package examples

import (
	"slices"
	"strings"
	"testing"
)

// TestHealthAlertConventions holds the account health alerts to what
// TestAlertConventions asks of the others: one group of alerts only, named
// apart from the other files' groups (a PrometheusRule holds them all),
// WhatsApp* names, a severity a router can use, annotations that name the
// WABA and the number or template, and a unit test in which each fires and
// one in which it stays quiet.
func TestHealthAlertConventions(t *testing.T) {
	var alerts ruleGroups
	readYAML(t, "rules/whatsapp-health-alerts.yml", &alerts)
	if len(alerts.Groups) != 1 || alerts.Groups[0].Name != "whatsapp-health" {
		t.Fatalf("whatsapp-health-alerts.yml: want one group named whatsapp-health, got %d groups", len(alerts.Groups))
	}
	var names []string
	for _, r := range alerts.Groups[0].Rules {
		if r.Alert == "" {
			t.Errorf("recording rule %s belongs in whatsapp-recording.yml", r.Record)
			continue
		}
		names = append(names, r.Alert)
		if !strings.HasPrefix(r.Alert, "WhatsApp") {
			t.Errorf("alert %s: names start with WhatsApp", r.Alert)
		}
		if s := r.Labels["severity"]; s != "warning" && s != "critical" {
			t.Errorf("alert %s: severity %q, want warning or critical", r.Alert, s)
		}
		text := r.Annotations["summary"] + r.Annotations["description"]
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" || !strings.Contains(text, "$labels.waba_id") {
			t.Errorf("alert %s: needs summary and description annotations that name the WABA", r.Alert)
		}
		if !strings.Contains(text, "$labels.phone_number") && !strings.Contains(text, "$labels.template_id") {
			t.Errorf("alert %s: the annotations must name the phone number or template", r.Alert)
		}
		for _, by := range []string{"job", "instance", "waba_id"} {
			if !strings.Contains(r.Expr, by) {
				t.Errorf("alert %s: group by job, instance and waba_id, so that replicas are judged apart", r.Alert)
			}
		}
	}
	want := []string{"WhatsAppPhoneNumberQualityRed", "WhatsAppPhoneNumberFlaggedOrRestricted",
		"WhatsAppTemplatePausedOrDisabled", "WhatsAppMessagingLimitLowered"}
	if !slices.Equal(names, want) {
		t.Errorf("alerts %v, want %v", names, want)
	}

	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	readYAML(t, "rules/whatsapp-health-alerts.test.yml", &tests)
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

	// Group names are unique across the rule files: the PrometheusRule
	// puts every group in one list, where Prometheus rejects a repeated
	// name.
	rules, _ := ruleFiles(t)
	seen := map[string]string{}
	for _, f := range rules {
		var doc ruleGroups
		readYAML(t, f, &doc)
		for _, g := range doc.Groups {
			if other, dup := seen[g.Name]; dup {
				t.Errorf("group %s is in %s and %s", g.Name, other, f)
			}
			seen[g.Name] = f
		}
	}
}
