package fakeapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// TestCallAnalytics: call_analytics answers as the Analytics page shows:
// data points without a data wrapper, count, average_duration and cost;
// the directions filter echoed; partner-billed WABAs refused cost.
func TestCallAnalytics(t *testing.T) {
	_, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }})
	start, end := now.Add(-6*time.Hour), now
	all, _ := points(t, get(t, fieldURL(srv.URL, "call_analytics", start, end, "HALF_HOUR", ""), token), "call_analytics")
	if len(all) == 0 {
		t.Fatal("no calls in six hours")
	}
	var total float64
	for _, p := range all {
		if p.End-p.Start != 1800 || p.Raw["count"].(float64) <= 0 || p.Raw["average_duration"].(float64) < 60 || p.Raw["cost"] == nil {
			t.Errorf("point %v", p.Raw)
		}
		total += p.Raw["count"].(float64)
	}
	var split float64
	for _, d := range []string{"USER_INITIATED", "BUSINESS_INITIATED"} {
		a := get(t, fieldURL(srv.URL, "call_analytics", start, end, "HALF_HOUR", `.directions(["`+d+`"])`), token)
		if got := a.json(t)["call_analytics"].(map[string]any)["directions"]; got != d {
			t.Errorf("directions %v, want %s echoed", got, d)
		}
		pts, _ := points(t, a, "call_analytics")
		for _, p := range pts {
			split += p.Raw["count"].(float64)
			if c := p.Raw["cost"].(float64); (d == "USER_INITIATED") != (c == 0) {
				t.Errorf("%s calls cost %v: only business-initiated calls cost", d, c)
			}
		}
	}
	if split != total {
		t.Errorf("calls by direction add up to %v, all calls %v", split, total)
	}
	if code := get(t, fieldURL(srv.URL, "call_analytics", start, end, "WEEKLY", ""), token).graphErr(t); code != 100 {
		t.Errorf("granularity WEEKLY answers code %v, want 100", code)
	}

	partner := retailWABA()
	partner.PartnerBilled = true
	_, psrv := serve(t, fakeapi.Options{Now: func() time.Time { return now }}, partner)
	if a := get(t, fieldURL(psrv.URL, "call_analytics", start, end, "HALF_HOUR", `.metric_types(["COUNT","COST"])`), token); a.status != http.StatusBadRequest {
		t.Errorf("partner-billed cost: status %d, want 400", a.status)
	}
}
