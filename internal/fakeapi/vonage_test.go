package fakeapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

const (
	vonageWABA   = "345688589250625"
	vonageOther  = "345688589250626"
	vonageKey    = "a1b2c3d4"
	vonageSecret = "vonage-secret"
)

var vonageNow = time.Date(2024, 11, 14, 12, 10, 0, 0, time.UTC)

func vonageAccounts() []fakeapi.WABA {
	a := demo.VonageWABAs()[0]
	a.APIKey, a.Token = vonageKey, vonageSecret
	b := a
	b.WABAID, b.APIKey, b.Token = vonageOther, "e5f6a7b8", "other-secret"
	return []fakeapi.WABA{a, b}
}

func serveVonage(t *testing.T, opts fakeapi.Options) (*fakeapi.Vonage, *httptest.Server) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return vonageNow }
	}
	v := fakeapi.NewVonage(vonageAccounts(), opts)
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	return v, srv
}

type vonageAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

func vonageDo(t *testing.T, method, rawURL, key, secret string) vonageAnswer {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.SetBasicAuth(key, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := vonageAnswer{status: resp.StatusCode, header: resp.Header}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("answer is not JSON (%v): %.200s", err, raw)
		}
	}
	return a
}

func vonageURL(base, waba, endpoint string, params map[string]string) string {
	v := url.Values{}
	for k, val := range params {
		v.Set(k, val)
	}
	return base + "/v1/channel-manager/whatsapp/wabas/" + waba + "/" + endpoint + "?" + v.Encode()
}

var vonageDay = map[string]string{"start": "2024-11-13", "end": "2024-11-14", "granularity": "HALF_HOUR"}

// The answers the document lists for a key that is not linked to the WABA
// (403) and a WABA that does not exist (404), and 401 for credentials Vonage
// does not know, all as RFC 7807 problems.
func TestVonageAuthentication(t *testing.T) {
	_, srv := serveVonage(t, fakeapi.Options{})
	for _, tc := range []struct {
		name        string
		waba        string
		key, secret string
		want        int
	}{
		{"good", vonageWABA, vonageKey, vonageSecret, 200},
		{"no credentials", vonageWABA, "", "", 401},
		{"wrong secret", vonageWABA, vonageKey, "guess", 401},
		{"key of another WABA", vonageOther, vonageKey, vonageSecret, 403},
		{"unknown WABA", "999", vonageKey, vonageSecret, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := vonageDo(t, "GET", vonageURL(srv.URL, tc.waba, "messaging-analytics", vonageDay), tc.key, tc.secret)
			if a.status != tc.want {
				t.Fatalf("status %d, want %d: %v", a.status, tc.want, a.body)
			}
			if tc.want != 200 {
				if a.header.Get("Content-Type") != "application/problem+json" || a.body["title"] == nil || a.body["detail"] == nil {
					t.Errorf("answer %v is not an RFC 7807 problem", a.body)
				}
			}
		})
	}
}

// The fake's messaging answer has the document's shape, and the same
// numbers as the Graph fake's for the same WABA and half hours.
func TestVonageMessagingMatchesGraph(t *testing.T) {
	_, srv := serveVonage(t, fakeapi.Options{})
	a := vonageDo(t, "GET", vonageURL(srv.URL, vonageWABA, "messaging-analytics", map[string]string{
		"start": "2024-11-14", "end": "2024-11-14", "granularity": "HALF_HOUR", "phone_number": `["16505550111"]`,
	}), vonageKey, vonageSecret)
	if a.status != 200 {
		t.Fatalf("status %d: %v", a.status, a.body)
	}
	entries := a.body["_embedded"].(map[string]any)["messaging_analytics"].([]any)
	// 00:00 to 12:00 are complete at 12:10: 24 half hours.
	if len(entries) != 24 {
		t.Fatalf("%d half hours, want 24", len(entries))
	}
	var sent float64
	for _, e := range entries {
		m := e.(map[string]any)
		start, ok := m["start"].(string)
		if _, err := strconv.ParseInt(start, 10, 64); !ok || err != nil {
			t.Fatalf("start %v is not Unix seconds in a string", m["start"])
		}
		sent += m["sent"].(float64)
	}

	acct := vonageAccounts()[0]
	acct.Token = "graph-token"
	g := fakeapi.NewGraph([]fakeapi.WABA{acct}, fakeapi.Options{Now: func() time.Time { return vonageNow }})
	gsrv := httptest.NewServer(g)
	defer gsrv.Close()
	start := time.Date(2024, 11, 14, 0, 0, 0, 0, time.UTC)
	field := fmt.Sprintf(`analytics.start(%d).end(%d).granularity(HALF_HOUR).phone_numbers(["16505550111"])`, start.Unix(), start.Add(24*time.Hour).Unix())
	req, _ := http.NewRequest("GET", gsrv.URL+"/v21.0/"+vonageWABA+"?"+url.Values{"fields": {field}}.Encode(), nil)
	req.Header.Set("Authorization", "Bearer graph-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var graph struct {
		Analytics struct {
			DataPoints []struct{ Sent float64 } `json:"data_points"`
		} `json:"analytics"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&graph); err != nil {
		t.Fatal(err)
	}
	var graphSent float64
	for _, p := range graph.Analytics.DataPoints {
		graphSent += p.Sent
	}
	if sent == 0 || sent != graphSent {
		t.Errorf("Vonage fake sent %v, Graph fake %v: the same data must be spelled two ways", sent, graphSent)
	}
}

// Templates: clicked is one number, days are labelled by their date in both
// start and end, and the pages link on through _links.next.
func TestVonageTemplatesPageThroughLinks(t *testing.T) {
	_, srv := serveVonage(t, fakeapi.Options{PageSize: 2})
	ids := []string{"458951126288942", "458951126288937", "458951126288950"}
	next := vonageURL(srv.URL, vonageWABA, "template-analytics", map[string]string{
		"start": "2024-11-11", "end": "2024-11-13", "granularity": "DAILY", "template_ids": "[" + strings.Join(ids, ",") + "]",
	})
	var entries []map[string]any
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		a := vonageDo(t, "GET", next, vonageKey, vonageSecret)
		if a.status != 200 {
			t.Fatalf("status %d: %v", a.status, a.body)
		}
		for _, e := range a.body["_embedded"].(map[string]any)["template_analytics"].([]any) {
			entries = append(entries, e.(map[string]any))
		}
		next = ""
		if n, ok := a.body["_links"].(map[string]any)["next"].(map[string]any); ok {
			next = n["href"].(string)
		}
	}
	// Three templates, three complete days each.
	if len(entries) != 9 {
		t.Fatalf("%d entries over all pages, want 9", len(entries))
	}
	for _, e := range entries {
		if e["start"] != e["end"] {
			t.Errorf("a day is labelled %v..%v, want its date twice as in the document", e["start"], e["end"])
		}
		_, hasClicks := e["clicked"].(float64)
		if clickable := e["template_id"] != "458951126288950"; clickable != hasClicks {
			t.Errorf("template %v: clicked %v", e["template_id"], e["clicked"])
		}
	}
}

// Paging of messaging and pricing: Graph-style paging.next, and a last page
// without it.
func TestVonagePricingPagesThroughPagingNext(t *testing.T) {
	_, srv := serveVonage(t, fakeapi.Options{PageSize: 5})
	next := vonageURL(srv.URL, vonageWABA, "pricing-analytics", map[string]string{
		"start": "2024-11-13", "end": "2024-11-13", "granularity": "DAILY", "dimensions": `["PRICING_CATEGORY","COUNTRY"]`,
	})
	var n, pages int
	for ; next != ""; pages++ {
		a := vonageDo(t, "GET", next, vonageKey, vonageSecret)
		if a.status != 200 {
			t.Fatalf("status %d: %v", a.status, a.body)
		}
		for _, e := range a.body["_embedded"].(map[string]any)["pricing_analytics"].([]any) {
			m := e.(map[string]any)
			if _, hasCost := m["cost"]; hasCost || m["country"] == nil || m["pricing_category"] == nil || m["phone_number"] != nil {
				t.Errorf("entry %v: want country and category only, and no cost", m)
			}
			n++
		}
		next, _ = a.body["paging"].(map[string]any)["next"].(string)
	}
	// 3 countries x 3 categories with volume (SERVICE is free and counted).
	if n < 9 || pages < 2 {
		t.Errorf("%d entries on %d pages, want at least 9 on several", n, pages)
	}
}

// The document's limits: at most 10 template IDs, at most 90 days between
// start and end, a lookback of up to 90 days, DAILY templates only.
func TestVonageLimits(t *testing.T) {
	v, srv := serveVonage(t, fakeapi.Options{})
	var eleven []string
	for i := range 11 {
		eleven = append(eleven, fmt.Sprint(458951126288900+i))
	}
	for _, tc := range []struct {
		name     string
		endpoint string
		params   map[string]string
		want     int
	}{
		{"ten template IDs", "template-analytics", map[string]string{"start": "2024-11-10", "end": "2024-11-13", "granularity": "DAILY", "template_ids": "[" + strings.Join(eleven[:10], ",") + "]"}, 200},
		{"eleven template IDs", "template-analytics", map[string]string{"start": "2024-11-10", "end": "2024-11-13", "granularity": "DAILY", "template_ids": "[" + strings.Join(eleven, ",") + "]"}, 400},
		{"templates by the half hour", "template-analytics", map[string]string{"start": "2024-11-10", "end": "2024-11-13", "granularity": "HALF_HOUR", "template_ids": "[1]"}, 400},
		{"90 days", "messaging-analytics", map[string]string{"start": "2024-08-16", "end": "2024-11-14", "granularity": "DAILY"}, 200},
		{"91 days", "messaging-analytics", map[string]string{"start": "2024-08-15", "end": "2024-11-14", "granularity": "DAILY"}, 400},
		{"older than 90 days", "messaging-analytics", map[string]string{"start": "2024-08-01", "end": "2024-08-02", "granularity": "DAILY"}, 400},
		{"date with a time", "messaging-analytics", map[string]string{"start": "1731542400", "end": "2024-11-14", "granularity": "DAILY"}, 400},
		{"no granularity", "messaging-analytics", map[string]string{"start": "2024-11-13", "end": "2024-11-14"}, 400},
		{"pricing needs no parameters", "pricing-analytics", nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := vonageDo(t, "GET", vonageURL(srv.URL, vonageWABA, tc.endpoint, tc.params), vonageKey, vonageSecret)
			if a.status != tc.want {
				t.Errorf("status %d, want %d: %v", a.status, tc.want, a.body)
			}
		})
	}
	s := v.Stats(vonageWABA)
	if s.MaxTemplateIDs != 11 || s.MaxDaysPerRequest != 91 {
		t.Errorf("stats saw at most %d template IDs and %v days, want 11 and 91", s.MaxTemplateIDs, s.MaxDaysPerRequest)
	}
}

// enable_insights changes the account: it is no GET, and the fake counts
// the calls so that a test can show the exporter never makes one.
func TestVonageEnableInsights(t *testing.T) {
	v, srv := serveVonage(t, fakeapi.Options{})
	u := srv.URL + "/v1/channel-manager/whatsapp/wabas/" + vonageWABA + "/enable_insights"
	if a := vonageDo(t, "GET", u, vonageKey, vonageSecret); a.status != http.StatusMethodNotAllowed {
		t.Errorf("GET enable_insights: %d", a.status)
	}
	if a := vonageDo(t, "PATCH", srv.URL+"/v1/channel-manager/whatsapp/wabas/"+vonageOther+"/enable_insights", vonageKey, vonageSecret); a.status != 403 {
		t.Errorf("enable_insights with a key of another WABA: %d, want 403", a.status)
	}
	if a := vonageDo(t, "PATCH", u, vonageKey, vonageSecret); a.status != 200 {
		t.Errorf("PATCH enable_insights: %d", a.status)
	}
	if n := v.InsightsEnabled(vonageWABA); n != 1 {
		t.Errorf("InsightsEnabled = %d, want 1", n)
	}
}

func TestVonageFaults(t *testing.T) {
	for _, tc := range []struct {
		fault      fakeapi.Fault
		want       int
		retryAfter string
	}{
		{fakeapi.Fault{Kind: fakeapi.RateLimit, Times: 1, RegainMinutes: 2}, 429, "120"},
		{fakeapi.Fault{Kind: fakeapi.ServerError, Times: 1}, 503, ""},
		{fakeapi.Fault{Kind: fakeapi.InvalidToken, Times: 1}, 401, ""},
		{fakeapi.Fault{Kind: fakeapi.EchoToken, Times: 1}, 400, ""},
		{fakeapi.Fault{Kind: fakeapi.WrongTypes, Times: 1}, 200, ""},
	} {
		t.Run(fmt.Sprint(tc.fault.Kind), func(t *testing.T) {
			v, srv := serveVonage(t, fakeapi.Options{})
			v.Inject(vonageWABA, tc.fault)
			u := vonageURL(srv.URL, vonageWABA, "messaging-analytics", vonageDay)
			a := vonageDo(t, "GET", u, vonageKey, vonageSecret)
			if a.status != tc.want || a.header.Get("Retry-After") != tc.retryAfter {
				t.Errorf("status %d Retry-After %q, want %d %q", a.status, a.header.Get("Retry-After"), tc.want, tc.retryAfter)
			}
			if again := vonageDo(t, "GET", u, vonageKey, vonageSecret); again.status != 200 {
				t.Errorf("after a one-time fault: %d", again.status)
			}
		})
	}
}

func TestVonageHourlyBudget(t *testing.T) {
	_, srv := serveVonage(t, fakeapi.Options{HourlyBudget: 2})
	u := vonageURL(srv.URL, vonageWABA, "messaging-analytics", vonageDay)
	var statuses []int
	for range 3 {
		statuses = append(statuses, vonageDo(t, "GET", u, vonageKey, vonageSecret).status)
	}
	if !slices.Equal(statuses, []int{200, 200, 429}) {
		t.Errorf("statuses %v, want the third rate limited", statuses)
	}
}
