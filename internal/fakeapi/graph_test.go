package fakeapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

const (
	waba  = "102290129340398"
	token = "fake-token-123"
)

var now = time.Date(2024, 6, 3, 12, 10, 0, 0, time.UTC)

// settable is a clock the tests move.
type settable struct {
	mu sync.Mutex
	t  time.Time
}

func (s *settable) Now() time.Time  { s.mu.Lock(); defer s.mu.Unlock(); return s.t }
func (s *settable) Set(t time.Time) { s.mu.Lock(); defer s.mu.Unlock(); s.t = t }

func retailWABA() fakeapi.WABA {
	a := demo.MetaWABAs()[0]
	a.Token = token
	return a
}

func serve(t *testing.T, opts fakeapi.Options, wabas ...fakeapi.WABA) (*fakeapi.Graph, *httptest.Server) {
	t.Helper()
	if len(wabas) == 0 {
		wabas = []fakeapi.WABA{retailWABA()}
	}
	g := fakeapi.NewGraph(wabas, opts)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("answer is not JSON (%v): %.200s", err, a.body)
	}
	return v
}

// graphErr returns the code of a Graph error answer, or 0.
func (a answer) graphErr(t *testing.T) float64 {
	t.Helper()
	e, _ := a.json(t)["error"].(map[string]any)
	code, _ := e["code"].(float64)
	return code
}

func get(t *testing.T, rawURL, bearer string) answer {
	t.Helper()
	return getWith(t, http.DefaultClient, rawURL, bearer)
}

func getWith(t *testing.T, client *http.Client, rawURL, bearer string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

// fieldURL asks for one analytics field of the WABA node.
func fieldURL(base, field string, start, end time.Time, granularity, extra string) string {
	f := fmt.Sprintf("%s.start(%d).end(%d).granularity(%s)%s", field, start.Unix(), end.Unix(), granularity, extra)
	return base + "/v21.0/" + waba + "?" + url.Values{"fields": {f}}.Encode()
}

func conversationsURL(base string, start, end time.Time) string {
	return fieldURL(base, "conversation_analytics", start, end, "HALF_HOUR",
		`.metric_types(["CONVERSATION","COST"]).dimensions(["CONVERSATION_CATEGORY","COUNTRY","PHONE"])`)
}

func templatesURL(base string, ids []string, start, end time.Time, granularity string) string {
	v := url.Values{
		"start": {fmt.Sprint(start.Unix())}, "end": {fmt.Sprint(end.Unix())},
		"granularity": {granularity}, "template_ids": {"[" + strings.Join(ids, ",") + "]"},
	}
	return base + "/v21.0/" + waba + "/template_analytics?" + v.Encode()
}

type point struct {
	Start, End int64
	Raw        map[string]any
}

// points reads the data points of any of the Graph answer shapes, and the
// next page's link.
func points(t *testing.T, a answer, field string) ([]point, string) {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	v := a.json(t)
	if inner, ok := v[field].(map[string]any); ok {
		v = inner
	}
	var raw []any
	if dp, ok := v["data_points"].([]any); ok {
		raw = dp
	}
	if data, ok := v["data"].([]any); ok {
		for _, d := range data {
			dp, _ := d.(map[string]any)["data_points"].([]any)
			raw = append(raw, dp...)
		}
	}
	var out []point
	for _, r := range raw {
		m := r.(map[string]any)
		out = append(out, point{int64(m["start"].(float64)), int64(m["end"].(float64)), m})
	}
	next := ""
	if p, ok := v["paging"].(map[string]any); ok {
		next, _ = p["next"].(string)
	}
	return out, next
}

func TestDeterministic(t *testing.T) {
	_, a := serve(t, fakeapi.Options{Now: func() time.Time { return now }})
	_, b := serve(t, fakeapi.Options{Now: func() time.Time { return now }})
	start, end := now.Add(-6*time.Hour), now
	for _, path := range []string{
		conversationsURL("", start, end),
		fieldURL("", "analytics", start, end, "HALF_HOUR", ""),
		fieldURL("", "pricing_analytics", now.AddDate(0, 0, -3), end, "DAILY", `.dimensions(["PRICING_CATEGORY","TIER"])`),
		templatesURL("", []string{"1421988012088524", "2632273056924580"}, now.AddDate(0, 0, -3), now, "DAILY"),
	} {
		first, second, other := get(t, a.URL+path, token), get(t, a.URL+path, token), get(t, b.URL+path, token)
		if first.status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", path, first.status, first.body)
		}
		if string(first.body) != string(second.body) || string(first.body) != string(other.body) {
			t.Errorf("%s: the same request at the same time answered differently", path)
		}
		if len(first.body) < 100 {
			t.Errorf("%s: suspiciously short answer %s", path, first.body)
		}
	}
}

// Time moves the data: a later clock has newer buckets, only complete ones,
// and the buckets both clocks know keep their values.
func TestTimeMovesAndOnlyCompleteBuckets(t *testing.T) {
	clk := &settable{t: now}
	_, srv := serve(t, fakeapi.Options{Now: clk.Now, PageSize: 100000})
	start := time.Date(2024, 6, 3, 0, 0, 0, 0, time.UTC)
	end := start.Add(24 * time.Hour)

	newest := map[string]int64{}
	values := map[string]map[int64]any{}
	for _, at := range []time.Time{now, now.Add(2 * time.Hour)} {
		clk.Set(at)
		pts, _ := points(t, get(t, fieldURL(srv.URL, "analytics", start, end, "HALF_HOUR", ""), token), "analytics")
		if len(pts) == 0 {
			t.Fatalf("at %s: no data points", at)
		}
		key := at.Format("15:04")
		values[key] = map[int64]any{}
		for _, p := range pts {
			if time.Unix(p.End, 0).After(at) {
				t.Errorf("at %s: bucket ending %s is not complete", key, time.Unix(p.End, 0).UTC())
			}
			if p.End-p.Start != 1800 {
				t.Errorf("at %s: bucket of %ds, want a half hour", key, p.End-p.Start)
			}
			newest[key] = max(newest[key], p.End)
			values[key][p.End] = p.Raw["sent"]
		}
		// The newest complete half hour is there: data arrives in the
		// fake as soon as a bucket ends.
		if want := at.Truncate(30 * time.Minute).Unix(); newest[key] != want {
			t.Errorf("at %s: newest bucket ends %s, want %s", key, time.Unix(newest[key], 0).UTC(), time.Unix(want, 0).UTC())
		}
	}
	if newest["14:10"]-newest["12:10"] != 2*3600 {
		t.Errorf("two hours later the newest bucket moved %ds, want 7200", newest["14:10"]-newest["12:10"])
	}
	for end, v := range values["12:10"] {
		if values["14:10"][end] != v {
			t.Errorf("bucket ending %d changed from %v to %v as time moved", end, v, values["14:10"][end])
		}
	}

	// Daily and monthly buckets too: today is not complete at noon.
	clk.Set(now)
	pts, _ := points(t, get(t, fieldURL(srv.URL, "conversation_analytics", now.AddDate(0, 0, -5), now, "DAILY", ""), token), "conversation_analytics")
	for _, p := range pts {
		if p.End > now.Unix() {
			t.Errorf("daily bucket ending %s is not complete", time.Unix(p.End, 0).UTC())
		}
	}
	if len(pts) == 0 {
		t.Error("no daily conversation data")
	}
}

// Following paging.next through small pages yields exactly the points of
// one big page.
func TestPaging(t *testing.T) {
	_, big := serve(t, fakeapi.Options{Now: func() time.Time { return now }, PageSize: 100000})
	g, small := serve(t, fakeapi.Options{Now: func() time.Time { return now }, PageSize: 7})
	start := now.Add(-3 * time.Hour)

	for _, tc := range []struct {
		name, field string
		url         func(base string) string
	}{
		{"conversation_analytics", "conversation_analytics", func(base string) string { return conversationsURL(base, start, now) }},
		{"template_analytics", "template_analytics", func(base string) string {
			return templatesURL(base, []string{"1421988012088524", "2632273056924580", "954638012257287", "969725530748535"}, now.AddDate(0, 0, -10), now, "DAILY")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, next := points(t, get(t, tc.url(big.URL), token), tc.field)
			if next != "" {
				t.Fatalf("one big page has a next link %s", next)
			}
			var got []point
			pages := 0
			for u := tc.url(small.URL); u != ""; pages++ {
				if pages > 1000 {
					t.Fatal("paging does not end")
				}
				var pts []point
				pts, u = points(t, get(t, u, token), tc.field)
				if len(pts) > 7 {
					t.Fatalf("page of %d points, want at most 7", len(pts))
				}
				if u != "" && !strings.HasPrefix(u, small.URL+"/") {
					t.Fatalf("next link %s leaves the API", u)
				}
				got = append(got, pts...)
			}
			if pages < 2 {
				t.Fatalf("only %d page(s); the test needs several", pages)
			}
			if len(got) != len(want) {
				t.Fatalf("%d points over %d pages, want %d", len(got), pages, len(want))
			}
			for i := range want {
				if fmt.Sprint(got[i].Raw) != fmt.Sprint(want[i].Raw) {
					t.Errorf("point %d: %v, want %v", i, got[i].Raw, want[i].Raw)
				}
			}
		})
	}
	if n := g.Stats(waba).CredentialsInURL; n != 0 {
		t.Errorf("paging links put a credential in %d URLs", n)
	}
}

func TestEdgesPage(t *testing.T) {
	_, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }, PageSize: 3})
	var ids []string
	u := srv.URL + "/v21.0/" + waba + "/message_templates?limit=100"
	for pages := 0; u != ""; pages++ {
		a := get(t, u, token)
		v := a.json(t)
		for _, item := range v["data"].([]any) {
			ids = append(ids, item.(map[string]any)["id"].(string))
		}
		u = ""
		if p, ok := v["paging"].(map[string]any); ok {
			u, _ = p["next"].(string)
		}
	}
	if want := len(retailWABA().Templates); len(ids) != want {
		t.Errorf("message_templates listed %d templates over pages of 3, want %d: %v", len(ids), want, ids)
	}
}

func TestRejectsBadRequests(t *testing.T) {
	const secret = "the-app-secret"
	withSecret := retailWABA()
	withSecret.WABAID = "555"
	withSecret.AppSecret = secret
	_, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }}, retailWABA(), withSecret)
	start := now.Add(-3 * time.Hour)
	manyIDs := make([]string, 11)
	for i := range manyIDs {
		manyIDs[i] = fmt.Sprint(1000 + i)
	}

	tests := []struct {
		name       string
		url        string
		bearer     string
		wantStatus int
		wantCode   float64
	}{
		{"no token", conversationsURL(srv.URL, start, now), "", http.StatusUnauthorized, 190},
		{"wrong token", conversationsURL(srv.URL, start, now), "not-the-token", http.StatusUnauthorized, 190},
		{"token of another WABA", strings.Replace(conversationsURL(srv.URL, start, now), waba, "555", 1), token, http.StatusBadRequest, 100},
		{"unknown WABA", strings.Replace(conversationsURL(srv.URL, start, now), waba, "999", 1), token, http.StatusBadRequest, 100},
		{"no version in the path", srv.URL + "/" + waba + "?fields=id", token, http.StatusBadRequest, 2500},
		{"analytics with DAILY", fieldURL(srv.URL, "analytics", start, now, "DAILY", ""), token, http.StatusBadRequest, 100},
		{"conversation_analytics with DAY", fieldURL(srv.URL, "conversation_analytics", start, now, "DAY", ""), token, http.StatusBadRequest, 100},
		{"pricing_analytics with MONTH", fieldURL(srv.URL, "pricing_analytics", start, now, "MONTH", ""), token, http.StatusBadRequest, 100},
		{"template_analytics with HALF_HOUR", templatesURL(srv.URL, []string{"1421988012088524"}, start, now, "HALF_HOUR"), token, http.StatusBadRequest, 100},
		{"11 template IDs", templatesURL(srv.URL, manyIDs, start, now, "DAILY"), token, http.StatusBadRequest, 100},
		{"no template IDs", templatesURL(srv.URL, nil, start, now, "DAILY"), token, http.StatusBadRequest, 100},
		{"template start before 90 days", templatesURL(srv.URL, []string{"1421988012088524"}, now.AddDate(0, 0, -91), now, "DAILY"), token, http.StatusBadRequest, 100},
		{"start not a timestamp", srv.URL + "/v21.0/" + waba + "?" + url.Values{"fields": {"analytics.start(yesterday).end(1).granularity(DAY)"}}.Encode(), token, http.StatusBadRequest, 100},
		{"unknown field", srv.URL + "/v21.0/" + waba + "?fields=message_analytics", token, http.StatusBadRequest, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := get(t, tt.url, tt.bearer)
			if a.status != tt.wantStatus || a.graphErr(t) != tt.wantCode {
				t.Errorf("status %d code %v, want %d code %v: %s", a.status, a.graphErr(t), tt.wantStatus, tt.wantCode, a.body)
			}
		})
	}

	// With the app's secret, appsecret_proof is checked.
	u := strings.Replace(conversationsURL(srv.URL, start, now), waba, "555", 1)
	if a := get(t, u, withSecret.Token); a.status != http.StatusBadRequest {
		t.Errorf("no appsecret_proof: status %d, want 400", a.status)
	}
	withSecret.Token = token
	if a := get(t, u+"&appsecret_proof=00", token); a.status != http.StatusBadRequest || !strings.Contains(string(a.body), "appsecret_proof") {
		t.Errorf("wrong appsecret_proof: %d %s", a.status, a.body)
	}
	if a := get(t, conversationsURL(srv.URL, start, now), token); a.status != http.StatusOK {
		t.Errorf("a good request failed: %d %s", a.status, a.body)
	}
}

func TestStats(t *testing.T) {
	g, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }})
	start := now.AddDate(0, 0, -3)
	get(t, conversationsURL(srv.URL, start, now), token)
	get(t, conversationsURL(srv.URL, start, now)+"&access_token="+token, "")
	get(t, templatesURL(srv.URL, []string{"1421988012088524", "2632273056924580"}, start, now, "DAILY"), token)
	s := g.Stats(waba)
	if s.Requests != 3 || s.ByOperation["conversation_analytics"] != 2 || s.ByOperation["template_analytics"] != 1 {
		t.Errorf("stats %+v, want 3 requests: 2 conversation_analytics, 1 template_analytics", s)
	}
	if s.CredentialsInURL != 1 {
		t.Errorf("CredentialsInURL = %d, want 1", s.CredentialsInURL)
	}
	if s.MaxTemplateIDs != 2 {
		t.Errorf("MaxTemplateIDs = %d, want 2", s.MaxTemplateIDs)
	}
	if s.MaxDaysPerRequest != 3 {
		t.Errorf("MaxDaysPerRequest = %v, want 3", s.MaxDaysPerRequest)
	}
	// Stats is a copy.
	s.ByOperation["x"] = 1
	if g.Stats(waba).ByOperation["x"] != 0 {
		t.Error("Stats shares its map with the fake")
	}
}

// Every fault answers what its documentation says, and ends when spent.
func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault fakeapi.Fault
		check func(t *testing.T, a answer)
	}{
		{"rate limit, default code 4", fakeapi.Fault{Kind: fakeapi.RateLimit, RegainMinutes: 5}, func(t *testing.T, a answer) {
			if a.status != http.StatusTooManyRequests || a.graphErr(t) != 4 {
				t.Errorf("status %d code %v, want 429 code 4", a.status, a.graphErr(t))
			}
			if e := a.json(t)["error"].(map[string]any); e["is_transient"] != true {
				t.Errorf("rate limit not marked transient: %v", e)
			}
			var usage map[string][]map[string]any
			if err := json.Unmarshal([]byte(a.header.Get("X-Business-Use-Case-Usage")), &usage); err != nil || len(usage[waba]) != 1 {
				t.Fatalf("usage header %q: %v", a.header.Get("X-Business-Use-Case-Usage"), err)
			}
			if u := usage[waba][0]; u["call_count"] != float64(100) || u["estimated_time_to_regain_access"] != float64(5) {
				t.Errorf("usage %v, want call_count 100 and 5 minutes to regain access", u)
			}
		}},
		{"rate limit 80007", fakeapi.Fault{Kind: fakeapi.RateLimit, Code: 80007}, func(t *testing.T, a answer) {
			if a.status != http.StatusBadRequest || a.graphErr(t) != 80007 {
				t.Errorf("status %d code %v, want 400 code 80007", a.status, a.graphErr(t))
			}
		}},
		{"server error", fakeapi.Fault{Kind: fakeapi.ServerError}, func(t *testing.T, a answer) {
			if a.status != http.StatusServiceUnavailable || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
				t.Errorf("status %d %s, want a 503 HTML page", a.status, a.header.Get("Content-Type"))
			}
		}},
		{"malformed", fakeapi.Fault{Kind: fakeapi.Malformed}, func(t *testing.T, a answer) {
			if a.status != http.StatusOK || json.Valid(a.body) {
				t.Errorf("status %d, valid JSON %v; want 200 with broken JSON", a.status, json.Valid(a.body))
			}
		}},
		{"wrong types", fakeapi.Fault{Kind: fakeapi.WrongTypes}, func(t *testing.T, a answer) {
			// The field asked for, with a count as a string.
			pts, _ := points(t, a, "conversation_analytics")
			if len(pts) != 1 || pts[0].Raw["conversation"] != "many" {
				t.Errorf("want one conversation_analytics point with a string count, got %s", a.body)
			}
		}},
		{"slow", fakeapi.Fault{Kind: fakeapi.Slow, Delay: 10 * time.Millisecond}, func(t *testing.T, a answer) {
			if pts, _ := points(t, a, "conversation_analytics"); len(pts) == 0 {
				t.Error("a slow answer has no data")
			}
		}},
		{"invalid token", fakeapi.Fault{Kind: fakeapi.InvalidToken}, func(t *testing.T, a answer) {
			if a.status != http.StatusUnauthorized || a.graphErr(t) != 190 {
				t.Errorf("status %d code %v, want 401 code 190", a.status, a.graphErr(t))
			}
		}},
		{"endless pages", fakeapi.Fault{Kind: fakeapi.EndlessPages}, func(t *testing.T, a answer) {
			if _, next := points(t, a, "conversation_analytics"); next == "" {
				t.Error("no next link")
			}
		}},
		{"huge", fakeapi.Fault{Kind: fakeapi.Huge, Size: 1 << 20}, func(t *testing.T, a answer) {
			if a.status != http.StatusOK || len(a.body) < 1<<20 || !json.Valid(a.body) {
				t.Errorf("status %d, %d bytes, valid %v; want 200 with at least 1 MiB of valid JSON", a.status, len(a.body), json.Valid(a.body))
			}
		}},
		{"foreign next", fakeapi.Fault{Kind: fakeapi.ForeignNext}, func(t *testing.T, a answer) {
			_, next := points(t, a, "conversation_analytics")
			if u, err := url.Parse(next); err != nil || u.Host == "" || strings.HasPrefix(next, "http://127.0.0.1") {
				t.Errorf("next link %q, want one to another host", next)
			}
		}},
		{"echo token", fakeapi.Fault{Kind: fakeapi.EchoToken}, func(t *testing.T, a answer) {
			if a.status != http.StatusBadRequest || !strings.Contains(string(a.body), token) {
				t.Errorf("status %d %s, want a 400 quoting the token", a.status, a.body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }, PageSize: 5})
			u := conversationsURL(srv.URL, now.Add(-3*time.Hour), now)
			f := tt.fault
			f.Times = 1
			g.Inject(waba, f)
			tt.check(t, get(t, u, token))
			// Spent after one request: the next one is normal.
			if pts, _ := points(t, get(t, u, token), "conversation_analytics"); len(pts) == 0 {
				t.Error("after the fault was spent: no data")
			}
		})
	}
}

func TestFaultQueueAndClear(t *testing.T) {
	g, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }})
	u := conversationsURL(srv.URL, now.Add(-time.Hour), now)
	g.Inject(waba, fakeapi.Fault{Kind: fakeapi.ServerError, Times: 2})
	g.Inject(waba, fakeapi.Fault{Kind: fakeapi.InvalidToken}) // until cleared
	var got []int
	for i := 0; i < 4; i++ {
		got = append(got, get(t, u, token).status)
	}
	g.Clear(waba)
	got = append(got, get(t, u, token).status)
	want := []int{503, 503, 401, 401, 200}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

func TestHang(t *testing.T) {
	g, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }})
	g.Inject(waba, fakeapi.Fault{Kind: fakeapi.Hang, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, conversationsURL(srv.URL, now.Add(-time.Hour), now), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a hung request answered %d", resp.StatusCode)
	}
}

func TestHourlyBudget(t *testing.T) {
	clk := &settable{t: now}
	_, srv := serve(t, fakeapi.Options{Now: clk.Now, HourlyBudget: 3})
	u := fieldURL(srv.URL, "analytics", now.Add(-time.Hour), now, "HALF_HOUR", "")
	var codes []float64
	for i := 0; i < 4; i++ {
		a := get(t, u, token)
		if a.status == http.StatusOK {
			codes = append(codes, 0)
		} else {
			codes = append(codes, a.graphErr(t))
		}
	}
	if fmt.Sprint(codes) != "[0 0 0 80007]" {
		t.Errorf("codes %v, want three answers then 80007", codes)
	}
	clk.Set(now.Add(61 * time.Minute)) // the hour has passed
	if a := get(t, u, token); a.status != http.StatusOK {
		t.Errorf("an hour later: %d %s", a.status, a.body)
	}
}

// A partner-billed WABA gets "Cost not available" when it asks for cost,
// and its counts when it does not.
func TestPartnerBilled(t *testing.T) {
	a := retailWABA()
	a.PartnerBilled = true
	_, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }}, a)
	start := now.Add(-3 * time.Hour)
	withCost := get(t, conversationsURL(srv.URL, start, now), token)
	if withCost.status != http.StatusBadRequest || !strings.Contains(string(withCost.body), "Cost not available") {
		t.Errorf("with cost: %d %s", withCost.status, withCost.body)
	}
	counts := get(t, fieldURL(srv.URL, "conversation_analytics", start, now, "HALF_HOUR", `.metric_types(["CONVERSATION"])`), token)
	pts, _ := points(t, counts, "conversation_analytics")
	if len(pts) == 0 {
		t.Fatal("no counts without cost")
	}
	for _, p := range pts {
		if _, ok := p.Raw["cost"]; ok {
			t.Fatalf("a partner-billed point has cost: %v", p.Raw)
		}
	}
	tpl := get(t, templatesURL(srv.URL, []string{"1421988012088524"}, start, now, "DAILY")+"&metric_types="+url.QueryEscape(`["SENT","COST"]`), token)
	if tpl.status != http.StatusBadRequest || !strings.Contains(string(tpl.body), "Cost not available") {
		t.Errorf("template cost: %d %s", tpl.status, tpl.body)
	}
}
