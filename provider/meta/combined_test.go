package meta

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// familyRecorder tells the families of a combined request apart, as the
// scheduler's observer does: the first answer reports to it, each family's
// further pages to that family's recorder.
type familyRecorder struct {
	recorder
	mu       sync.Mutex
	families map[provider.Family]*recorder
}

func (r *familyRecorder) Family(f provider.Family) provider.Observer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.families == nil {
		r.families = map[provider.Family]*recorder{}
	}
	if r.families[f] == nil {
		r.families[f] = &recorder{}
	}
	return r.families[f]
}

func (r *familyRecorder) responses(f provider.Family) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rec := r.families[f]; rec != nil {
		return rec.responses
	}
	return nil
}

// combinedAnswer answers the combined request with every field and a
// conversation_analytics that pages twice more, each further page asked for
// on its own; further pages of pricing answer with body.
func combinedAnswer(pricingPage string) func(w http.ResponseWriter, r *http.Request, n int) {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json")
		next := func(after string) string {
			return fmt.Sprintf(`"paging":{"cursors":{"after":%q},"next":"http://%s/v25.0/%s?fields=conversation_analytics.start(0).end(3600).granularity(HALF_HOUR)&after=%s"}`, after, r.Host, wabaID, after)
		}
		switch r.URL.Query().Get("after") {
		case "":
			io.WriteString(w, `{"currency":"EUR","timezone_id":"1",`+
				`"analytics":{"granularity":"HALF_HOUR","data_points":[{"start":0,"end":1800,"sent":10,"delivered":9}]},`+
				`"conversation_analytics":{"data":[{"data_points":[{"start":0,"end":1800,"conversation":1}]}],`+next("p2")+`},`+
				`"pricing_analytics":`+pricingPage+`,`+
				`"call_analytics":{"data_points":[{"start":0,"end":1800,"count":2}]},"id":"`+wabaID+`"}`)
		case "p2":
			io.WriteString(w, `{"data":[{"data_points":[{"start":1800,"end":3600,"conversation":2}]}],`+next("p3")+`}`)
		case "p3":
			io.WriteString(w, `{"data":[{"data_points":[{"start":1800,"end":3600,"conversation":3}]}]}`)
		}
	}
}

func fullFieldsQuery() provider.FieldsQuery {
	w := window(0, 3600, provider.HalfHour)
	return provider.FieldsQuery{
		WABAID: wabaID, WABAFields: true,
		Messaging:     &provider.MessagingQuery{WABAID: wabaID, Window: w, CountryCodes: []string{"US"}},
		Conversations: &provider.ConversationQuery{WABAID: wabaID, Window: w, Cost: true},
		Pricing:       &provider.PricingQuery{WABAID: wabaID, Window: window(0, 86400, provider.Day), Dimensions: []string{"COUNTRY"}},
		Calls:         &provider.CallQuery{WABAID: wabaID, Window: w},
	}
}

func TestFieldsOneRequestEachFieldPagedOnItsOwn(t *testing.T) {
	g := newGraph(t, combinedAnswer(`{"data":[{"data_points":[{"start":0,"end":86400,"volume":5,"country":"US"}]}]}`))
	c := newClient(t, g.URL, func(o *Options) { o.AppSecret = appSecret })
	rec := &familyRecorder{}
	var got []provider.FieldResult
	waba, err := c.Fields(provider.WithObserver(context.Background(), rec), fullFieldsQuery(), func(r provider.FieldResult) { got = append(got, r) })
	if err != nil {
		t.Fatal(err)
	}
	if waba.Currency != "EUR" || waba.Location == nil {
		t.Errorf("WABA fields %+v, want currency EUR and a time zone", waba)
	}
	seen := g.seen()
	if len(seen) != 3 {
		t.Fatalf("%d requests, want 3: one for every field, two further pages of conversation_analytics", len(seen))
	}
	fields := seen[0].Query.Get("fields")
	for _, want := range []string{"currency", "timezone_id",
		"analytics.start(0).end(3600).granularity(HALF_HOUR).country_codes([\"US\"])",
		"conversation_analytics.start(0).end(3600).granularity(HALF_HOUR).metric_types([\"CONVERSATION\",\"COST\"])",
		"pricing_analytics.start(0).end(86400).granularity(DAILY).metric_types([\"VOLUME\"]).dimensions([\"COUNTRY\"])",
		"call_analytics.start(0).end(3600).granularity(HALF_HOUR)"} {
		if !strings.Contains(fields, want) {
			t.Errorf("fields=%s\nlacks %s", fields, want)
		}
	}
	for _, r := range seen {
		checkCredentials(t, r, proof(token, appSecret))
	}
	wantFamilies := []provider.Family{provider.Messaging, provider.Conversations, provider.Pricing, provider.Calls}
	var families []provider.Family
	for _, r := range got {
		families = append(families, r.Family)
		if r.Err != nil {
			t.Errorf("%s: %v", r.Family, r.Err)
		}
	}
	if !reflect.DeepEqual(families, wantFamilies) {
		t.Fatalf("delivered %v, want %v", families, wantFamilies)
	}
	if len(got[0].Messaging) != 1 || *got[0].Messaging[0].Sent != 10 {
		t.Errorf("messaging %+v", got[0].Messaging)
	}
	var conversations []float64
	for _, p := range got[1].Conversations {
		conversations = append(conversations, *p.Conversations)
	}
	if !reflect.DeepEqual(conversations, []float64{1, 2, 3}) || got[1].Pages != 3 {
		t.Errorf("conversations %v in %d pages, want [1 2 3] in 3", conversations, got[1].Pages)
	}
	if len(got[2].Pricing) != 1 || got[2].Pricing[0].Country != "US" || got[2].Pages != 1 {
		t.Errorf("pricing %+v", got[2])
	}
	if len(got[3].Calls) != 1 || *got[3].Calls[0].Count != 2 {
		t.Errorf("calls %+v", got[3].Calls)
	}
	// The combined answer reports to the request's observer, the further
	// pages to their family's.
	if len(rec.recorder.responses) != 1 || len(rec.responses(provider.Conversations)) != 2 || len(rec.responses(provider.Pricing)) != 0 {
		t.Errorf("responses: request %v, conversations %v, pricing %v", rec.recorder.responses, rec.responses(provider.Conversations), rec.responses(provider.Pricing))
	}
}

func proof(token, secret string) string {
	c, _ := New(Options{BaseURL: "http://x", AccessToken: token, AppSecret: secret})
	return c.proof
}

// TestFieldsFailAlone: one field's trouble (a broken answer, a paging link
// off the API's host) fails that family alone.
func TestFieldsFailAlone(t *testing.T) {
	tests := []struct {
		name, pricing, code string
	}{
		{"wrong types", `{"data":[{"data_points":[{"start":0,"end":86400,"volume":"many"}]}]}`, provider.CodeMalformedResponse},
		{"foreign paging link", `{"data":[{"data_points":[]}],"paging":{"next":"https://collector.attacker.invalid/v25.0/1?after=x"}}`, provider.CodeForeignNextURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, combinedAnswer(tt.pricing))
			results := map[provider.Family]provider.FieldResult{}
			_, err := newClient(t, g.URL).Fields(context.Background(), fullFieldsQuery(), func(r provider.FieldResult) { results[r.Family] = r })
			if err != nil {
				t.Fatal(err)
			}
			if e := apiError(t, results[provider.Pricing].Err); e.Code != tt.code || results[provider.Pricing].Pricing != nil {
				t.Errorf("pricing: %+v, want %s and no points", results[provider.Pricing], tt.code)
			}
			for _, f := range []provider.Family{provider.Messaging, provider.Conversations, provider.Calls} {
				if results[f].Err != nil {
					t.Errorf("%s failed with pricing: %v", f, results[f].Err)
				}
			}
			if len(results[provider.Conversations].Conversations) != 3 {
				t.Errorf("conversations %+v", results[provider.Conversations])
			}
		})
	}
}

// TestFieldsRequestRefused: an error answer to the combined request is the
// request's error, and no family is delivered.
func TestFieldsRequestRefused(t *testing.T) {
	g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"message":"Cost is no longer shown for businesses who bill through a partner (i.e., BSP).","type":"OAuthException","code":100,"error_user_title":"Cost not available"}}`)
	})
	delivered := 0
	_, err := newClient(t, g.URL).Fields(context.Background(), fullFieldsQuery(), func(provider.FieldResult) { delivered++ })
	if e := apiError(t, err); e.Err != provider.ErrCostUnavailable || delivered != 0 {
		t.Errorf("error %+v, %d delivered; want cost unavailable and none", e, delivered)
	}
}

func TestListWABAs(t *testing.T) {
	const business = "506914307656634"
	g := newGraph(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		page := func(items, next string) {
			if next != "" {
				next = fmt.Sprintf(`,"paging":{"cursors":{"after":"c"},"next":"http://%s%s?%s&after=c"}`, r.Host, r.URL.Path, r.URL.RawQuery)
			}
			io.WriteString(w, `{"data":[`+items+`]`+next+`}`)
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/owned_whatsapp_business_accounts") && r.URL.Query().Get("after") == "":
			page(`{"id":"111","name":"Own One","currency":"USD","timezone_id":"1"},{"id":"../222","name":"bad id"},{"name":"no id"}`, "more")
		case strings.HasSuffix(r.URL.Path, "/owned_whatsapp_business_accounts"):
			page(`{"id":"333","name":"Own Two"}`, "")
		case strings.HasSuffix(r.URL.Path, "/client_whatsapp_business_accounts"):
			page(`{"id":"444","name":"Client","currency":"BRL"},{"id":"111","name":"listed twice"}`, "")
		default:
			w.WriteHeader(404)
		}
	})
	got, err := newClient(t, g.URL).ListWABAs(context.Background(), provider.ListQuery{BusinessID: business, Ownerships: []string{provider.Owned, provider.Client}})
	if err != nil {
		t.Fatal(err)
	}
	la := got[0].Location
	want := []provider.DiscoveredWABA{
		// Currency and time zone listed: the WABA's own need not be read.
		{ID: "111", Name: "Own One", Currency: "USD", Location: la, Ownership: provider.Owned, Complete: true},
		{ID: "333", Name: "Own Two", Ownership: provider.Owned},
		{ID: "444", Name: "Client", Currency: "BRL", Ownership: provider.Client},
	}
	if !reflect.DeepEqual(got, want) || la == nil {
		t.Errorf("listed %+v\nwant %+v", got, want)
	}
	seen := g.seen()
	if len(seen) != 3 {
		t.Fatalf("%d requests, want 3", len(seen))
	}
	for _, r := range seen[:1] {
		if !strings.HasSuffix(r.Path, "/"+business+"/owned_whatsapp_business_accounts") || r.Query.Get("limit") != "100" || r.Query.Get("fields") != "id,name,currency,timezone_id" {
			t.Errorf("request %s?%s", r.Path, r.RawQuery)
		}
		checkCredentials(t, r, "")
	}
	if _, err := newClient(t, g.URL).ListWABAs(context.Background(), provider.ListQuery{Ownerships: []string{provider.Owned}}); err == nil {
		t.Error("a listing without a business ID succeeded")
	}
}
