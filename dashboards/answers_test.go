package dashboards

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/promtest"
)

// staleData is the exporter's health at 3h (10800 s), from one that started
// at 30m (1800 s): WABA 1's messaging refreshed 10 minutes ago and its
// templates are unavailable (no insights), last served long ago; WABA 2's
// pricing last succeeded 90 minutes ago and its messaging never did; WABA
// 3's first refresh never finished.
var staleData = []string{
	`process_start_time_seconds{job="whatsapp", instance="e:9919"} 1800x200`,
	`whatsapp_exporter_account_info{job="whatsapp", instance="e:9919", waba_id="1", name="One", provider="meta", currency="USD"} 1x200`,
	`whatsapp_exporter_account_info{job="whatsapp", instance="e:9919", waba_id="2", name="Two", provider="meta", currency="EUR"} 1x200`,
	`whatsapp_exporter_account_info{job="whatsapp", instance="e:9919", waba_id="3", name="Three", provider="meta", currency=""} 1x200`,
	`whatsapp_exporter_refresh_success{job="whatsapp", instance="e:9919", waba_id="1", family="messaging"} 1x200`,
	`whatsapp_exporter_refresh_last_success_timestamp_seconds{job="whatsapp", instance="e:9919", waba_id="1", family="messaging"} 10200x200`,
	`whatsapp_exporter_family_available{job="whatsapp", instance="e:9919", waba_id="1", family="messaging", reason=""} 1x200`,
	`whatsapp_exporter_refresh_success{job="whatsapp", instance="e:9919", waba_id="1", family="templates"} 0x200`,
	`whatsapp_exporter_refresh_last_success_timestamp_seconds{job="whatsapp", instance="e:9919", waba_id="1", family="templates"} 600x200`,
	`whatsapp_exporter_family_available{job="whatsapp", instance="e:9919", waba_id="1", family="templates", reason="insights_disabled"} 0x200`,
	`whatsapp_exporter_refresh_success{job="whatsapp", instance="e:9919", waba_id="2", family="pricing"} 0x200`,
	`whatsapp_exporter_refresh_last_success_timestamp_seconds{job="whatsapp", instance="e:9919", waba_id="2", family="pricing"} 5400x200`,
	`whatsapp_exporter_family_available{job="whatsapp", instance="e:9919", waba_id="2", family="pricing", reason=""} 1x200`,
	`whatsapp_exporter_refresh_success{job="whatsapp", instance="e:9919", waba_id="2", family="messaging"} 0x200`,
	`whatsapp_exporter_family_available{job="whatsapp", instance="e:9919", waba_id="2", family="messaging", reason=""} 1x200`,
}

// listingData: two replicas list business 1; replica a listed it last at
// 600 s and succeeded, replica b at 3000 s and has failed since. Each
// reports the 3 WABAs the filters keep.
var listingData = []string{
	`whatsapp_exporter_discovery_last_success_timestamp_seconds{job="whatsapp", instance="a:9919", business="1", provider="meta"} 600x60`,
	`whatsapp_exporter_discovery_last_success_timestamp_seconds{job="whatsapp", instance="b:9919", business="1", provider="meta"} 3000x60`,
	`whatsapp_exporter_discovery_success{job="whatsapp", instance="a:9919", business="1", provider="meta"} 1x60`,
	`whatsapp_exporter_discovery_success{job="whatsapp", instance="b:9919", business="1", provider="meta"} 0x60`,
	`whatsapp_exporter_discovery_wabas{job="whatsapp", instance="a:9919", business="1", provider="meta"} 3x60`,
	`whatsapp_exporter_discovery_wabas{job="whatsapp", instance="b:9919", business="1", provider="meta"} 3x60`,
}

// templateData: five templates of WABA 1, as state sets: approved and RED,
// paused and RED, disabled and RED, rejected and RED, approved and GREEN.
var templateData = func() []string {
	var out []string
	for _, tpl := range []struct{ id, status, quality string }{
		{"t1", "APPROVED", "RED"}, {"t2", "PAUSED", "RED"}, {"t3", "DISABLED", "RED"},
		{"t4", "REJECTED", "RED"}, {"t5", "APPROVED", "GREEN"},
	} {
		for _, s := range []string{"APPROVED", "PAUSED", "DISABLED", "REJECTED"} {
			out = append(out, `whatsapp_template_status{job="whatsapp", instance="e:9919", waba_id="1", template_id="`+tpl.id+`", status="`+s+`"} `+oneIf(s == tpl.status))
		}
		for _, q := range []string{"GREEN", "YELLOW", "RED", "UNKNOWN"} {
			out = append(out, `whatsapp_template_quality_score{job="whatsapp", instance="e:9919", waba_id="1", template_id="`+tpl.id+`", quality_score="`+q+`"} `+oneIf(q == tpl.quality))
		}
	}
	return out
}()

func oneIf(b bool) string {
	if b {
		return "1x10"
	}
	return "0x10"
}

// TestPanelsAnswerTheirTitles evaluates panels whose query is easy to get
// subtly wrong, with promtool, on data where the wrong answer differs from
// the right one: each must return exactly what its title and description
// say, and agree with the alert it names.
func TestPanelsAnswerTheirTitles(t *testing.T) {
	tool := promtest.Promtool(t)
	staleAlert := alertExpr(t, "../examples/rules/whatsapp-alerts.yml", "WhatsAppExporterDataStale")
	type sample struct {
		Labels string  `yaml:"labels"`
		Value  float64 `yaml:"value"`
	}
	tests := []struct {
		name     string
		series   []string
		expr     string
		evalTime string
		want     []sample
	}{
		{
			// The unavailable templates (10200 s) are left out, as the
			// alert leaves them out; the never-refreshed count from the
			// start (9000 s), as the alert counts them.
			name:   "Oldest successful refresh",
			series: staleData, evalTime: "3h",
			expr: panelExpr(t, "whatsapp-exporter-health.json", "Oldest successful refresh"),
			want: []sample{{"{}", 9000}},
		},
		{
			name:   "the stale-data alert, at its worst",
			series: staleData, evalTime: "3h",
			expr: "max(" + staleAlert + ")",
			want: []sample{{"{}", 9000}},
		},
		{
			// A line per family that has succeeded once and is served.
			name:   "Time since last successful refresh",
			series: staleData, evalTime: "3h",
			expr: panelExpr(t, "whatsapp-exporter-health.json", "Time since last successful refresh"),
			want: []sample{
				{`{job="whatsapp", instance="e:9919", waba_id="1", family="messaging", name="One"}`, 600},
				{`{job="whatsapp", instance="e:9919", waba_id="2", family="pricing", name="Two"}`, 5400},
			},
		},
		{
			// On the replica that listed it longest ago: 3600 - 600 s.
			name:   "Time since the last successful listing",
			series: listingData, evalTime: "1h",
			expr: panelExpr(t, "whatsapp-exporter-health.json", "Time since the last successful listing"),
			want: []sample{{`{business="1", provider="meta"}`, 3000}},
		},
		{
			// Failed on one replica: failed, as the alert says.
			name:   "Listing success",
			series: listingData, evalTime: "1h",
			expr: panelExpr(t, "whatsapp-exporter-health.json", "Listing success"),
			want: []sample{{`{business="1", provider="meta"}`, 0}},
		},
		{
			name:   "the discovery-failing alert",
			series: listingData, evalTime: "1h",
			expr: alertExpr(t, "../examples/rules/whatsapp-fleet-alerts.yml", "WhatsAppExporterDiscoveryFailing"),
			want: []sample{{`{job="whatsapp", business="1", provider="meta"}`, 0}},
		},
		{
			// Kept WABAs, as both replicas report them: 3, not 6.
			name:   "WABAs per business, kept",
			series: listingData, evalTime: "1h",
			expr: panelQuery(t, "whatsapp-exporter-health.json", "WABAs per business (last listing)", "B"),
			want: []sample{{`{business="1", provider="meta"}`, 3}},
		},
		{
			// Approved or paused, and RED: t1 and t2. Not the disabled or
			// rejected ones (4 without the status filter).
			name:   "Templates with RED quality",
			series: templateData, evalTime: "5m",
			expr: panelExpr(t, "whatsapp-account-health.json", "Templates with RED quality"),
			want: []sample{{"{}", 2}},
		},
	}

	type exprTest struct {
		Expr     string   `yaml:"expr"`
		EvalTime string   `yaml:"eval_time"`
		Samples  []sample `yaml:"exp_samples"`
	}
	type input struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	type group struct {
		Interval string     `yaml:"interval"`
		Input    []input    `yaml:"input_series"`
		Tests    []exprTest `yaml:"promql_expr_test"`
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := group{Interval: "1m", Tests: []exprTest{{Expr: tt.expr, EvalTime: tt.evalTime, Samples: tt.want}}}
			for _, s := range tt.series {
				i := strings.LastIndex(s, " ")
				g.Input = append(g.Input, input{Series: s[:i], Values: s[i+1:]})
			}
			raw, err := yaml.Marshal(map[string]any{"tests": []group{g}})
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "panel.test.yml")
			if err := os.WriteFile(file, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(tool, "test", "rules", file).CombinedOutput()
			if err != nil {
				t.Errorf("%s returns something else than it says:\n  query: %s\n%s", tt.name, tt.expr, out)
			}
		})
	}
}

// grafanaVariable is a dashboard variable in a query: $name or ${name}.
var grafanaVariable = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)

// panelExpr is the query of the panel titled title, which has one, with
// every variable at All and Grafana's range variables at an hour.
func panelExpr(t *testing.T, board, title string) string {
	t.Helper()
	return panelQuery(t, board, title, "")
}

// panelQuery is the query refID of the panel titled title ("": its only
// query), with every variable at All and Grafana's range variables at an
// hour.
func panelQuery(t *testing.T, board, title, refID string) string {
	t.Helper()
	b, _ := load(t, board)
	for _, p := range allPanels(b.Panels) {
		if p.Title != title {
			continue
		}
		i := slices.IndexFunc(p.Targets, func(tg target) bool { return tg.RefID == refID })
		if refID == "" && len(p.Targets) == 1 {
			i = 0
		}
		if i < 0 {
			t.Fatalf("%s: panel %q has no query %q (it has %d)", board, title, refID, len(p.Targets))
		}
		return substituteAll(p.Targets[i].Expr, nil, nil)
	}
	t.Fatalf("%s: no panel %q", board, title)
	return ""
}

// alertExpr is the expression of an alert of a rule file.
func alertExpr(t *testing.T, file, alert string) string {
	t.Helper()
	for _, r := range promtest.Rules(t, file) {
		if r.Alert == alert {
			return r.Expr
		}
	}
	t.Fatalf("%s: no alert %s", file, alert)
	return ""
}
