package fakeapi_test

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// edgeItems asks an edge of the fake for fields and returns its items.
func edgeItems(t *testing.T, base, version, edge, fields string) []map[string]any {
	t.Helper()
	u := base + "/" + version + "/" + waba + "/" + edge
	if fields != "" {
		u += "?" + url.Values{"fields": {fields}}.Encode()
	}
	a := get(t, u, token)
	if a.status != http.StatusOK {
		t.Fatalf("%s: status %d: %s", u, a.status, a.body)
	}
	var items []map[string]any
	for _, item := range a.json(t)["data"].([]any) {
		items = append(items, item.(map[string]any))
	}
	return items
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Like Graph, the fake answers only the fields asked for (and the id), or
// its defaults when asked for none.
func TestEdgesHonourFields(t *testing.T) {
	_, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }})
	for _, tt := range []struct {
		edge, fields string
		want         []string
	}{
		{"phone_numbers", "status,quality_rating", []string{"id", "quality_rating", "status"}},
		{"phone_numbers", "display_phone_number", []string{"display_phone_number", "id"}},
		{"phone_numbers", "", []string{"display_phone_number", "id", "quality_rating", "verified_name"}},
		{"phone_numbers", "id,display_phone_number,verified_name,status,quality_rating,name_status,throughput,health_status,messaging_limit_tier",
			[]string{"display_phone_number", "health_status", "id", "messaging_limit_tier", "name_status", "quality_rating", "status", "throughput", "verified_name"}},
		{"message_templates", "id", []string{"id"}},
		{"message_templates", "", []string{"category", "id", "language", "name", "status"}},
		{"message_templates", "id,name,language,status,category,quality_score", []string{"category", "id", "language", "name", "quality_score", "status"}},
	} {
		for _, item := range edgeItems(t, srv.URL, "v21.0", tt.edge, tt.fields) {
			if got := keys(item); !slices.Equal(got, tt.want) {
				t.Errorf("%s?fields=%s: item has %v, want %v", tt.edge, tt.fields, got, tt.want)
			}
		}
	}
}

// The messaging limit is in messaging_limit_tier up to v23.0 and in
// whatsapp_business_manager_messaging_limit from v24.0; each version knows
// only its own field, and no version knows a field Graph does not have.
func TestMessagingLimitFieldByVersion(t *testing.T) {
	_, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }})
	for _, tt := range []struct {
		version, field string
		ok             bool
	}{
		{"v21.0", "messaging_limit_tier", true},
		{"v23.0", "messaging_limit_tier", true},
		{"v24.0", "messaging_limit_tier", false},
		{"v21.0", "whatsapp_business_manager_messaging_limit", false},
		{"v24.0", "whatsapp_business_manager_messaging_limit", true},
		{"v27.0", "whatsapp_business_manager_messaging_limit", true},
		{"v25.0", "messaging_tier", false},
		{"v25.0", "quality_score", false}, // a template's field, not a number's
	} {
		u := srv.URL + "/" + tt.version + "/" + waba + "/phone_numbers?" + url.Values{"fields": {"id," + tt.field}}.Encode()
		a := get(t, u, token)
		if ok := a.status == http.StatusOK; ok != tt.ok {
			t.Errorf("%s %s: status %d, want ok %v: %s", tt.version, tt.field, a.status, tt.ok, a.body)
		}
		if !tt.ok && a.graphErr(t) != 100 {
			t.Errorf("%s %s: want Graph error 100, got %s", tt.version, tt.field, a.body)
		}
	}
}

// Every health field, with the defaults of a healthy number and template
// and with the values a WABA sets; Update changes what the next answer says.
func TestHealthFields(t *testing.T) {
	a := retailWABA()
	a.Phones[0].Health = fakeapi.PhoneHealth{} // the defaults, whatever the demo says
	a.Phones[1].Health = fakeapi.PhoneHealth{ID: "106540352242922", VerifiedName: "Acme", Status: "FLAGGED", Quality: "RED",
		NameStatus: "PENDING_REVIEW", Throughput: "HIGH", Limit: "TIER_2K", CanSend: "BLOCKED"}
	a.Templates[0].Status, a.Templates[0].Quality, a.Templates[0].Language = "", "", ""
	a.Templates[1].Status, a.Templates[1].Quality, a.Templates[1].Language = "PAUSED", "YELLOW", "pt_BR"
	g, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }}, a)

	const phoneFields = "display_phone_number,verified_name,status,quality_rating,name_status,throughput,health_status,whatsapp_business_manager_messaging_limit"
	phones := edgeItems(t, srv.URL, "v25.0", "phone_numbers", phoneFields)
	if len(phones) != len(a.Phones) {
		t.Fatalf("%d numbers, want %d", len(phones), len(a.Phones))
	}
	summary := func(p map[string]any) []any {
		hs := p["health_status"].(map[string]any)
		return []any{p["id"], p["display_phone_number"], p["verified_name"], p["status"], p["quality_rating"], p["name_status"],
			p["throughput"].(map[string]any)["level"], hs["can_send_message"], p["whatsapp_business_manager_messaging_limit"]}
	}
	if got, want := summary(phones[0]), []any{"100000000000001", "+1 650-555-0111", waba, "CONNECTED", "GREEN", "APPROVED", "STANDARD", "AVAILABLE", "TIER_10K"}; !reflect.DeepEqual(got, want) {
		t.Errorf("default number: %v, want %v", got, want)
	}
	if got, want := summary(phones[1]), []any{"106540352242922", "+1 650-555-0112", "Acme", "FLAGGED", "RED", "PENDING_REVIEW", "HIGH", "BLOCKED", "TIER_2K"}; !reflect.DeepEqual(got, want) {
		t.Errorf("set number: %v, want %v", got, want)
	}
	// A blocked number says why, in its entity.
	entities := phones[1]["health_status"].(map[string]any)["entities"].([]any)
	if _, ok := entities[0].(map[string]any)["errors"]; !ok {
		t.Errorf("a BLOCKED number's entity has no errors: %v", entities[0])
	}

	templates := edgeItems(t, srv.URL, "v25.0", "message_templates", "id,name,language,status,category,quality_score")
	tsum := func(m map[string]any) []any {
		return []any{m["id"], m["name"], m["language"], m["status"], m["category"], m["quality_score"].(map[string]any)["score"]}
	}
	if got, want := tsum(templates[0]), []any{"1421988012088524", "order_confirmation", "en_US", "APPROVED", "UTILITY", "GREEN"}; !reflect.DeepEqual(got, want) {
		t.Errorf("default template: %v, want %v", got, want)
	}
	if got, want := tsum(templates[1]), []any{"2632273056924580", "spring_sale", "pt_BR", "PAUSED", "MARKETING", "YELLOW"}; !reflect.DeepEqual(got, want) {
		t.Errorf("set template: %v, want %v", got, want)
	}

	g.Update(waba, func(w *fakeapi.WABA) {
		w.Phones[0].Health.Quality = "YELLOW"
		w.Templates[0].Status = "DISABLED"
	})
	if got := edgeItems(t, srv.URL, "v21.0", "phone_numbers", "quality_rating")[0]["quality_rating"]; got != "YELLOW" {
		t.Errorf("after Update, quality_rating %v, want YELLOW", got)
	}
	if got := edgeItems(t, srv.URL, "v21.0", "message_templates", "status")[0]["status"]; got != "DISABLED" {
		t.Errorf("after Update, status %v, want DISABLED", got)
	}
}

// A fault with an Op spoils only that edge's (or field's) requests, and
// lets the others pass while it waits for them.
func TestFaultForOneOperation(t *testing.T) {
	g, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }})
	g.Inject(waba, fakeapi.Fault{Kind: fakeapi.ServerError, Op: "phone_numbers", Times: 1})
	for i, tt := range []struct {
		edge   string
		status int
	}{
		{"message_templates", http.StatusOK},
		{"phone_numbers", http.StatusServiceUnavailable},
		{"phone_numbers", http.StatusOK},
	} {
		if a := get(t, srv.URL+"/v21.0/"+waba+"/"+tt.edge, token); a.status != tt.status {
			t.Errorf("request %d to %s: status %d, want %d", i, tt.edge, a.status, tt.status)
		}
	}
}
