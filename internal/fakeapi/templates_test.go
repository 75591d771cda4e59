package fakeapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// TestTemplateProductTypes: template_analytics answers each product type
// apart (the Marketing Messages API sends marketing templates only), takes
// the former name of the Marketing Messages API too, and refuses others.
func TestTemplateProductTypes(t *testing.T) {
	_, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }})
	ids := []string{"1421988012088524", "2632273056924580"} // a utility and a marketing template
	start := now.AddDate(0, 0, -3)
	sent := func(productType string) map[string]float64 {
		u := templatesURL(srv.URL, ids, start, now, "DAILY")
		if productType != "" {
			u += "&product_type=" + productType
		}
		pts, _ := points(t, get(t, u, token), "")
		out := map[string]float64{}
		for _, p := range pts {
			out[p.Raw["template_id"].(string)] += p.Raw["sent"].(float64)
		}
		return out
	}
	cloud, byDefault := sent("CLOUD_API"), sent("")
	if len(cloud) != 2 || cloud[ids[0]] != byDefault[ids[0]] || cloud[ids[1]] != byDefault[ids[1]] {
		t.Errorf("CLOUD_API %v, no product type %v: want the same two templates", cloud, byDefault)
	}
	mm := sent("MARKETING_MESSAGES_API_FOR_WHATSAPP")
	if len(mm) != 1 || mm[ids[1]] == 0 || mm[ids[1]] == cloud[ids[1]] {
		t.Errorf("Marketing Messages API sends %v, want the marketing template's own", mm)
	}
	if former := sent("MARKETING_MESSAGES_LITE_API"); former[ids[1]] != mm[ids[1]] {
		t.Errorf("the former name answers %v, want %v", former, mm)
	}
	if code := get(t, templatesURL(srv.URL, ids, start, now, "DAILY")+"&product_type=WEB", token).graphErr(t); code != 100 {
		t.Errorf("an unknown product_type answers code %v, want 100", code)
	}
}

// TestTemplatesUnavailableAnswers: a WABA without insights, or where
// template analytics are not offered, is refused; is_enabled_for_insights
// says which.
func TestTemplatesUnavailableAnswers(t *testing.T) {
	for _, tt := range []struct {
		name     string
		modify   func(*fakeapi.WABA)
		status   int
		insights bool
	}{
		{"insights off", func(a *fakeapi.WABA) { a.InsightsDisabled = true }, http.StatusBadRequest, false},
		{"not offered", func(a *fakeapi.WABA) { a.TemplatesUnsupported = true }, http.StatusForbidden, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := retailWABA()
			tt.modify(&a)
			g, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }}, a)
			u := templatesURL(srv.URL, []string{"1421988012088524"}, now.AddDate(0, 0, -3), now, "DAILY")
			ans := get(t, u, token)
			if ans.status != tt.status || ans.graphErr(t) != 100 {
				t.Errorf("status %d, code %v; want %d, 100", ans.status, ans.graphErr(t), tt.status)
			}
			node := get(t, srv.URL+"/v25.0/"+waba+"?fields=is_enabled_for_insights", token).json(t)
			if node["is_enabled_for_insights"] != tt.insights {
				t.Errorf("is_enabled_for_insights %v, want %v", node["is_enabled_for_insights"], tt.insights)
			}
			g.SetTemplatesAvailable(waba)
			if ans := get(t, u, token); ans.status != http.StatusOK {
				t.Errorf("after SetTemplatesAvailable: status %d", ans.status)
			}
		})
	}
}
