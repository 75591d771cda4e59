package examples

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAlertConventions checks what promtool does not, for every file of
// alerts: its alerts sit in one group of their own (a PrometheusRule holds
// every file's groups in one list), apart from the recording rules; each is
// named WhatsApp*, carries a severity a router can use and summary and
// description annotations that name the WABA; and each has a unit test in
// which it fires and one in which it stays quiet.
func TestAlertConventions(t *testing.T) {
	for _, tc := range []struct {
		file, group, prefix string
		// want lists alerts the file must have; exact says it has no other.
		want  []string
		exact bool
		// check adds what the file's alerts must do besides.
		check func(t *testing.T, alert, expr, annotations string)
		// about is what each alert's annotations must name; a WABA
		// ($labels.waba_id) unless said otherwise.
		about []string
	}{
		{
			file: "rules/whatsapp-alerts.yml", group: "whatsapp", prefix: "WhatsApp",
			want: []string{"WhatsAppDeliveryRateLow", "WhatsAppDeliveryRateDrop", "WhatsAppExporterRefreshFailing",
				"WhatsAppExporterDataStale", "WhatsAppAPIRateLimitNearLimit", "WhatsAppAPITokenInvalid"},
		},
		{
			file: "rules/whatsapp-health-alerts.yml", group: "whatsapp-health", prefix: "WhatsApp",
			want: []string{"WhatsAppPhoneNumberQualityRed", "WhatsAppPhoneNumberFlaggedOrRestricted",
				"WhatsAppTemplatePausedOrDisabled", "WhatsAppMessagingLimitLowered"},
			exact: true,
			check: func(t *testing.T, alert, expr, annotations string) {
				if !strings.Contains(annotations, "$labels.phone_number") && !strings.Contains(annotations, "$labels.template_id") {
					t.Errorf("alert %s: the annotations must name the phone number or template", alert)
				}
				for _, by := range []string{"job", "instance", "waba_id"} {
					if !strings.Contains(expr, by) {
						t.Errorf("alert %s: group by job, instance and waba_id, so that replicas are judged apart", alert)
					}
				}
			},
		},
		{
			file: "rules/whatsapp-api-alerts.yml", group: "whatsapp-api", prefix: "WhatsAppAPIVersion",
			want: []string{"WhatsAppAPIVersionExpiring", "WhatsAppAPIVersionMismatch"}, exact: true,
		},
		{
			// About a replica's budget, and about a business: one alert per
			// business however many replicas list it.
			file: "rules/whatsapp-fleet-alerts.yml", group: "whatsapp-fleet", prefix: "WhatsAppExporter",
			want: []string{"WhatsAppExporterFleetOutgrewItsInterval", "WhatsAppExporterDiscoveryFailing"}, exact: true,
			about: []string{"$labels.instance", "$labels.business"},
			check: func(t *testing.T, alert, expr, annotations string) {
				if strings.Contains(expr, "discovery") && strings.Contains(expr, "instance") {
					t.Errorf("alert %s: every replica lists every business; aggregate the replicas away", alert)
				}
			},
		},
		{
			file: "rules/whatsapp-webhook-alerts.yml", group: "whatsapp-webhooks", prefix: "WhatsAppWebhook",
			want: []string{"WhatsAppWebhookDeliveryFailuresHigh", "WhatsAppWebhookErrorCodeSpike"}, exact: true,
			check: func(t *testing.T, alert, expr, _ string) {
				// Minutes, not hours: the point of the webhooks.
				if !strings.Contains(expr, "[5m]") {
					t.Errorf("alert %s: judge the last 5 minutes", alert)
				}
				for _, by := range []string{"job", "instance", "waba_id"} {
					if !strings.Contains(expr, by) {
						t.Errorf("alert %s: group by job, instance and waba_id, so that replicas are judged apart", alert)
					}
				}
			},
		},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			var alerts ruleGroups
			readYAML(t, tc.file, &alerts)
			if len(alerts.Groups) != 1 || alerts.Groups[0].Name != tc.group {
				t.Fatalf("%s: want one group named %s, got %d groups", tc.file, tc.group, len(alerts.Groups))
			}
			var names []string
			for _, r := range alerts.Groups[0].Rules {
				if r.Alert == "" {
					t.Errorf("recording rule %s belongs in whatsapp-recording.yml", r.Record)
					continue
				}
				names = append(names, r.Alert)
				if !strings.HasPrefix(r.Alert, tc.prefix) {
					t.Errorf("alert %s: names in this file start with %s", r.Alert, tc.prefix)
				}
				if s := r.Labels["severity"]; s != "warning" && s != "critical" {
					t.Errorf("alert %s: severity %q, want warning or critical", r.Alert, s)
				}
				annotations := r.Annotations["summary"] + r.Annotations["description"]
				if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
					t.Errorf("alert %s: needs summary and description annotations", r.Alert)
				}
				// Every alert but the one about the scrape itself is about a
				// WABA, or what its file says.
				about := tc.about
				if about == nil {
					about = []string{"$labels.waba_id"}
				}
				if r.Alert != "WhatsAppExporterDown" && !slices.ContainsFunc(about, func(a string) bool { return strings.Contains(annotations, a) }) {
					t.Errorf("alert %s: the annotations must name what it is about (%s)", r.Alert, strings.Join(about, " or "))
				}
				if tc.check != nil {
					tc.check(t, r.Alert, r.Expr, annotations)
				}
			}
			for _, want := range tc.want {
				if !slices.Contains(names, want) {
					t.Errorf("no alert %s", want)
				}
			}
			if tc.exact && len(names) != len(tc.want) {
				t.Errorf("alerts %v, want only %v", names, tc.want)
			}
			fires, quiet := alertTests(t, filepath.Base(tc.file))
			for _, n := range names {
				if !fires[n] || !quiet[n] {
					t.Errorf("alert %s: tested firing %v, tested quiet %v; want both", n, fires[n], quiet[n])
				}
			}
		})
	}
}

// alertTests reads every unit test file of the rules that loads ruleFile
// (a file's tests may be split over several, as a week of history needs a
// coarser evaluation interval) and says which alerts a test expects to
// fire, and which one expects to stay quiet.
func alertTests(t *testing.T, ruleFile string) (fires, quiet map[string]bool) {
	t.Helper()
	fires, quiet = map[string]bool{}, map[string]bool{}
	_, testFiles := ruleFiles(t)
	for _, f := range testFiles {
		var tests struct {
			RuleFiles []string `yaml:"rule_files"`
			Tests     []struct {
				AlertRuleTest []struct {
					Alertname string `yaml:"alertname"`
					ExpAlerts []any  `yaml:"exp_alerts"`
				} `yaml:"alert_rule_test"`
			} `yaml:"tests"`
		}
		readYAML(t, f, &tests)
		if !slices.Contains(tests.RuleFiles, ruleFile) {
			continue
		}
		for _, tc := range tests.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					quiet[a.Alertname] = true
				}
			}
		}
	}
	return fires, quiet
}

// TestRecordingRuleNames keeps the recording rules apart from the alerts
// and named level:metric:operations.
func TestRecordingRuleNames(t *testing.T) {
	var recording ruleGroups
	readYAML(t, "rules/whatsapp-recording.yml", &recording)
	for _, g := range recording.Groups {
		for _, r := range g.Rules {
			if r.Record == "" {
				t.Errorf("alert %s belongs in an alerts file", r.Alert)
			} else if strings.Count(r.Record, ":") != 2 {
				t.Errorf("recording rule %s: name it level:metric:operations", r.Record)
			}
		}
	}
}

// TestRuleGroupNamesUnique: the PrometheusRule puts every file's groups in
// one list, where Prometheus rejects a repeated name.
func TestRuleGroupNamesUnique(t *testing.T) {
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
