package fakeapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// usageOf reads a WABA's entry of X-Business-Use-Case-Usage.
func usageOf(t *testing.T, a answer, wabaID string) map[string]float64 {
	t.Helper()
	var usage map[string][]map[string]any
	if err := json.Unmarshal([]byte(a.header.Get("X-Business-Use-Case-Usage")), &usage); err != nil || len(usage[wabaID]) != 1 {
		t.Fatalf("usage header %q: %v", a.header.Get("X-Business-Use-Case-Usage"), err)
	}
	out := map[string]float64{}
	for k, v := range usage[wabaID][0] {
		if f, ok := v.(float64); ok {
			out[k] = f
		}
	}
	return out
}

// TestWABABudgets: a WABA's own hourly budget wins over the fake's; past
// it, the analytics answer 80007 and the edges Meta documents 80008 for
// answer 80008, with the minutes until access returns; other WABAs pass.
func TestWABABudgets(t *testing.T) {
	small := retailWABA()
	small.WABAID, small.HourlyBudget = "200200200200200", 2 // a WABA without a registered number
	large := retailWABA()
	large.WABAID, large.HourlyBudget = "500050005000500", 5
	plain := retailWABA()
	clk := &settable{t: now}
	_, srv := serve(t, fakeapi.Options{Now: clk.Now, HourlyBudget: 3}, small, large, plain)
	analytics := func(id string) string {
		return fmt.Sprintf("%s/v25.0/%s?fields=analytics.start(%d).end(%d).granularity(HALF_HOUR)", srv.URL, id, now.Add(-time.Hour).Unix(), now.Unix())
	}
	codes := func(u string, n int) []float64 {
		var out []float64
		for range n {
			a := get(t, u, token)
			if a.status == http.StatusOK {
				out = append(out, 0)
			} else {
				out = append(out, a.graphErr(t))
			}
		}
		return out
	}
	for _, tc := range []struct {
		name, url string
		calls     int
		want      string
	}{
		{"the WABA's own budget of 2", analytics(small.WABAID), 3, "[0 0 80007]"},
		{"the WABA's own budget of 5", analytics(large.WABAID), 6, "[0 0 0 0 0 80007]"},
		{"the fake's budget of 3", analytics(plain.WABAID), 4, "[0 0 0 80007]"},
	} {
		if got := fmt.Sprint(codes(tc.url, tc.calls)); got != tc.want {
			t.Errorf("%s: codes %s, want %s", tc.name, got, tc.want)
		}
	}

	// Half an hour on, the small WABA still waits half an hour; its edges
	// answer 80008.
	clk.Set(now.Add(30 * time.Minute))
	a := get(t, analytics(small.WABAID), token)
	if a.graphErr(t) != 80007 {
		t.Fatalf("half an hour on: %s", a.body)
	}
	if u := usageOf(t, a, small.WABAID); u["call_count"] != 100 || u["estimated_time_to_regain_access"] != 30 {
		t.Errorf("usage %v, want call_count 100 and 30 minutes to regain access", u)
	}
	for _, edge := range []string{"phone_numbers", "message_templates"} {
		if code := get(t, srv.URL+"/v25.0/"+small.WABAID+"/"+edge, token).graphErr(t); code != 80008 {
			t.Errorf("%s past the budget: code %v, want 80008", edge, code)
		}
	}
	// Refused calls count too: once the hour after them has passed, the
	// WABA passes again.
	clk.Set(now.Add(91 * time.Minute))
	if a := get(t, analytics(small.WABAID), token); a.status != http.StatusOK {
		t.Errorf("an hour on: %d %s", a.status, a.body)
	} else if u := usageOf(t, a, small.WABAID); u["call_count"] != 50 || u["estimated_time_to_regain_access"] != 0 {
		t.Errorf("usage an hour on %v, want 50%% used", u)
	}
}

// TestAppBudget: with an app budget, every answer reports X-App-Usage, and
// past the budget every WABA gets code 4 until the hour has passed; without
// one there is no such header.
func TestAppBudget(t *testing.T) {
	other := retailWABA()
	other.WABAID = "104996122399160"
	clk := &settable{t: now}
	_, srv := serve(t, fakeapi.Options{Now: clk.Now, AppHourlyBudget: 4}, retailWABA(), other)
	u := func(id string) string { return srv.URL + "/v25.0/" + id + "?fields=currency" }
	var seen []string
	for i, id := range []string{waba, other.WABAID, waba, other.WABAID, waba} {
		a := get(t, u(id), token)
		seen = append(seen, fmt.Sprintf("%d:%s", a.status, a.header.Get("X-App-Usage")))
		if i == 4 && (a.status != http.StatusTooManyRequests || a.graphErr(t) != 4) {
			t.Errorf("the fifth call of the app: %d %s, want 429 code 4", a.status, a.body)
		}
	}
	want := `[200:{"call_count":25,"total_cputime":12,"total_time":12} 200:{"call_count":50,"total_cputime":25,"total_time":25} ` +
		`200:{"call_count":75,"total_cputime":37,"total_time":37} 200:{"call_count":100,"total_cputime":50,"total_time":50} ` +
		`429:{"call_count":100,"total_cputime":50,"total_time":50}]`
	if got := fmt.Sprint(seen); got != want {
		t.Errorf("answers %s\nwant %s", got, want)
	}
	clk.Set(now.Add(61 * time.Minute))
	if a := get(t, u(other.WABAID), token); a.status != http.StatusOK {
		t.Errorf("an hour on: %d %s", a.status, a.body)
	}

	_, plain := serve(t, fakeapi.Options{Now: clk.Now})
	if h := get(t, plain.URL+"/v25.0/"+waba+"?fields=currency", token).header.Get("X-App-Usage"); h != "" {
		t.Errorf("without an app budget, X-App-Usage %q", h)
	}
}
