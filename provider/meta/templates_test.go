package meta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

const templatePage = `{"data":[{"granularity":"DAILY","product_type":"cloud_api","data_points":[{"template_id":"7","start":0,"end":86400,"sent":3}]}]}`

// TestTemplateProductType: each product goes out under its documented
// product_type; an API that refuses the current name of the Marketing
// Messages API gets the former one, from then on.
func TestTemplateProductType(t *testing.T) {
	g := newGraph(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Query().Get("product_type") == "MARKETING_MESSAGES_API_FOR_WHATSAPP" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":{"message":"(#100) Param product_type must be one of {CLOUD_API, MARKETING_MESSAGES_LITE_API} - got \"MARKETING_MESSAGES_API_FOR_WHATSAPP\".","type":"OAuthException","code":100}}`)
			return
		}
		fmt.Fprint(w, templatePage)
	})
	c := newClient(t, g.URL)
	q := provider.TemplateQuery{WABAID: wabaID, Window: window(0, 86400, provider.Day), TemplateIDs: []string{"7"}}
	for _, product := range []provider.TemplateProduct{provider.CloudAPI, provider.MarketingMessages, provider.MarketingMessages, ""} {
		q.Product = product
		pts, err := c.Templates(context.Background(), q)
		if err != nil || len(pts) != 1 || *pts[0].Sent != 3 {
			t.Fatalf("%q: points %+v, error %v", product, pts, err)
		}
	}
	var sent []string
	for _, r := range g.seen() {
		sent = append(sent, r.Query.Get("product_type"))
	}
	want := []string{"CLOUD_API", "MARKETING_MESSAGES_API_FOR_WHATSAPP", "MARKETING_MESSAGES_LITE_API", "MARKETING_MESSAGES_LITE_API", ""}
	if strings.Join(sent, " ") != strings.Join(want, " ") {
		t.Errorf("product_type sent %q, want %q", sent, want)
	}
}

// TestTemplatesUnavailable: the refusals that mean "no template analytics
// for this WABA" get a provider.Unavailable cause with their reason; every
// other failure stays an ordinary one.
func TestTemplatesUnavailable(t *testing.T) {
	const insightsOff, insightsOn = `{"is_enabled_for_insights":false,"id":"1"}`, `{"is_enabled_for_insights":true,"id":"1"}`
	for _, tt := range []struct {
		name     string
		status   int
		body     string
		insights string // the answer about is_enabled_for_insights; "" when none is expected
		want     string // the reason, "" for an ordinary failure
	}{
		{"EU or Japan, named", 400, `{"error":{"message":"Template analytics are not supported for WhatsApp Business Accounts in the European Union or Japan.","code":100}}`, "", provider.ReasonNotSupported},
		{"insights off", 400, `{"error":{"message":"(#100) Invalid request","code":100}}`, insightsOff, provider.ReasonInsightsDisabled},
		{"a 403 with insights on", 403, `{"error":{"message":"(#200) Permissions error","code":200}}`, insightsOn, provider.ReasonNotSupported},
		{"a third party's subcode", 400, `{"error":{"message":"Invalid parameter","code":100,"error_subcode":4182004}}`, insightsOn, provider.ReasonNotSupported},
		{"bad parameter, insights on", 400, `{"error":{"message":"(#100) start must be within the last 90 days","code":100}}`, insightsOn, ""},
		{"bad parameter, field unreadable", 400, `{"error":{"message":"(#100) Invalid parameter","code":100}}`, `{"error":{"message":"no","code":100}}`, ""},
		{"expired token", 401, `{"error":{"message":"Error validating access token","code":190}}`, "", ""},
		{"rate limit", 400, `{"error":{"message":"too many calls","code":80008}}`, "", ""},
		{"server error", 503, `<html>503</html>`, "", ""},
		{"cost not available", 400, `{"error":{"message":"Cost is no longer shown for businesses who bill through a partner","code":100,"error_user_title":"Cost not available"}}`, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if strings.HasSuffix(r.URL.Path, "/template_analytics") {
					w.WriteHeader(tt.status)
					fmt.Fprint(w, tt.body)
					return
				}
				if tt.insights == "" || r.URL.Query().Get("fields") != "is_enabled_for_insights" {
					t.Errorf("unexpected request %s?%s", r.URL.Path, r.URL.RawQuery)
				}
				if strings.Contains(tt.insights, "error") {
					w.WriteHeader(http.StatusBadRequest)
				}
				fmt.Fprint(w, tt.insights)
			})
			_, err := newClient(t, g.URL).Templates(context.Background(), provider.TemplateQuery{
				WABAID: wabaID, Window: window(0, 86400, provider.Day), TemplateIDs: []string{"7"}, Product: provider.CloudAPI})
			if err == nil {
				t.Fatal("no error")
			}
			var u *provider.Unavailable
			got := ""
			if errors.As(err, &u) {
				got = u.Reason
			}
			if got != tt.want {
				t.Errorf("reason %q, want %q (error %v)", got, tt.want, err)
			}
		})
	}
}
