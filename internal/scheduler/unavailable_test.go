package scheduler

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// TestTemplatesUnavailable: a WABA whose template analytics are not served
// (insights never enabled; a WABA in the EU or Japan) is not a failing
// family: it is logged once with why, marked unavailable, not asked again
// for a day nor retried sooner than its interval, and asked again after it;
// the other families go on. Against the fake Graph API.
func TestTemplatesUnavailable(t *testing.T) {
	for _, tt := range []struct {
		name   string
		modify func(*fakeapi.WABA)
		reason string
	}{
		{"insights not enabled", func(a *fakeapi.WABA) { a.InsightsDisabled = true }, provider.ReasonInsightsDisabled},
		{"not offered where the WABA is", func(a *fakeapi.WABA) { a.TemplatesUnsupported = true }, provider.ReasonNotSupported},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(testNow)
			acct := testFakeAccount(wabaA, "token")
			tt.modify(&acct)
			graph, url := fakeGraph(t, []fakeapi.WABA{acct}, fakeapi.Options{Now: clk.Now})
			logs := &logBuffer{}
			e := newExporter([]Target{metaTarget(t, testAccount(t, wabaA, url, "token", onlyFamilies("messaging", "templates")))},
				Options{Now: clk.Now, Logger: logs.logger()})
			want := func(templates string) string {
				return fmt.Sprintf(`
# HELP whatsapp_exporter_family_available Whether the API serves the family for this account (1), or says it does not, for the reason given (0; re-checked daily).
# TYPE whatsapp_exporter_family_available gauge
whatsapp_exporter_family_available{family="messaging",reason="",waba_id="1001"} 1
%s
# HELP whatsapp_exporter_refresh_success Whether the last refresh of the family succeeded (1) or failed (0).
# TYPE whatsapp_exporter_refresh_success gauge
whatsapp_exporter_refresh_success{family="messaging",waba_id="1001"} 1
whatsapp_exporter_refresh_success{family="templates",waba_id="1001"} %s
`, templates, map[bool]string{true: "0", false: "1"}[strings.Contains(templates, "} 0")])
			}
			unavailable := fmt.Sprintf(`whatsapp_exporter_family_available{family="templates",reason=%q,waba_id="1001"} 0`, tt.reason)
			names := []string{"whatsapp_exporter_family_available", "whatsapp_exporter_refresh_success"}

			var delays []time.Duration
			for range 4 {
				delays = append(delays, e.pollers[0].refresh(context.Background()))
				clk.Add(15 * time.Minute)
			}
			if err := testutil.CollectAndCompare(e, strings.NewReader(want(unavailable)), names...); err != nil {
				t.Error(err)
			}
			if n := logs.count("level=warn", "family=templates", "reason="+tt.reason); n != 1 {
				t.Errorf("%d warnings about the unavailable family in 4 refreshes, want 1:\n%s", n, logs)
			}
			if n := logs.count("Refresh failed", "family=templates"); n != 0 {
				t.Errorf("the unavailable family was logged as failing:\n%s", logs)
			}
			for _, d := range delays {
				if d < 15*time.Minute*9/10 {
					t.Errorf("next refresh in %s: an unavailable family must not be retried sooner than the interval", d)
				}
			}
			if n := graph.Stats(wabaA).ByOperation["template_analytics"]; n != 1 {
				t.Errorf("%d template_analytics requests in an hour, want 1: not asked again for a day", n)
			}
			if n := len(lines(exposition(t, e, wabaA), "whatsapp_template_")); n != 0 {
				t.Errorf("%d template series from an unavailable family", n)
			}

			// A day later the exporter asks again; in between, insights
			// were enabled (or the WABA moved): the family is back.
			graph.SetTemplatesAvailable(wabaA)
			clk.Add(RecheckUnavailable)
			e.pollers[0].refresh(context.Background())
			if err := testutil.CollectAndCompare(e, strings.NewReader(want(`whatsapp_exporter_family_available{family="templates",reason="",waba_id="1001"} 1`)), names...); err != nil {
				t.Error(err)
			}
			if n := logs.count("level=info", "Refresh recovered", "family=templates"); n != 1 {
				t.Errorf("%d recovery lines, want 1:\n%s", n, logs)
			}
		})
	}
}

// TestTemplateProductRefused: an account whose API refuses the Marketing
// Messages API's template analytics keeps its Cloud API ones, logs it once,
// and asks again a day later.
func TestTemplateProductRefused(t *testing.T) {
	clk := newClock(testNow)
	var mmRequests int
	srvURL := startStub(t, func(op string, q url.Values) (int, http.Header, string) {
		switch op {
		case "message_templates":
			return ok(`{"data":[{"id":"71"}]}`)
		case "template_analytics":
			if q.Get("product_type") != "CLOUD_API" {
				mmRequests++
				return http.StatusBadRequest, nil, `{"error":{"message":"(#200) The WhatsApp Business Account is not onboarded to the Marketing Messages API","code":200}}`
			}
			return ok(`{"data":[{"data_points":[{"template_id":"71","start":` + fmt.Sprint(day(2)) + `,"end":` + fmt.Sprint(day(3)) + `,"sent":5,"delivered":5,"read":5}]}]}`)
		}
		return notFound(op)
	})
	logs := &logBuffer{}
	e := newExporter([]Target{metaTarget(t, testAccount(t, wabaA, srvURL, "token", onlyFamilies("templates")))},
		Options{Now: clk.Now, Logger: logs.logger()})
	for range 3 {
		refreshAll(e)
		clk.Add(15 * time.Minute)
	}
	text := exposition(t, e, wabaA)
	if got := lines(text, "whatsapp_template_sent_newest{"); len(got) != 1 || !strings.Contains(got[0], `product_type="cloud_api"`) || !strings.HasSuffix(got[0], " 5") {
		t.Errorf("template series %q, want the Cloud API's", got)
	}
	if got := lines(text, "whatsapp_exporter_refresh_success{"); len(got) != 1 || !strings.HasSuffix(got[0], " 1") {
		t.Errorf("refresh_success %q, want 1", got)
	}
	if n := logs.count("level=info", "product_type=marketing_messages"); n != 1 {
		t.Errorf("%d lines about the refused product, want 1:\n%s", n, logs)
	}
	// One refused request; the month so far (fetched by the first
	// refresh, after the refusal) did not ask again either.
	if mmRequests != 1 {
		t.Errorf("%d Marketing Messages requests in three refreshes, want 1", mmRequests)
	}
	clk.Add(RecheckUnavailable)
	refreshAll(e)
	if mmRequests != 2 {
		t.Errorf("%d Marketing Messages requests after a day, want 2", mmRequests)
	}
}
