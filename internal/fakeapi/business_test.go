package fakeapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

const (
	business      = "805021500648488"
	businessToken = "system-user-token"
)

// someWABAs are n WABAs with IDs from 1000000000000000 on, named after
// their number.
func someWABAs(n int) ([]fakeapi.WABA, []string) {
	var wabas []fakeapi.WABA
	var ids []string
	for i := range n {
		a := retailWABA()
		a.WABAID, a.Name, a.Token = fmt.Sprint(1000000000000000+i), fmt.Sprintf("WABA %d", i), businessToken
		wabas = append(wabas, a)
		ids = append(ids, a.WABAID)
	}
	return wabas, ids
}

// serveBusiness serves a business that owns owned WABAs and is shared
// client others.
func serveBusiness(t *testing.T, owned, client int) (*fakeapi.Graph, string, []string, []string) {
	t.Helper()
	wabas, ids := someWABAs(owned + client)
	g, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now },
		Businesses: []fakeapi.Business{{ID: business, Token: businessToken, Owned: ids[:owned], Client: ids[owned:]}}}, wabas...)
	return g, srv.URL, ids[:owned], ids[owned:]
}

func listingURL(base, edge string, params url.Values) string {
	u := base + "/v25.0/" + business + "/" + edge
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	return u
}

// listed is one listing page: its items and paging.
type listed struct {
	Data   []map[string]any `json:"data"`
	Paging *struct {
		Cursors struct{ Before, After string }
		Next    string
	} `json:"paging"`
}

func listPage(t *testing.T, u string) listed {
	t.Helper()
	a := get(t, u, businessToken)
	if a.status != http.StatusOK {
		t.Fatalf("%s: status %d: %s", u, a.status, a.body)
	}
	var l listed
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatalf("listing is not JSON: %v: %.200s", err, a.body)
	}
	return l
}

// listAll follows a listing's next links and returns the IDs and the page
// sizes.
func listAll(t *testing.T, u string) (ids []string, sizes []int) {
	t.Helper()
	for pages := 0; u != ""; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		l := listPage(t, u)
		for _, item := range l.Data {
			ids = append(ids, item["id"].(string))
		}
		sizes = append(sizes, len(l.Data))
		u = ""
		if l.Paging != nil {
			if l.Paging.Cursors.Before == "" || l.Paging.Cursors.After == "" {
				t.Errorf("page without cursors: %+v", l.Paging)
			}
			u = l.Paging.Next
		}
	}
	return ids, sizes
}

// TestBusinessListing: both edges list their WABAs page by page, with
// Graph's paging (cursors, and an absolute next link that repeats the
// request with after), 25 a page unless asked, at most 100.
func TestBusinessListing(t *testing.T) {
	_, base, owned, client := serveBusiness(t, 130, 4)
	for _, tc := range []struct {
		name  string
		edge  string
		limit string
		want  []string
		sizes []int
	}{
		{"owned, 25 a page by default", "owned_whatsapp_business_accounts", "", owned, []int{25, 25, 25, 25, 25, 5}},
		{"owned, limit 40", "owned_whatsapp_business_accounts", "40", owned, []int{40, 40, 40, 10}},
		{"owned, limit 500 capped at 100", "owned_whatsapp_business_accounts", "500", owned, []int{100, 30}},
		{"client", "client_whatsapp_business_accounts", "3", client, []int{3, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := url.Values{}
			if tc.limit != "" {
				params.Set("limit", tc.limit)
			}
			ids, sizes := listAll(t, listingURL(base, tc.edge, params))
			if !slices.Equal(ids, tc.want) || !slices.Equal(sizes, tc.sizes) {
				t.Errorf("listed %d WABAs in pages %v, want %d in %v", len(ids), sizes, len(tc.want), tc.sizes)
			}
		})
	}
	// The next link stays on the host asked and keeps the request's
	// parameters.
	l := listPage(t, listingURL(base, "owned_whatsapp_business_accounts", url.Values{"limit": {"2"}, "fields": {"id,name"}}))
	next, err := url.Parse(l.Paging.Next)
	if err != nil || !strings.HasPrefix(l.Paging.Next, base+"/v25.0/"+business+"/owned_whatsapp_business_accounts?") ||
		next.Query().Get("after") != l.Paging.Cursors.After || next.Query().Get("fields") != "id,name" || next.Query().Get("limit") != "2" {
		t.Errorf("next link %q (%v), want this listing again after %s", l.Paging.Next, err, l.Paging.Cursors.After)
	}
}

// The fields asked for, the defaults, and Graph's code 100 for a field the
// node does not have.
func TestBusinessListingFields(t *testing.T) {
	_, base, owned, _ := serveBusiness(t, 1, 0)
	for _, tc := range []struct {
		fields string
		want   string
	}{
		{"", fmt.Sprintf("map[currency:USD id:%s name:WABA 0 timezone_id:0]", owned[0])},
		{"id,name", fmt.Sprintf("map[id:%s name:WABA 0]", owned[0])},
		{"name,timezone_id,is_enabled_for_insights", fmt.Sprintf("map[id:%s is_enabled_for_insights:true name:WABA 0 timezone_id:0]", owned[0])},
	} {
		params := url.Values{}
		if tc.fields != "" {
			params.Set("fields", tc.fields)
		}
		if got := fmt.Sprint(listPage(t, listingURL(base, "owned_whatsapp_business_accounts", params)).Data[0]); got != tc.want {
			t.Errorf("fields %q: %s, want %s", tc.fields, got, tc.want)
		}
	}
	ns := listPage(t, listingURL(base, "owned_whatsapp_business_accounts", url.Values{"fields": {"message_template_namespace"}})).Data[0]["message_template_namespace"]
	if s, _ := ns.(string); len(s) != 36 || strings.Count(s, "_") != 4 {
		t.Errorf("message_template_namespace %v, want Meta's shape", ns)
	}
	for _, bad := range []url.Values{{"fields": {"id,analytics"}}, {"fields": {"owner"}}, {"limit": {"many"}}, {"limit": {"0"}}} {
		a := get(t, listingURL(base, "owned_whatsapp_business_accounts", bad), businessToken)
		if a.status != http.StatusBadRequest || a.graphErr(t) != 100 {
			t.Errorf("%v: status %d code %v, want 400 code 100", bad, a.status, a.graphErr(t))
		}
	}
}

func TestBusinessListingAuth(t *testing.T) {
	_, base, owned, _ := serveBusiness(t, 2, 0)
	u := listingURL(base, "owned_whatsapp_business_accounts", nil)
	for _, tc := range []struct {
		name, url, bearer string
		status            int
		code, subcode     float64
	}{
		{"the business's token", u, businessToken, 200, 0, 0},
		{"no token", u, "", 401, 190, 0},
		{"a WABA's token", u, token, 401, 190, 0},
		{"an unknown business", strings.Replace(u, business, "999", 1), businessToken, 400, 100, 33},
		{"a WABA is not a business", strings.Replace(u, business, owned[0], 1), businessToken, 400, 100, 33},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := get(t, tc.url, tc.bearer)
			e, _ := a.json(t)["error"].(map[string]any)
			if a.status != tc.status || a.graphErr(t) != tc.code || (tc.subcode != 0 && e["error_subcode"] != tc.subcode) {
				t.Errorf("status %d: %s; want %d code %v subcode %v", a.status, a.body, tc.status, tc.code, tc.subcode)
			}
		})
	}
}

// WABAs come and go while the exporter runs: the listings follow, and a
// removed WABA's node answers as unknown.
func TestBusinessWABAsChange(t *testing.T) {
	g, base, owned, client := serveBusiness(t, 3, 2)
	u := listingURL(base, "owned_whatsapp_business_accounts", nil)
	extra, extraIDs := someWABAs(6)
	added := extra[5]
	g.AddWABA(added)
	b, ok := g.Business(business)
	if !ok {
		t.Fatal("no business")
	}
	b.Owned = append(b.Owned, extraIDs[5])
	g.SetBusiness(b)
	if ids, _ := listAll(t, u); !slices.Equal(ids, append(slices.Clone(owned), extraIDs[5])) {
		t.Errorf("after adding a WABA: %v", ids)
	}
	if a := get(t, base+"/v25.0/"+extraIDs[5]+"?fields=name", businessToken); a.status != http.StatusOK {
		t.Errorf("the added WABA's node: %d %s", a.status, a.body)
	}

	g.RemoveWABA(owned[1])
	g.RemoveWABA(client[0])
	if ids, _ := listAll(t, u); !slices.Equal(ids, []string{owned[0], owned[2], extraIDs[5]}) {
		t.Errorf("after removing a WABA: %v", ids)
	}
	if ids, _ := listAll(t, listingURL(base, "client_whatsapp_business_accounts", nil)); !slices.Equal(ids, client[1:]) {
		t.Errorf("client WABAs after removing one: %v", ids)
	}
	if b, _ := g.Business(business); slices.Contains(b.Owned, owned[1]) {
		t.Errorf("the business still lists the removed WABA: %v", b.Owned)
	}
	if a := get(t, base+"/v25.0/"+owned[1]+"?fields=name", businessToken); a.graphErr(t) != 100 {
		t.Errorf("the removed WABA's node: %d %s, want code 100", a.status, a.body)
	}
	// An ID the fake holds no WABA for is not listed.
	b, _ = g.Business(business)
	b.Owned = append(b.Owned, "123")
	g.SetBusiness(b)
	if ids, _ := listAll(t, u); len(ids) != 3 {
		t.Errorf("an ID without a WABA is listed: %v", ids)
	}
}

// A listing fails like any other request under every fault, and the fault
// is spent like any other.
func TestBusinessListingFaults(t *testing.T) {
	tests := []struct {
		fault fakeapi.Fault
		check func(t *testing.T, a answer)
	}{
		{fakeapi.Fault{Kind: fakeapi.RateLimit, RegainMinutes: 3}, func(t *testing.T, a answer) {
			if a.status != http.StatusTooManyRequests || a.graphErr(t) != 4 {
				t.Errorf("status %d code %v, want 429 code 4", a.status, a.graphErr(t))
			}
		}},
		{fakeapi.Fault{Kind: fakeapi.ServerError}, func(t *testing.T, a answer) {
			if a.status != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503", a.status)
			}
		}},
		{fakeapi.Fault{Kind: fakeapi.Malformed}, func(t *testing.T, a answer) {
			if a.status != http.StatusOK || json.Valid(a.body) {
				t.Errorf("status %d, valid %v; want 200 with broken JSON", a.status, json.Valid(a.body))
			}
		}},
		{fakeapi.Fault{Kind: fakeapi.WrongTypes}, func(t *testing.T, a answer) {
			if data, _ := a.json(t)["data"].([]any); len(data) != 1 || fmt.Sprint(data[0].(map[string]any)["id"]) != "map[id:1]" {
				t.Errorf("want a listing whose id is not a string: %s", a.body)
			}
		}},
		{fakeapi.Fault{Kind: fakeapi.Slow, Delay: 10 * time.Millisecond}, func(t *testing.T, a answer) {
			if a.status != http.StatusOK {
				t.Errorf("a slow listing: %d", a.status)
			}
		}},
		{fakeapi.Fault{Kind: fakeapi.InvalidToken}, func(t *testing.T, a answer) {
			if a.status != http.StatusUnauthorized || a.graphErr(t) != 190 {
				t.Errorf("status %d code %v, want 401 code 190", a.status, a.graphErr(t))
			}
		}},
		{fakeapi.Fault{Kind: fakeapi.Huge, Size: 1 << 20}, func(t *testing.T, a answer) {
			if a.status != http.StatusOK || len(a.body) < 1<<20 || !json.Valid(a.body) || a.json(t)["data"] == nil {
				t.Errorf("status %d, %d bytes; want 1 MiB of a valid listing", a.status, len(a.body))
			}
		}},
		{fakeapi.Fault{Kind: fakeapi.EndlessPages}, func(t *testing.T, a answer) {
			var l listed
			json.Unmarshal(a.body, &l)
			if l.Paging == nil || l.Paging.Next == "" {
				t.Errorf("the last page has no next link: %s", a.body)
			}
		}},
		{fakeapi.Fault{Kind: fakeapi.ForeignNext}, func(t *testing.T, a answer) {
			var l listed
			json.Unmarshal(a.body, &l)
			if l.Paging == nil || !strings.Contains(l.Paging.Next, "attacker.invalid") {
				t.Errorf("next link %+v, want one to another host", l.Paging)
			}
		}},
		{fakeapi.Fault{Kind: fakeapi.EchoToken}, func(t *testing.T, a answer) {
			if a.status != http.StatusBadRequest || !strings.Contains(string(a.body), businessToken) {
				t.Errorf("status %d %s, want a 400 quoting the token", a.status, a.body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.fault.Kind), func(t *testing.T) {
			g, base, owned, _ := serveBusiness(t, 2, 1)
			u := listingURL(base, "owned_whatsapp_business_accounts", url.Values{"limit": {"1"}})
			if tt.fault.Kind == fakeapi.EndlessPages {
				u = listingURL(base, "owned_whatsapp_business_accounts", url.Values{"after": {"MQ"}}) // the last page
			}
			f := tt.fault
			f.Times = 1
			g.Inject(business, f)
			tt.check(t, get(t, u, businessToken))
			if l := listPage(t, u); len(l.Data) != 1 || !slices.Contains(owned, l.Data[0]["id"].(string)) {
				t.Errorf("after the fault was spent: %+v", l)
			}
		})
	}

	// A fault for one edge spoils only that edge's listings.
	g, base, _, _ := serveBusiness(t, 2, 1)
	g.Inject(business, fakeapi.Fault{Kind: fakeapi.ServerError, Op: "client_whatsapp_business_accounts", Times: 1})
	for i, tc := range []struct {
		edge   string
		status int
	}{{"owned_whatsapp_business_accounts", 200}, {"client_whatsapp_business_accounts", 503}, {"client_whatsapp_business_accounts", 200}} {
		if a := get(t, listingURL(base, tc.edge, nil), businessToken); a.status != tc.status {
			t.Errorf("request %d to %s: status %d, want %d", i, tc.edge, a.status, tc.status)
		}
	}
}

// Listing calls are counted per business and edge, and in the totals.
func TestBusinessListingStats(t *testing.T) {
	g, base, _, _ := serveBusiness(t, 5, 1)
	listAll(t, listingURL(base, "owned_whatsapp_business_accounts", url.Values{"limit": {"2"}}))
	listAll(t, listingURL(base, "client_whatsapp_business_accounts", nil))
	get(t, listingURL(base, "owned_whatsapp_business_accounts", nil), "") // refused, counted
	s := g.BusinessStats(business)
	host := strings.TrimPrefix(base, "http://")
	if s.Requests != 5 || s.ByOperation["owned_whatsapp_business_accounts"] != 4 || s.ByOperation["client_whatsapp_business_accounts"] != 1 || s.ByHost[host] != 5 {
		t.Errorf("business stats %+v, want 4 owned and 1 client listing", s)
	}
	if total := g.Totals(); total.ListingRequests != 5 || total.WABARequests != 0 || total.Requests != 5 || total.WABAs != 0 {
		t.Errorf("totals %+v, want 5 listing requests and no WABA's", total)
	}
}
