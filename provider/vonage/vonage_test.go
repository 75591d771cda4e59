package vonage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

const (
	testKey    = "a1b2c3d4"
	testSecret = "s3cr3t-Vonage-pa55"
	testWABA   = "345688589250625"
)

// api is an in-memory Channel Manager: every request the client sends lands
// in handler, without a network, at whatever host the client addressed. That
// lets the document's example bodies, whose links name api.nexmo.com, be
// served unchanged.
type api struct {
	t       *testing.T
	mu      sync.Mutex
	reqs    []*http.Request
	handler http.HandlerFunc
}

func (a *api) RoundTrip(r *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.reqs = append(a.reqs, r)
	a.mu.Unlock()
	rec := httptest.NewRecorder()
	a.handler(rec, r)
	return rec.Result(), nil
}

func (a *api) requests() []*http.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.reqs)
}

func newClient(t *testing.T, baseURL string, h http.HandlerFunc) (*Client, *api) {
	t.Helper()
	a := &api{t: t, handler: h}
	c, err := New(Options{
		BaseURL: baseURL, APIKey: testKey, APISecret: testSecret,
		HTTP: &http.Client{Transport: a}, MaxPages: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, a
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// recorder is a provider.Observer that remembers what it was told.
type recorder struct {
	mu        sync.Mutex
	responses []string
	errors    []string
}

func (r *recorder) ObserveResponse(code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.responses = append(r.responses, code)
}

func (r *recorder) ObserveError(code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, code)
}

func (r *recorder) ObserveUsage(provider.Usage) {}

func ptr(v float64) *float64 { return &v }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func halfHourWindow() provider.Window {
	end := time.Date(2024, 11, 14, 10, 0, 0, 0, time.UTC)
	return provider.Window{Start: end.Add(-6 * time.Hour), End: end, Granularity: provider.HalfHour}
}

// The messaging example of the document, followed by the page its
// paging.next links to.
func TestMessagingDocumentExampleAndPagingNext(t *testing.T) {
	lastPage := `{"id": "345688589250625", "granularity": "HALF_HOUR",
		"_embedded": {"messaging_analytics": [{"start": "1543629600", "end": "1543631400", "sent": 7, "delivered": 6}]},
		"paging": {"cursors": {"before": "MjQZD", "after": ""}}}`
	c, a := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/channel-manager/whatsapp/wabas/"+testWABA+"/messaging-analytics":
			writeBody(w, 200, fixture(t, "messaging-analytics.json"))
		case r.URL.Path == "/v2/channel-manager/wabas/106499765517625/messaging-analytics" && r.URL.Query().Get("after") == "MAZDZD":
			writeBody(w, 200, []byte(lastPage))
		default:
			t.Errorf("unexpected request %s", r.URL)
			writeBody(w, 404, nil)
		}
	})
	got, err := c.Messaging(context.Background(), provider.MessagingQuery{
		WABAID: testWABA, Window: halfHourWindow(),
		PhoneNumbers: []string{"16505550111"}, CountryCodes: []string{"US"}, ProductTypes: []int{0, 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.MessagingPoint{
		{Start: time.Unix(1543543200, 0).UTC(), End: time.Unix(1543629600, 0).UTC(), Sent: ptr(100), Delivered: ptr(90)},
		{Start: time.Unix(1543629600, 0).UTC(), End: time.Unix(1543631400, 0).UTC(), Sent: ptr(7), Delivered: ptr(6)},
	}
	if diff := diffMessaging(got, want); diff != "" {
		t.Error(diff)
	}

	reqs := a.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 (the example and the page its paging.next links to)", len(reqs))
	}
	q := reqs[0].URL.Query()
	for name, want := range map[string]string{
		"start": "2024-11-14", "end": "2024-11-15", "granularity": "HALF_HOUR",
		"phone_number": `["16505550111"]`, "country_codes": `["US"]`, "product_types": "[0,2]",
	} {
		if q.Get(name) != want {
			t.Errorf("parameter %s = %q, want %q", name, q.Get(name), want)
		}
	}
}

func diffMessaging(got, want []provider.MessagingPoint) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d points, want %d: %+v", len(got), len(want), got)
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || *g.Sent != *w.Sent || *g.Delivered != *w.Delivered {
			return fmt.Sprintf("point %d = {%s %s %v %v}, want {%s %s %v %v}", i,
				g.Start, g.End, *g.Sent, *g.Delivered, w.Start, w.End, *w.Sent, *w.Delivered)
		}
	}
	return ""
}

// The template example of the document: a day labelled by its date in both
// start and end, clicked as one number, a _links.self but no next.
func TestTemplatesDocumentExample(t *testing.T) {
	c, a := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, fixture(t, "template-analytics.json"))
	})
	got, err := c.Templates(context.Background(), provider.TemplateQuery{
		WABAID: testWABA, TemplateIDs: []string{"458951126288942"},
		Window: provider.Window{Start: day(2024, 11, 10), End: day(2024, 11, 14).Add(10 * time.Hour), Granularity: provider.Day},
		Cost:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d points, want the example's 1: %+v", len(got), got)
	}
	p := got[0]
	if p.TemplateID != "458951126288942" || !p.Start.Equal(day(2024, 11, 11)) || !p.End.Equal(day(2024, 11, 12)) {
		t.Errorf("point %s %s..%s, want 458951126288942 2024-11-11..2024-11-12 (the day's end, not its label)", p.TemplateID, p.Start, p.End)
	}
	if *p.Sent != 100 || *p.Delivered != 90 || *p.Read != 80 {
		t.Errorf("sent/delivered/read = %v/%v/%v, want 100/90/80", *p.Sent, *p.Delivered, *p.Read)
	}
	if want := []provider.ButtonClicks{{Count: 70}}; !slices.Equal(p.Clicked, want) {
		t.Errorf("clicked = %+v, want %+v: one total with no button type or content", p.Clicked, want)
	}
	if p.Cost != nil {
		t.Errorf("cost = %+v, want none: Vonage reports no cost", p.Cost)
	}
	reqs := a.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1: _links.self is not a next page", len(reqs))
	}
	q := reqs[0].URL.Query()
	for name, want := range map[string]string{
		"start": "2024-11-10", "end": "2024-11-15", "granularity": "DAILY", "template_ids": "[458951126288942]",
	} {
		if q.Get(name) != want {
			t.Errorf("parameter %s = %q, want %q", name, q.Get(name), want)
		}
	}
	if q.Has("metric_types") {
		t.Errorf("metric_types = %q; no cost can be asked for, so all metrics (the default) are wanted", q.Get("metric_types"))
	}
}

// A template answer paged HAL-style: _links.next.href.
func TestTemplatesPagingLinksNext(t *testing.T) {
	var example map[string]any
	c, a := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
		if json.Unmarshal(fixture(t, "template-analytics.json"), &example) != nil {
			t.Fatal("fixture is not JSON")
		}
		switch r.URL.Query().Get("cursor") {
		case "":
			links := example["_links"].(map[string]any)
			links["next"] = map[string]any{"href": "https://api.nexmo.com/v1/channel-manager/whatsapp/wabas/345688589250625/template-analytics?template_ids=[458951126288942]&cursor=cGFnZTI"}
		case "cGFnZTI":
			entry := example["_embedded"].(map[string]any)["template_analytics"].([]any)[0].(map[string]any)
			entry["start"], entry["end"], entry["sent"] = "2024-11-12T00:00:00Z", "2024-11-12T00:00:00Z", 5
			delete(entry, "clicked")
		default:
			t.Errorf("unexpected cursor in %s", r.URL)
		}
		body, _ := json.Marshal(example)
		writeBody(w, 200, body)
	})
	got, err := c.Templates(context.Background(), provider.TemplateQuery{
		WABAID: testWABA, TemplateIDs: []string{"458951126288942"},
		Window: provider.Window{Start: day(2024, 11, 10), End: day(2024, 11, 13), Granularity: provider.Day},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(a.requests()); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	if len(got) != 2 || *got[0].Sent != 100 || *got[1].Sent != 5 || !got[1].End.Equal(day(2024, 11, 13)) {
		t.Fatalf("points %+v, want both pages' days", got)
	}
	if got[1].Clicked != nil {
		t.Errorf("a day without clicked has clicks %+v, want none (unknown, not zero)", got[1].Clicked)
	}
}

// The pricing example of the document, followed by the page its
// paging.next links to.
func TestPricingDocumentExampleAndPagingNext(t *testing.T) {
	c, a := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("before") == "MAZDZD" {
			writeBody(w, 200, []byte(`{"granularity": "DAILY", "_embedded": {"pricing_analytics": []}, "paging": {"cursors": {"before": "x"}}}`))
			return
		}
		writeBody(w, 200, fixture(t, "pricing-analytics.json"))
	})
	got, err := c.Pricing(context.Background(), provider.PricingQuery{
		WABAID:     testWABA,
		Window:     provider.Window{Start: day(2024, 11, 10), End: day(2024, 11, 14), Granularity: provider.Day},
		Dimensions: []string{"PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY", "PHONE", "TIER"},
		Cost:       true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := provider.PricingPoint{
		Start: day(2024, 11, 11), End: day(2024, 11, 12),
		PhoneNumber: "14155552671", Country: "US", Tier: "75000:150000", Type: "REGULAR", Category: "AUTHENTICATION",
	}
	if len(got) != 1 {
		t.Fatalf("%d points, want the example's 1", len(got))
	}
	g := got[0]
	if *g.Volume != 100 || g.Cost != nil {
		t.Errorf("volume %v, cost %v; want 100 and no cost", *g.Volume, g.Cost)
	}
	g.Volume = nil
	if !g.Start.Equal(want.Start) || !g.End.Equal(want.End) || g.PhoneNumber != want.PhoneNumber || g.Country != want.Country ||
		g.Tier != want.Tier || g.Type != want.Type || g.Category != want.Category {
		t.Errorf("point %+v, want %+v", g, want)
	}
	reqs := a.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	q := reqs[0].URL.Query()
	for name, want := range map[string]string{
		"start": "2024-11-10", "end": "2024-11-14", "granularity": "DAILY",
		"dimensions": `["PRICING_CATEGORY","PRICING_TYPE","COUNTRY","PHONE","TIER"]`,
	} {
		if q.Get(name) != want {
			t.Errorf("parameter %s = %q, want %q", name, q.Get(name), want)
		}
	}
}

// Every request carries the key and secret as HTTP Basic auth, and never in
// the URL.
func TestBasicAuthAndPaths(t *testing.T) {
	for _, base := range []string{
		"https://api.nexmo.com",
		"https://api.nexmo.com/",
		"https://api.nexmo.com/v1/channel-manager",
		"https://proxy.example.com/vonage",
	} {
		t.Run(base, func(t *testing.T) {
			c, a := newClient(t, base, func(w http.ResponseWriter, r *http.Request) {
				writeBody(w, 200, []byte(`{"_embedded": {"messaging_analytics": []}}`))
			})
			if _, err := c.Messaging(context.Background(), provider.MessagingQuery{WABAID: testWABA, Window: halfHourWindow()}); err != nil {
				t.Fatal(err)
			}
			r := a.requests()[0]
			u, _ := url.Parse(strings.TrimRight(base, "/"))
			wantPath := strings.TrimSuffix(u.Path, "/v1/channel-manager") + "/v1/channel-manager/whatsapp/wabas/" + testWABA + "/messaging-analytics"
			if r.URL.Host != u.Host || r.URL.Path != wantPath {
				t.Errorf("request to %s%s, want %s%s", r.URL.Host, r.URL.Path, u.Host, wantPath)
			}
			key, secret, ok := r.BasicAuth()
			if !ok || key != testKey || secret != testSecret {
				t.Errorf("basic auth %q:%q (%v), want the key and secret", key, secret, ok)
			}
			if strings.Contains(r.URL.String(), testSecret) || strings.Contains(r.URL.String(), testKey) {
				t.Errorf("credential in the URL %s", r.URL)
			}
		})
	}
}

// "template_ids ... Maximum 10": 23 IDs take three requests of 10, 10 and 3.
func TestTemplatesChunkedByTen(t *testing.T) {
	var ids []string
	for i := range 23 {
		ids = append(ids, fmt.Sprint(458951126288900+i))
	}
	c, a := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
		var asked []json.Number
		if err := json.Unmarshal([]byte(r.URL.Query().Get("template_ids")), &asked); err != nil {
			t.Errorf("template_ids %q is not a JSON array of numbers: %v", r.URL.Query().Get("template_ids"), err)
		}
		var entries []string
		for _, id := range asked {
			entries = append(entries, fmt.Sprintf(`{"template_id": %q, "start": "2024-11-11T00:00:00Z", "end": "2024-11-11T00:00:00Z", "sent": 1}`, id))
		}
		writeBody(w, 200, []byte(`{"_embedded": {"template_analytics": [`+strings.Join(entries, ",")+`]}}`))
	})
	got, err := c.Templates(context.Background(), provider.TemplateQuery{
		WABAID: testWABA, TemplateIDs: ids,
		Window: provider.Window{Start: day(2024, 11, 10), End: day(2024, 11, 14), Granularity: provider.Day},
	})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range a.requests() {
		sizes = append(sizes, strings.Count(r.URL.Query().Get("template_ids"), ",")+1)
	}
	if !slices.Equal(sizes, []int{10, 10, 3}) {
		t.Errorf("template IDs per request %v, want [10 10 3]", sizes)
	}
	var gotIDs []string
	for _, p := range got {
		gotIDs = append(gotIDs, p.TemplateID)
	}
	if !slices.Equal(gotIDs, ids) {
		t.Errorf("points for %v, want every ID once: %v", gotIDs, ids)
	}
}

// The dates sent: whole days, end past the window's last instant, at most
// 90 days apart ("The maximum difference between the start and end dates is
// 90 days").
func TestDateRange(t *testing.T) {
	at := func(d time.Time, h int) time.Time { return d.Add(time.Duration(h) * time.Hour) }
	for _, tc := range []struct {
		name             string
		start, end       time.Time
		wantStart, wantE string
	}{
		{"mid-day end includes that day", at(day(2024, 11, 14), 4), at(day(2024, 11, 14), 10), "2024-11-14", "2024-11-15"},
		{"end at midnight is exclusive", day(2024, 11, 10), day(2024, 11, 14), "2024-11-10", "2024-11-14"},
		{"an empty window still asks for a day", day(2024, 11, 14), day(2024, 11, 14), "2024-11-14", "2024-11-15"},
		{"exactly 90 days", day(2024, 8, 16), day(2024, 11, 14), "2024-08-16", "2024-11-14"},
		{"over 90 days is cut at the start", day(2024, 6, 1), at(day(2024, 11, 14), 1), "2024-08-17", "2024-11-15"},
		{"a monthly window aligned to the 1st", day(2024, 8, 1), at(day(2024, 10, 31), 22), "2024-08-03", "2024-11-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := dateRange(provider.Window{Start: tc.start, End: tc.end})
			if v.Get("start") != tc.wantStart || v.Get("end") != tc.wantE {
				t.Errorf("start=%s end=%s, want %s and %s", v.Get("start"), v.Get("end"), tc.wantStart, tc.wantE)
			}
			s, _ := time.Parse(time.DateOnly, v.Get("start"))
			e, _ := time.Parse(time.DateOnly, v.Get("end"))
			if e.Sub(s) > history {
				t.Errorf("%s..%s spans more than 90 days", s, e)
			}
		})
	}
}

// Every error answer the document lists (403, 404 of enable_insights and,
// for the same API key, of the analytics), and the usual HTTP ones, become a
// typed error with the exporter's error code, and are reported once.
func TestErrorAnswers(t *testing.T) {
	problem := func(title, detail string) string {
		return fmt.Sprintf(`{"type": "https://developer.vonage.com/api-errors#x", "title": %q, "detail": %q, "instance": "bf0ca0bf"}`, title, detail)
	}
	for _, tc := range []struct {
		status      int
		header      map[string]string
		body        string
		wantMsg     []string
		rateLimited bool
		retryAfter  time.Duration
		transient   bool
	}{
		{status: 400, body: problem("Bad Request", "end must not be before start"), wantMsg: []string{"rejected the request parameters", "end must not be before start"}},
		{status: 401, body: problem("Unauthorized", "You did not provide correct credentials."), wantMsg: []string{"check api_key and api_secret", "You did not provide correct credentials."}},
		{status: 403, body: problem("Forbidden", "Your account does not have permission to perform this action"), wantMsg: []string{"API key is not linked to this WABA ID", "does not have permission"}},
		{status: 404, body: problem("Not Found", "The requested resource does not exist"), wantMsg: []string{"WABA ID is invalid"}},
		{status: 404, body: "", wantMsg: []string{"WABA ID is invalid"}},
		{status: 429, header: map[string]string{"Retry-After": "120"}, body: problem("Too Many Requests", "The request was rate limited"),
			wantMsg: []string{"rate limit"}, rateLimited: true, retryAfter: 2 * time.Minute},
		{status: 500, body: problem("Internal Server Error", "oops"), wantMsg: []string{"server error"}, transient: true},
		{status: 503, body: "<html><body>503 Service Unavailable</body></html>", wantMsg: []string{"server error (Service Unavailable)"}, transient: true},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			c, _ := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				writeBody(w, tc.status, []byte(tc.body))
			})
			rec := &recorder{}
			ctx := provider.WithObserver(context.Background(), rec)
			_, err := c.Messaging(ctx, provider.MessagingQuery{WABAID: testWABA, Window: halfHourWindow()})
			var apiErr *provider.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v is not an APIError", err)
			}
			wantCode := fmt.Sprintf("http_%d", tc.status)
			if apiErr.Code != wantCode || apiErr.Status != tc.status || apiErr.Op != "messaging-analytics" {
				t.Errorf("code %q status %d op %q, want %s %d messaging-analytics", apiErr.Code, apiErr.Status, apiErr.Op, wantCode, tc.status)
			}
			for _, m := range tc.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q lacks %q", err, m)
				}
			}
			if apiErr.RateLimited != tc.rateLimited || apiErr.RetryAfter != tc.retryAfter || apiErr.Transient != tc.transient {
				t.Errorf("rate limited %v (retry after %s), transient %v; want %v (%s), %v",
					apiErr.RateLimited, apiErr.RetryAfter, apiErr.Transient, tc.rateLimited, tc.retryAfter, tc.transient)
			}
			if !slices.Equal(rec.errors, []string{wantCode}) || !slices.Equal(rec.responses, []string{fmt.Sprint(tc.status)}) {
				t.Errorf("observed responses %v errors %v, want [%d] and [%s]", rec.responses, rec.errors, tc.status, wantCode)
			}
		})
	}
}

// An API that echoes the credentials into its error text does not get them
// into the exporter's error (and so its log).
func TestEchoedCredentialsRedacted(t *testing.T) {
	encoded := base64.StdEncoding.EncodeToString([]byte(testKey + ":" + testSecret))
	c, _ := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 400, []byte(fmt.Sprintf(`{"title": "Bad credentials %s", "detail": "header was Basic %s"}`, testSecret, encoded)))
	})
	_, err := c.Pricing(context.Background(), provider.PricingQuery{WABAID: testWABA, Window: halfHourWindow()})
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), encoded) {
		t.Errorf("error %q carries the credential", err)
	}
	if !strings.Contains(err.Error(), "<redacted>") {
		t.Errorf("error %q, want the credential replaced by <redacted>", err)
	}
}

func TestMalformedAndPagingFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     func(r *http.Request) string
		wantCode string
		wantMsg  string
	}{
		{"count that is no number", func(*http.Request) string {
			return `{"_embedded": {"messaging_analytics": [{"start": "1543543200", "end": "1543629600", "sent": "many"}]}}`
		}, provider.CodeMalformedResponse, "sent"},
		{"unparsable timestamp", func(*http.Request) string {
			return `{"_embedded": {"messaging_analytics": [{"start": "yesterday", "end": "1543629600", "sent": 1}]}}`
		}, provider.CodeMalformedResponse, "start"},
		{"cut off", func(*http.Request) string { return `{"_embedded": {"messaging_analytics": [{"start": "15435` }, provider.CodeMalformedResponse, "invalid JSON"},
		{"next page on another host", func(*http.Request) string {
			return `{"_embedded": {"messaging_analytics": []}, "paging": {"next": "https://collector.attacker.invalid/steal"}}`
		}, provider.CodeForeignNextURL, "collector.attacker.invalid"},
		{"endless pages", func(r *http.Request) string {
			return `{"_embedded": {"messaging_analytics": []}, "_links": {"next": {"href": "https://api.nexmo.com/v1/channel-manager/whatsapp/wabas/1/messaging-analytics?cursor=again"}}}`
		}, provider.CodeTooManyPages, "more than 5 pages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
				writeBody(w, 200, []byte(tc.body(r)))
			})
			rec := &recorder{}
			_, err := c.Messaging(provider.WithObserver(context.Background(), rec), provider.MessagingQuery{WABAID: testWABA, Window: halfHourWindow()})
			var apiErr *provider.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tc.wantCode || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %v, want code %s mentioning %q", err, tc.wantCode, tc.wantMsg)
			}
			if !slices.Equal(rec.errors, []string{tc.wantCode}) {
				t.Errorf("observed errors %v, want [%s]", rec.errors, tc.wantCode)
			}
		})
	}
}

// What the Channel Manager does not offer fails without a request, as
// ErrUnsupported.
func TestUnsupported(t *testing.T) {
	c, a := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, []byte(`{}`))
	})
	ctx := context.Background()
	_, errConv := c.Conversations(ctx, provider.ConversationQuery{WABAID: testWABA, Window: halfHourWindow()})
	_, errPhones := c.PhoneNumbers(ctx, testWABA)
	_, errTemplates := c.TemplateIDs(ctx, testWABA)
	_, errFilter := c.Pricing(ctx, provider.PricingQuery{WABAID: testWABA, Window: halfHourWindow(), Categories: []string{"MARKETING"}})
	for _, err := range []error{errConv, errPhones, errTemplates, errFilter} {
		if !errors.Is(err, provider.ErrUnsupported) {
			t.Errorf("error %v does not wrap ErrUnsupported", err)
		}
	}
	if n := len(a.requests()); n != 0 {
		t.Errorf("%d requests for things the API does not offer", n)
	}
}

func TestNewRejects(t *testing.T) {
	for _, opts := range []Options{
		{BaseURL: "api.nexmo.com", APIKey: testKey, APISecret: testSecret},
		{APIKey: testKey},
		{APISecret: testSecret},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) accepted", opts)
		} else if opts.APISecret != "" && strings.Contains(err.Error(), opts.APISecret) {
			t.Errorf("error %q carries the secret", err)
		}
	}
}

// The bucket end the scheduler needs, from the several ways the document
// labels one.
func TestBucketEnd(t *testing.T) {
	for _, tc := range []struct {
		name       string
		start, end time.Time
		g          provider.Granularity
		want       time.Time
	}{
		{"day labelled by its date", day(2024, 11, 11), day(2024, 11, 11), provider.Day, day(2024, 11, 12)},
		{"day with its closing instant", day(2024, 11, 11), day(2024, 11, 12), provider.Day, day(2024, 11, 12)},
		{"month labelled by its last day", day(2024, 11, 1), day(2024, 11, 30), provider.Month, day(2024, 12, 1)},
		{"month with its closing instant", day(2024, 11, 1), day(2024, 12, 1), provider.Month, day(2024, 12, 1)},
		{"half hour without an end", day(2024, 11, 11), day(2024, 11, 11), provider.HalfHour, day(2024, 11, 11).Add(30 * time.Minute)},
		{"the messaging example's end is kept", time.Unix(1543543200, 0), time.Unix(1543629600, 0), provider.HalfHour, time.Unix(1543629600, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bucketEnd(tc.start, tc.end, tc.g); !got.Equal(tc.want) {
				t.Errorf("bucketEnd = %s, want %s", got, tc.want)
			}
		})
	}
}
