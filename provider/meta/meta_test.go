package meta

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

const (
	wabaID = "102290129340398"
	// A token with characters that change when URL-escaped, so that an
	// escaped echo of it is caught too.
	token     = "EAAGm0PZ+tok/en=="
	appSecret = "c0ffee-app-secret"
)

// request is what the fake Graph API saw of one request.
type request struct {
	Path, RawQuery string
	Query          url.Values
	Header         http.Header
}

// graph is a fake Graph API: it records every request and answers with
// respond.
type graph struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	respond  func(w http.ResponseWriter, r *http.Request, n int)
}

func newGraph(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int)) *graph {
	g := &graph{respond: respond}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		n := len(g.requests)
		g.requests = append(g.requests, request{Path: r.URL.Path, RawQuery: r.URL.RawQuery, Query: r.URL.Query(), Header: r.Header.Clone()})
		g.mu.Unlock()
		g.respond(w, r, n)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *graph) seen() []request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.requests)
}

// serveFile answers every request with a fixture.
func serveFile(t *testing.T, name string) func(http.ResponseWriter, *http.Request, int) {
	body := fixture(t, name)
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newClient(t *testing.T, baseURL string, edit ...func(*Options)) *Client {
	t.Helper()
	opts := Options{BaseURL: baseURL, APIVersion: "v21.0", AccessToken: token, Timeout: 5 * time.Second}
	for _, e := range edit {
		e(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func f(v float64) *float64 { return &v }

func at(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func window(start, end int64, g provider.Granularity) provider.Window {
	return provider.Window{Start: at(start), End: at(end), Granularity: g}
}

// TestDocumentExamples serves each family the example response of the
// reference documents and checks both the request the client built (against
// the example request, where the document has one) and the points decoded.
func TestDocumentExamples(t *testing.T) {
	monthly := func(conv float64, typ, cat string, cost float64) provider.ConversationPoint {
		return provider.ConversationPoint{Start: at(1685602800), End: at(1688194800), PhoneNumber: "15550458206", Country: "US",
			Type: typ, Category: cat, Conversations: f(conv), Cost: f(cost)}
	}
	firstMonthly := monthly(1558, "REGULAR", "AUTHENTICATION", 15.58)
	firstMonthly.Direction = "UNKNOWN"

	tests := []struct {
		name    string
		fixture string
		call    func(context.Context, *Client) (any, error)
		// wantPath and one of wantFields (node fields) or wantQuery
		// (edge parameters) describe the request.
		wantPath   string
		wantFields string
		wantQuery  url.Values
		want       any
	}{
		{
			name:    "messaging, v21 example",
			fixture: "analytics_v21.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Messaging(ctx, provider.MessagingQuery{WABAID: wabaID, Window: window(1543543200, 1544148000, provider.Day)})
			},
			wantPath:   "/v21.0/" + wabaID,
			wantFields: "analytics.start(1543543200).end(1544148000).granularity(DAY)",
			want: []provider.MessagingPoint{
				{Start: at(1543543200), End: at(1543629600), Sent: f(196093), Delivered: f(179715)},
				{Start: at(1543629600), End: at(1543716000), Sent: f(147649), Delivered: f(139032)},
				{Start: at(1543716000), End: at(1543802400), Sent: f(61988), Delivered: f(58830)},
				{Start: at(1543802400), End: at(1543888800), Sent: f(132465), Delivered: f(124392)},
			},
		},
		{
			name:    "messaging, node reference example, with filters",
			fixture: "analytics_node_reference.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Messaging(ctx, provider.MessagingQuery{WABAID: wabaID, Window: window(1641024000, 1651094880, provider.Month),
					PhoneNumbers: []string{"16315551000"}, CountryCodes: []string{"US", "IN"}, ProductTypes: []int{0, 2}})
			},
			wantPath:   "/v21.0/" + wabaID,
			wantFields: `analytics.start(1641024000).end(1651094880).granularity(MONTH).phone_numbers(["16315551000"]).country_codes(["US","IN"]).product_types([0,2])`,
			want: []provider.MessagingPoint{
				{Start: at(1647327600), End: at(1647414000), Sent: f(1), Delivered: f(1)},
				{Start: at(1648710000), End: at(1648796400), Sent: f(4), Delivered: f(4)},
				{Start: at(1648796400), End: at(1648882800), Sent: f(1), Delivered: f(1)},
				{Start: at(1650265200), End: at(1650351600), Sent: f(1), Delivered: f(1)},
				{Start: at(1650351600), End: at(1650438000), Sent: f(1), Delivered: f(1)},
			},
		},
		{
			name:    "messaging, half-hour granularity",
			fixture: "analytics_v21.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				pts, err := c.Messaging(ctx, provider.MessagingQuery{WABAID: wabaID, Window: window(1543543200, 1543545000, provider.HalfHour)})
				return len(pts), err
			},
			wantPath:   "/v21.0/" + wabaID,
			wantFields: "analytics.start(1543543200).end(1543545000).granularity(HALF_HOUR)",
			want:       4,
		},
		{
			name:    "conversations, monthly with all breakdowns",
			fixture: "conversation_monthly_all_breakdowns.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Conversations(ctx, provider.ConversationQuery{WABAID: wabaID, Window: window(1685602800, 1688194800, provider.Month),
					Dimensions: []string{"CONVERSATION_CATEGORY", "CONVERSATION_TYPE", "COUNTRY", "PHONE"}, Cost: true})
			},
			wantPath:   "/v21.0/" + wabaID,
			wantFields: `conversation_analytics.start(1685602800).end(1688194800).granularity(MONTHLY).metric_types(["CONVERSATION","COST"]).dimensions(["CONVERSATION_CATEGORY","CONVERSATION_TYPE","COUNTRY","PHONE"])`,
			want: []provider.ConversationPoint{
				firstMonthly,
				monthly(2636, "REGULAR", "MARKETING", 26.36),
				monthly(2238, "REGULAR", "SERVICE", 22.38),
				monthly(1782, "REGULAR", "UTILITY", 17.82),
				monthly(1568, "FREE_TIER", "AUTHENTICATION", 15.68),
				monthly(2716, "FREE_TIER", "MARKETING", 27.16),
				monthly(2180, "FREE_TIER", "SERVICE", 21.8),
				monthly(1465, "FREE_TIER", "UTILITY", 14.65),
				monthly(1433, "FREE_ENTRY_POINT", "SERVICE", 14.33),
			},
		},
		{
			name:    "conversations, half hour for one phone",
			fixture: "conversation_half_hour_phone.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Conversations(ctx, provider.ConversationQuery{WABAID: wabaID, Window: window(1685602800, 1685689200, provider.HalfHour),
					PhoneNumbers: []string{"19195552584"}, Dimensions: []string{"CONVERSATION_CATEGORY", "CONVERSATION_TYPE", "COUNTRY", "PHONE"}, Cost: true})
			},
			wantPath:   "/v21.0/" + wabaID,
			wantFields: `conversation_analytics.start(1685602800).end(1685689200).granularity(HALF_HOUR).phone_numbers(["19195552584"]).metric_types(["CONVERSATION","COST"]).dimensions(["CONVERSATION_CATEGORY","CONVERSATION_TYPE","COUNTRY","PHONE"])`,
			want: []provider.ConversationPoint{
				{Start: at(1685602800), End: at(1685604600), PhoneNumber: "19195552584", Country: "US", Type: "REGULAR", Direction: "UNKNOWN", Category: "SERVICE", Conversations: f(4), Cost: f(0.0232)},
				{Start: at(1685602800), End: at(1685604600), PhoneNumber: "19195552584", Country: "US", Type: "REGULAR", Direction: "UNKNOWN", Category: "MARKETING", Conversations: f(4), Cost: f(0.0232)},
			},
		},
		{
			// The document lists these points out of time order; the
			// client must not assume order.
			name:    "conversations by category, all filters",
			fixture: "conversation_by_category.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Conversations(ctx, provider.ConversationQuery{WABAID: wabaID, Window: window(1685527200, 1685613600, provider.HalfHour),
					CountryCodes: []string{"US"}, Categories: []string{"MARKETING", "AUTHENTICATION"}, Types: []string{"REGULAR"},
					Directions: []string{"BUSINESS_INITIATED"}, Dimensions: []string{"CONVERSATION_CATEGORY"}})
			},
			wantPath:   "/v21.0/" + wabaID,
			wantFields: `conversation_analytics.start(1685527200).end(1685613600).granularity(HALF_HOUR).country_codes(["US"]).metric_types(["CONVERSATION"]).conversation_categories(["MARKETING","AUTHENTICATION"]).conversation_types(["REGULAR"]).conversation_directions(["BUSINESS_INITIATED"]).dimensions(["CONVERSATION_CATEGORY"])`,
			want: []provider.ConversationPoint{
				{Start: at(1685529000), End: at(1685530800), Category: "AUTHENTICATION", Conversations: f(2), Cost: f(0.0128)},
				{Start: at(1685527200), End: at(1685529000), Category: "MARKETING", Conversations: f(3), Cost: f(0.0432)},
			},
		},
		{
			name:    "conversations by category, v17 example",
			fixture: "conversation_by_category_v17.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Conversations(ctx, provider.ConversationQuery{WABAID: wabaID, Window: window(1685527200, 1685613600, provider.HalfHour)})
			},
			wantPath:   "/v21.0/" + wabaID,
			wantFields: `conversation_analytics.start(1685527200).end(1685613600).granularity(HALF_HOUR).metric_types(["CONVERSATION"])`,
			want: []provider.ConversationPoint{
				{Start: at(1685529000), End: at(1685530800), Category: "AUTHENTICATION", Conversations: f(2), Cost: f(0.0128)},
				{Start: at(1685527200), End: at(1685529000), Category: "MARKETING", Conversations: f(3), Cost: f(0.0432)},
			},
		},
		{
			name:    "conversations by type and category",
			fixture: "conversation_by_type_and_category.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Conversations(ctx, provider.ConversationQuery{WABAID: wabaID, Window: window(1685527200, 1685613600, provider.HalfHour),
					Categories: []string{"MARKETING", "AUTHENTICATION"}, Dimensions: []string{"CONVERSATION_CATEGORY", "CONVERSATION_TYPE"}, Cost: true})
			},
			wantPath:   "/v21.0/" + wabaID,
			wantFields: `conversation_analytics.start(1685527200).end(1685613600).granularity(HALF_HOUR).metric_types(["CONVERSATION","COST"]).conversation_categories(["MARKETING","AUTHENTICATION"]).dimensions(["CONVERSATION_CATEGORY","CONVERSATION_TYPE"])`,
			want: []provider.ConversationPoint{
				{Start: at(1685527200), End: at(1685529000), Type: "REGULAR", Category: "MARKETING", Conversations: f(3), Cost: f(0.0432)},
				{Start: at(1685529000), End: at(1685530800), Type: "REGULAR", Category: "AUTHENTICATION", Conversations: f(2), Cost: f(0.0128)},
			},
		},
		{
			// This example has no conversation_analytics wrapper; a zero
			// cost is a known zero, not a missing value.
			name:    "conversations by type, unwrapped",
			fixture: "conversation_by_type_bare.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Conversations(ctx, provider.ConversationQuery{WABAID: wabaID, Window: window(1643702400, 1646121600, provider.Month),
					Dimensions: []string{"CONVERSATION_TYPE"}, Cost: true})
			},
			wantPath:   "/v21.0/" + wabaID,
			wantFields: `conversation_analytics.start(1643702400).end(1646121600).granularity(MONTHLY).metric_types(["CONVERSATION","COST"]).dimensions(["CONVERSATION_TYPE"])`,
			want: []provider.ConversationPoint{
				{Start: at(1643702400), End: at(1646121600), Type: "REGULAR", Conversations: f(8500), Cost: f(88.101)},
				{Start: at(1643702400), End: at(1646121600), Type: "FREE_TIER", Conversations: f(1000), Cost: f(0)},
				{Start: at(1643702400), End: at(1646121600), Type: "FREE_ENTRY_POINT", Conversations: f(250), Cost: f(0)},
			},
		},
		{
			// A BSP billing on its own account: the scheduler never asks
			// for cost (PassthroughCapabilities.Cost is false), and the
			// answer has none (nil, not 0).
			name:    "conversations through a BSP passthrough",
			fixture: "conversation_passthrough_bsp.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Conversations(ctx, provider.ConversationQuery{WABAID: "115344761664057", Window: window(1693506600, 1706725800, provider.Month),
					Dimensions: []string{"CONVERSATION_CATEGORY", "CONVERSATION_TYPE", "COUNTRY", "PHONE"}})
			},
			wantPath:   "/v21.0/115344761664057",
			wantFields: `conversation_analytics.start(1693506600).end(1706725800).granularity(MONTHLY).metric_types(["CONVERSATION"]).dimensions(["CONVERSATION_CATEGORY","CONVERSATION_TYPE","COUNTRY","PHONE"])`,
			want: []provider.ConversationPoint{
				{Start: at(1693506600), End: at(1696098600), PhoneNumber: "912240289385", Country: "KW", Type: "REGULAR", Category: "MARKETING", Conversations: f(1)},
			},
		},
		{
			name:    "pricing, with every filter of the v21 request syntax",
			fixture: "pricing_analytics.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Pricing(ctx, provider.PricingQuery{WABAID: wabaID, Window: window(1726014453, 1728581152, provider.Day),
					PhoneNumbers: []string{"15550783881", "15550783882", "15550783883"}, CountryCodes: []string{"US", "BR"},
					Types: []string{"REGULAR", "FREE_CUSTOMER_SERVICE"}, Categories: []string{"AUTHENTICATION", "MARKETING", "UTILITY"},
					Dimensions: []string{"PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY"}, Cost: true})
			},
			wantPath: "/v21.0/" + wabaID,
			wantFields: `pricing_analytics.start(1726014453).end(1728581152).granularity(DAILY).phone_numbers(["15550783881","15550783882","15550783883"])` +
				`.country_codes(["US","BR"]).metric_types(["VOLUME","COST"]).pricing_types(["REGULAR","FREE_CUSTOMER_SERVICE"])` +
				`.pricing_categories(["AUTHENTICATION","MARKETING","UTILITY"]).dimensions(["PRICING_CATEGORY","PRICING_TYPE","COUNTRY"])`,
			want: []provider.PricingPoint{
				{Start: at(1726014453), End: at(1728581152), PhoneNumber: "15550783881", Country: "US", Type: "REGULAR", Category: "AUTHENTICATION", Tier: "0:750000", Volume: f(120), Cost: f(1.62)},
				{Start: at(1726014453), End: at(1728581152), PhoneNumber: "15550783882", Country: "BR", Type: "REGULAR", Category: "MARKETING", Tier: "0:MAX", Volume: f(40), Cost: f(2.5)},
				{Start: at(1726014453), End: at(1728581152), PhoneNumber: "15550783883", Country: "US", Type: "FREE_CUSTOMER_SERVICE", Category: "SERVICE", Volume: f(300)},
			},
		},
		{
			name:    "pricing without cost, monthly",
			fixture: "pricing_analytics.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				pts, err := c.Pricing(ctx, provider.PricingQuery{WABAID: wabaID, Window: window(1726014453, 1728581152, provider.Month)})
				return len(pts), err
			},
			wantPath:   "/v21.0/" + wabaID,
			wantFields: `pricing_analytics.start(1726014453).end(1728581152).granularity(MONTHLY).metric_types(["VOLUME"])`,
			want:       3,
		},
		{
			name:    "template analytics",
			fixture: "template_analytics.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Templates(ctx, provider.TemplateQuery{WABAID: "109259195336416", Window: window(1718064000, 1718122745, provider.Day),
					TemplateIDs: []string{"1421988012088524", "2632273056924580"}, Cost: true})
			},
			wantPath: "/v21.0/109259195336416/template_analytics",
			wantQuery: url.Values{
				"start": {"1718064000"}, "end": {"1718122745"}, "granularity": {"DAILY"},
				"metric_types": {`["SENT","DELIVERED","READ","CLICKED","COST"]`},
				"template_ids": {"[1421988012088524,2632273056924580]"},
			},
			want: []provider.TemplatePoint{
				{TemplateID: "1421988012088524", Start: at(1718064000), End: at(1718150400), Sent: f(1), Delivered: f(1), Read: f(1),
					Cost: []provider.TemplateCost{{Type: "amount_spent", Value: 0.01}, {Type: "cost_per_delivered", Value: 0.01}}},
				{TemplateID: "2632273056924580", Start: at(1718064000), End: at(1718150400), Sent: f(1), Delivered: f(1), Read: f(1),
					Clicked: []provider.ButtonClicks{{Type: "quick_reply_button", Content: "Contact Support", Count: 108}, {Type: "unique_url_button", Content: "Tell me more", Count: 16}},
					Cost:    []provider.TemplateCost{{Type: "amount_spent", Value: 0.03}, {Type: "cost_per_delivered", Value: 0.03}, {Type: "cost_per_url_button_click", Value: 0.03}}},
			},
		},
		{
			name:    "template analytics without cost, half-hour window asked",
			fixture: "template_analytics.json",
			call: func(ctx context.Context, c *Client) (any, error) {
				pts, err := c.Templates(ctx, provider.TemplateQuery{WABAID: "109259195336416", Window: window(1718064000, 1718150400, provider.HalfHour),
					TemplateIDs: []string{"1421988012088524"}})
				return len(pts), err
			},
			wantPath: "/v21.0/109259195336416/template_analytics",
			wantQuery: url.Values{
				"start": {"1718064000"}, "end": {"1718150400"}, "granularity": {"DAILY"},
				"metric_types": {`["SENT","DELIVERED","READ","CLICKED"]`}, "template_ids": {"[1421988012088524]"},
			},
			want: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, serveFile(t, tt.fixture))
			c := newClient(t, g.URL)
			rec := &recorder{}
			got, err := tt.call(provider.WithObserver(context.Background(), rec), c)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("points:\n%s\nwant:\n%s", dump(got), dump(tt.want))
			}

			reqs := g.seen()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Path != tt.wantPath {
				t.Errorf("path = %s, want %s", r.Path, tt.wantPath)
			}
			wantQuery := tt.wantQuery
			if wantQuery == nil {
				wantQuery = url.Values{"fields": {tt.wantFields}}
			}
			if !reflect.DeepEqual(r.Query, wantQuery) {
				t.Errorf("query:\n%v\nwant:\n%v", r.Query, wantQuery)
			}
			checkCredentials(t, r, "")
			if !slices.Equal(rec.responses, []string{"200"}) || len(rec.errors) != 0 {
				t.Errorf("observed responses %v errors %v", rec.responses, rec.errors)
			}
		})
	}
}

// checkCredentials asserts that a request carries the token in the
// Authorization header only, and appsecret_proof exactly when proof is set.
func checkCredentials(t *testing.T, r request, proof string) {
	t.Helper()
	if got := r.Header.Get("Authorization"); got != "Bearer "+token {
		t.Errorf("Authorization = %q, want Bearer <token>", got)
	}
	if r.Query.Has("access_token") || strings.Contains(r.RawQuery, token) || strings.Contains(r.RawQuery, url.QueryEscape(token)) {
		t.Errorf("the token is in the URL: %s?%s", r.Path, r.RawQuery)
	}
	if got := r.Query.Get("appsecret_proof"); got != proof {
		t.Errorf("appsecret_proof = %q, want %q", got, proof)
	}
}

func dump(v any) string {
	var b strings.Builder
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return fmt.Sprint(v)
	}
	for i := range rv.Len() {
		fmt.Fprintf(&b, "  %s\n", deref(rv.Index(i)))
	}
	return b.String()
}

// deref prints a point with its *float64 values, not their addresses.
func deref(v reflect.Value) string {
	var parts []string
	for i := range v.NumField() {
		fv := v.Field(i)
		s := fmt.Sprint(fv.Interface())
		if fv.Kind() == reflect.Pointer {
			s = "nil"
			if !fv.IsNil() {
				s = fmt.Sprint(fv.Elem().Interface())
			}
		}
		if tm, ok := fv.Interface().(time.Time); ok {
			s = fmt.Sprint(tm.Unix())
		}
		parts = append(parts, v.Type().Field(i).Name+"="+s)
	}
	return strings.Join(parts, " ")
}

// TestCredentials checks every kind of request for where the credentials go.
func TestCredentials(t *testing.T) {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(token))
	proof := hex.EncodeToString(mac.Sum(nil))

	calls := map[string]func(context.Context, *Client) error{
		"messaging": func(ctx context.Context, c *Client) error {
			_, err := c.Messaging(ctx, provider.MessagingQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)})
			return err
		},
		"conversations": func(ctx context.Context, c *Client) error {
			_, err := c.Conversations(ctx, provider.ConversationQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)})
			return err
		},
		"pricing": func(ctx context.Context, c *Client) error {
			_, err := c.Pricing(ctx, provider.PricingQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)})
			return err
		},
		"templates": func(ctx context.Context, c *Client) error {
			_, err := c.Templates(ctx, provider.TemplateQuery{WABAID: wabaID, Window: window(0, 86400, provider.Day), TemplateIDs: []string{"1"}})
			return err
		},
		"phone numbers": func(ctx context.Context, c *Client) error { _, err := c.PhoneNumbers(ctx, wabaID); return err },
		"template IDs":  func(ctx context.Context, c *Client) error { _, err := c.TemplateIDs(ctx, wabaID); return err },
	}
	for name, call := range calls {
		for _, withSecret := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/app secret %v", name, withSecret), func(t *testing.T) {
				g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) { io.WriteString(w, `{"data":[]}`) })
				c := newClient(t, g.URL, func(o *Options) {
					if withSecret {
						o.AppSecret = appSecret
					}
				})
				if err := call(context.Background(), c); err != nil {
					t.Fatal(err)
				}
				want := ""
				if withSecret {
					want = proof
				}
				for _, r := range g.seen() {
					checkCredentials(t, r, want)
				}
			})
		}
	}
}

func TestNew(t *testing.T) {
	for _, bad := range []string{"", "graph.facebook.com", "/v21.0", "https://", "://x"} {
		if _, err := New(Options{BaseURL: bad}); err == nil {
			t.Errorf("New(BaseURL %q) succeeded, want an error", bad)
		}
	}

	// A BSP's path prefix is kept; a version may sit in the base URL
	// instead of APIVersion.
	tests := []struct {
		base, version, want string
	}{
		{"/api/", "v25.0", "/api/v25.0/" + wabaID},
		{"/api/v25.0", "", "/api/v25.0/" + wabaID},
		{"", "/v21.0/", "/v21.0/" + wabaID},
	}
	for _, tt := range tests {
		g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) { io.WriteString(w, `{}`) })
		c := newClient(t, g.URL+tt.base, func(o *Options) { o.APIVersion = tt.version })
		if _, err := c.Messaging(context.Background(), provider.MessagingQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)}); err != nil {
			t.Fatal(err)
		}
		if got := g.seen()[0].Path; got != tt.want {
			t.Errorf("base %q version %q: path %s, want %s", tt.base, tt.version, got, tt.want)
		}
	}
}

// pagedPoints serves pages of one point each; every page but the last links
// to the next one, and the links carry an access_token as Graph's do when a
// token was sent in the URL.
func pagedPoints(t *testing.T, pages int, firstWrapped string, point func(i int) string) *graph {
	var g *graph
	g = newGraph(t, func(w http.ResponseWriter, r *http.Request, n int) {
		i := 0
		if after := r.URL.Query().Get("after"); after != "" {
			fmt.Sscanf(after, "c%d", &i)
		}
		paging := ""
		if i+1 < pages {
			next := fmt.Sprintf("%s%s?access_token=%s&after=c%d", g.URL, r.URL.Path, url.QueryEscape(token), i+1)
			if q := r.URL.Query(); q.Has("fields") {
				next += "&fields=" + url.QueryEscape(q.Get("fields"))
			}
			paging = fmt.Sprintf(`,"paging":{"cursors":{"after":"c%d"},"next":%q}`, i+1, next)
		}
		page := fmt.Sprintf(`{"data":[{"data_points":[%s]}]%s}`, point(i), paging)
		if i == 0 && firstWrapped != "" {
			page = fmt.Sprintf(`{%q:%s,"id":%q}`, firstWrapped, page, wabaID)
		}
		io.WriteString(w, page)
	})
	return g
}

func TestPaging(t *testing.T) {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(token))
	proof := hex.EncodeToString(mac.Sum(nil))

	t.Run("conversations, wrapped first page", func(t *testing.T) {
		g := pagedPoints(t, 3, "conversation_analytics", func(i int) string {
			return fmt.Sprintf(`{"start":%d,"end":%d,"conversation":%d}`, 1800*i, 1800*(i+1), i+1)
		})
		c := newClient(t, g.URL, func(o *Options) { o.AppSecret = appSecret })
		rec := &recorder{}
		pts, err := c.Conversations(provider.WithObserver(context.Background(), rec), provider.ConversationQuery{WABAID: wabaID, Window: window(0, 5400, provider.HalfHour)})
		if err != nil {
			t.Fatal(err)
		}
		var got []float64
		for _, p := range pts {
			got = append(got, *p.Conversations)
		}
		if !slices.Equal(got, []float64{1, 2, 3}) {
			t.Errorf("conversations %v, want [1 2 3] from three pages", got)
		}
		reqs := g.seen()
		if len(reqs) != 3 {
			t.Fatalf("%d requests, want 3", len(reqs))
		}
		for i, r := range reqs {
			checkCredentials(t, r, proof)
			if i > 0 && r.Query.Get("after") != fmt.Sprintf("c%d", i) {
				t.Errorf("request %d: after = %q", i, r.Query.Get("after"))
			}
		}
		if len(rec.responses) != 3 {
			t.Errorf("observed %d responses, want one per page", len(rec.responses))
		}
	})

	t.Run("templates", func(t *testing.T) {
		g := pagedPoints(t, 2, "", func(i int) string {
			return fmt.Sprintf(`{"template_id":"%d","start":0,"end":86400,"sent":%d}`, 100+i, i)
		})
		pts, err := newClient(t, g.URL).Templates(context.Background(), provider.TemplateQuery{WABAID: wabaID, Window: window(0, 86400, provider.Day), TemplateIDs: []string{"100", "101"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(pts) != 2 || pts[0].TemplateID != "100" || pts[1].TemplateID != "101" {
			t.Errorf("points %+v", pts)
		}
		if r := g.seen()[1]; r.Path != "/v21.0/"+wabaID+"/template_analytics" {
			t.Errorf("second page path %s", r.Path)
		}
	})

	t.Run("page cap", func(t *testing.T) {
		g := pagedPoints(t, 1000, "pricing_analytics", func(i int) string { return `{"start":0,"end":1800,"volume":1}` })
		c := newClient(t, g.URL, func(o *Options) { o.MaxPages = 4 })
		rec := &recorder{}
		pts, err := c.Pricing(provider.WithObserver(context.Background(), rec), provider.PricingQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)})
		e := apiError(t, err)
		if e.Code != provider.CodeTooManyPages || e.Op != "pricing_analytics" || pts != nil {
			t.Errorf("got %d points, error %+v; want too_many_pages", len(pts), e)
		}
		if n := len(g.seen()); n != 4 {
			t.Errorf("%d requests, want MaxPages = 4", n)
		}
		if !slices.Contains(rec.errors, provider.CodeTooManyPages) {
			t.Errorf("observed errors %v", rec.errors)
		}
	})

	t.Run("discovery page cap", func(t *testing.T) {
		var g *graph
		g = newGraph(t, func(w http.ResponseWriter, r *http.Request, n int) {
			fmt.Fprintf(w, `{"data":[{"id":"%d"}],"paging":{"next":"%s%s?after=%d"}}`, n, g.URL, r.URL.Path, n)
		})
		_, err := newClient(t, g.URL, func(o *Options) { o.MaxPages = 3 }).TemplateIDs(context.Background(), wabaID)
		if e := apiError(t, err); e.Code != provider.CodeTooManyPages || e.Op != "message_templates" {
			t.Errorf("error %+v, want too_many_pages", e)
		}
		if n := len(g.seen()); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
	})
}

// TestForeignNextURL: a paging link to anywhere but the configured API is
// not followed, so the credential never reaches it.
func TestForeignNextURL(t *testing.T) {
	elsewhere := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) { io.WriteString(w, `{"data":[]}`) })
	tests := []struct {
		name string
		next func(self string) string
		call func(context.Context, *Client) error
	}{
		{
			name: "analytics to another host",
			next: func(string) string { return elsewhere.URL + "/v21.0/" + wabaID + "?after=x" },
			call: func(ctx context.Context, c *Client) error {
				_, err := c.Conversations(ctx, provider.ConversationQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)})
				return err
			},
		},
		{
			name: "discovery to another scheme",
			next: func(self string) string {
				return strings.Replace(self, "http://", "https://", 1) + "/v21.0/" + wabaID + "/message_templates?after=x"
			},
			call: func(ctx context.Context, c *Client) error { _, err := c.TemplateIDs(ctx, wabaID); return err },
		},
		{
			name: "phone numbers to another host",
			next: func(string) string { return elsewhere.URL + "/phone_numbers?after=x&access_token=" + token },
			call: func(ctx context.Context, c *Client) error { _, err := c.PhoneNumbers(ctx, wabaID); return err },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g *graph
			g = newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				fmt.Fprintf(w, `{"conversation_analytics":{"data":[],"paging":{"next":%q}},"data":[{"id":"1","display_phone_number":"1"}],"paging":{"next":%q}}`, tt.next(g.URL), tt.next(g.URL))
			})
			rec := &recorder{}
			err := tt.call(provider.WithObserver(context.Background(), rec), newClient(t, g.URL))
			e := apiError(t, err)
			if e.Code != provider.CodeForeignNextURL || !strings.Contains(e.Message, "outside the configured API") {
				t.Errorf("error %+v, want foreign_next_url", e)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "after=") {
				t.Errorf("error text %q shows the link", err)
			}
			if n := len(g.seen()); n != 1 {
				t.Errorf("%d requests to the API, want 1", n)
			}
			if n := len(elsewhere.seen()); n != 0 {
				t.Errorf("%d requests reached the foreign host", n)
			}
			if !slices.Equal(rec.errors, []string{provider.CodeForeignNextURL}) {
				t.Errorf("observed errors %v", rec.errors)
			}
		})
	}
}

// TestTemplateChunking: template_analytics takes at most 10 IDs a request.
func TestTemplateChunking(t *testing.T) {
	var ids []string
	for i := range 23 {
		ids = append(ids, fmt.Sprint(1000+i))
	}
	g := newGraph(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		list := strings.Trim(r.URL.Query().Get("template_ids"), "[]")
		var pts []string
		for _, id := range strings.Split(list, ",") {
			pts = append(pts, fmt.Sprintf(`{"template_id":%q,"start":0,"end":86400,"sent":1}`, id))
		}
		fmt.Fprintf(w, `{"data":[{"granularity":"DAILY","data_points":[%s]}]}`, strings.Join(pts, ","))
	})
	pts, err := newClient(t, g.URL).Templates(context.Background(), provider.TemplateQuery{WABAID: wabaID, Window: window(0, 86400, provider.Day), TemplateIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	reqs := g.seen()
	var sizes []int
	var asked []string
	for _, r := range reqs {
		chunk := strings.Split(strings.Trim(r.Query.Get("template_ids"), "[]"), ",")
		sizes = append(sizes, len(chunk))
		asked = append(asked, chunk...)
	}
	if !slices.Equal(sizes, []int{10, 10, 3}) {
		t.Errorf("chunk sizes %v, want [10 10 3]", sizes)
	}
	if !slices.Equal(asked, ids) {
		t.Errorf("asked for %v, want every ID once, in order", asked)
	}
	var got []string
	for _, p := range pts {
		got = append(got, p.TemplateID)
	}
	if !slices.Equal(got, ids) {
		t.Errorf("points for %v, want all 23 templates", got)
	}

	t.Run("no IDs, no request", func(t *testing.T) {
		g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) { io.WriteString(w, `{}`) })
		pts, err := newClient(t, g.URL).Templates(context.Background(), provider.TemplateQuery{WABAID: wabaID, Window: window(0, 86400, provider.Day)})
		if err != nil || pts != nil || len(g.seen()) != 0 {
			t.Errorf("got %v, %v after %d requests; want nothing", pts, err, len(g.seen()))
		}
	})
	t.Run("a failing chunk fails the query", func(t *testing.T) {
		g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, n int) {
			if n == 1 {
				w.WriteHeader(500)
				io.WriteString(w, `{"error":{"message":"An unknown error occurred","type":"OAuthException","code":1,"is_transient":true}}`)
				return
			}
			io.WriteString(w, `{"data":[]}`)
		})
		_, err := newClient(t, g.URL).Templates(context.Background(), provider.TemplateQuery{WABAID: wabaID, Window: window(0, 86400, provider.Day), TemplateIDs: ids})
		if e := apiError(t, err); e.Code != "1" || !e.Transient {
			t.Errorf("error %+v", e)
		}
		if n := len(g.seen()); n != 2 {
			t.Errorf("%d requests, want to stop after the failing second", n)
		}
	})
}

func TestTemplateIDs(t *testing.T) {
	var g *graph
	g = newGraph(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 0:
			fmt.Fprintf(w, `{"data":[{"id":"954638012257287","name":"a"},{"id":969725530748535}],"paging":{"cursors":{"after":"x"},"next":"%s%s?after=x&limit=100&fields=id"}}`, g.URL, r.URL.Path)
		default:
			// A template that moved between pages is listed once.
			io.WriteString(w, `{"data":[{"id":"969725530748535"},{"id":"1924084211297547"},{"name":"no id"}],"paging":{"cursors":{"before":"x"}}}`)
		}
	})
	got, err := newClient(t, g.URL).TemplateIDs(context.Background(), wabaID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"954638012257287", "969725530748535", "1924084211297547"}; !slices.Equal(got, want) {
		t.Errorf("IDs %v, want %v", got, want)
	}
	reqs := g.seen()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	first := reqs[0]
	if first.Path != "/v21.0/"+wabaID+"/message_templates" || first.Query.Get("fields") != "id" || first.Query.Get("limit") != "100" {
		t.Errorf("first request %s?%s", first.Path, first.RawQuery)
	}
	if reqs[1].Query.Get("after") != "x" {
		t.Errorf("second request %s?%s does not follow the link", reqs[1].Path, reqs[1].RawQuery)
	}
}

func TestPhoneNumbers(t *testing.T) {
	g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		io.WriteString(w, `{"data":[
			{"id":"106540352242922","display_phone_number":"+1 631-555-5555","verified_name":"Lucky Shrub","quality_rating":"GREEN"},
			{"id":"106540352242923","display_phone_number":"+55 11 5555-0100"},
			{"id":"106540352242924","display_phone_number":"16315555555"},
			{"id":"106540352242925"}
		]}`)
	})
	got, err := newClient(t, g.URL).PhoneNumbers(context.Background(), wabaID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"16315555555", "551155550100"}; !slices.Equal(got, want) {
		t.Errorf("numbers %v, want %v", got, want)
	}
	r := g.seen()[0]
	if r.Path != "/v21.0/"+wabaID+"/phone_numbers" || r.Query.Get("fields") != "display_phone_number" {
		t.Errorf("request %s?%s", r.Path, r.RawQuery)
	}
}

// TestMissingValuesStayUnknown: a field the API leaves out is nil, never 0.
func TestMissingValuesStayUnknown(t *testing.T) {
	g := newGraph(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if strings.HasSuffix(r.URL.Path, "template_analytics") {
			io.WriteString(w, `{"data":[{"data_points":[{"template_id":"1","start":0,"end":86400,"sent":3,
				"clicked":[{"type":"url_button","button_content":"Buy","value":7},{"type":"url_button","button_content":"Gone"}],
				"cost":[{"type":"amount_spent"},{"type":"cost_per_delivered","value":0}]}]}]}`)
			return
		}
		io.WriteString(w, `{"analytics":{"data_points":[{"start":0,"end":1800,"sent":5}]}}`)
	})
	c := newClient(t, g.URL)
	m, err := c.Messaging(context.Background(), provider.MessagingQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || m[0].Sent == nil || *m[0].Sent != 5 || m[0].Delivered != nil {
		t.Errorf("messaging %s, want sent 5 and delivered unknown", dump(m))
	}
	tp, err := c.Templates(context.Background(), provider.TemplateQuery{WABAID: wabaID, Window: window(0, 86400, provider.Day), TemplateIDs: []string{"1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := provider.TemplatePoint{TemplateID: "1", Start: at(0), End: at(86400), Sent: f(3),
		// The document's text calls the click figure "value", its example
		// "count": both are read; an entry with neither is unknown.
		Clicked: []provider.ButtonClicks{{Type: "url_button", Content: "Buy", Count: 7}},
		Cost:    []provider.TemplateCost{{Type: "cost_per_delivered", Value: 0}}}
	if len(tp) != 1 || !reflect.DeepEqual(tp[0], want) {
		t.Errorf("template points %s\nwant %s", dump(tp), dump([]provider.TemplatePoint{want}))
	}
}

// TestDocumentQuirks serves the examples exactly as the documents print
// them. None is JSON; each must fail as a malformed response that says
// where, never panic or pass as an empty answer.
func TestDocumentQuirks(t *testing.T) {
	conversations := func(ctx context.Context, c *Client) error {
		_, err := c.Conversations(ctx, provider.ConversationQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)})
		return err
	}
	tests := []struct {
		fixture string
		call    func(context.Context, *Client) error
		want    string
	}{
		{"quirks/analytics_more_data_points.json", func(ctx context.Context, c *Client) error {
			_, err := c.Messaging(ctx, provider.MessagingQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)})
			return err
		}, "invalid character '#'"},
		{"quirks/conversation_trailing_comma.json", conversations, `invalid character '}' looking for beginning of object key string`},
		{"quirks/conversation_half_hour_more_data_points.json", conversations, "invalid character '#'"},
		{"quirks/conversation_curly_quotes.json", conversations, "invalid character '\\n' in string literal"},
		{"quirks/template_analytics_comment.json", func(ctx context.Context, c *Client) error {
			_, err := c.Templates(ctx, provider.TemplateQuery{WABAID: wabaID, Window: window(0, 86400, provider.Day), TemplateIDs: []string{"1"}})
			return err
		}, "invalid character '/'"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			g := newGraph(t, serveFile(t, tt.fixture))
			rec := &recorder{}
			err := tt.call(provider.WithObserver(context.Background(), rec), newClient(t, g.URL))
			e := apiError(t, err)
			if e.Code != provider.CodeMalformedResponse || !strings.Contains(e.Message, "invalid JSON at byte") || !strings.Contains(e.Message, tt.want) {
				t.Errorf("error %+v, want malformed_response with the position and %q", e, tt.want)
			}
			if !slices.Equal(rec.errors, []string{provider.CodeMalformedResponse}) {
				t.Errorf("observed errors %v", rec.errors)
			}
		})
	}
}

// TestWrongTypes: a well-formed answer with values of the wrong kind names
// the field in its error.
func TestWrongTypes(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		// A numeric string is a count (TestCountsAsStrings); this is not.
		{"count as a word", `{"conversation_analytics":{"data":[{"data_points":[{"start":0,"end":1800,"conversation":"twelve"}]}]}}`,
			`field data.data_points.conversation is a JSON string "twelve", want float64`},
		{"cost as a list", `{"conversation_analytics":{"data":[{"data_points":[{"start":0,"end":1800,"cost":[1]}]}]}}`,
			`field data.data_points.cost is a JSON array "[1]", want float64`},
		{"count not finite", `{"conversation_analytics":{"data":[{"data_points":[{"start":0,"end":1800,"conversation":"NaN"}]}]}}`,
			`field data.data_points.conversation is a JSON string "NaN", want float64`},
		{"bad timestamp", `{"conversation_analytics":{"data":[{"data_points":[{"start":"noon","end":1800}]}]}}`,
			`field data.data_points.start is a JSON string "noon", want time.Time`},
		{"data not a list", `{"conversation_analytics":{"data":{"data_points":[]}}}`,
			"field data is a JSON object, want []"},
		{"answer not an object", `[{"data_points":[]}]`, "is a JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) { io.WriteString(w, tt.body) })
			_, err := newClient(t, g.URL).Conversations(context.Background(), provider.ConversationQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)})
			e := apiError(t, err)
			if e.Code != provider.CodeMalformedResponse || !strings.Contains(e.Message, tt.want) {
				t.Errorf("error %+v, want malformed_response containing %q", e, tt.want)
			}
		})
	}
}

type recorder struct {
	mu        sync.Mutex
	responses []string
	errors    []string
	usage     []provider.Usage
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

func (r *recorder) ObserveUsage(u provider.Usage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.usage = append(r.usage, u)
}

func (r *recorder) sortedUsage() []provider.Usage {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := slices.Clone(r.usage)
	sort.SliceStable(u, func(i, j int) bool {
		if u[i].Type != u[j].Type {
			return u[i].Type < u[j].Type
		}
		return u[i].Object < u[j].Object
	})
	return u
}

func apiError(t *testing.T, err error) *provider.APIError {
	t.Helper()
	var e *provider.APIError
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *provider.APIError", err, err)
	}
	return e
}

// Every time zone the table names loads (the binary embeds the zone
// database, so this holds on a minimal image too), and the ids read as
// Graph sends them.
func TestLocation(t *testing.T) {
	for id, name := range timezones {
		if loc, ok := Location(strconv.Itoa(id)); !ok || loc.String() != name {
			t.Errorf("timezone_id %d: %v %v, want %s", id, loc, ok, name)
		}
	}
	for _, tc := range []struct {
		id   string
		want string
	}{{"1", "America/Los_Angeles"}, {" 47 ", "Europe/Berlin"}, {"71", "Asia/Kolkata"}, {"0", ""}, {"9999", ""}, {"Europe/Berlin", ""}, {"", ""}} {
		loc, ok := Location(tc.id)
		if got := ""; ok {
			got = loc.String()
			if got != tc.want {
				t.Errorf("Location(%q) = %s, want %q", tc.id, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("Location(%q) unknown, want %s", tc.id, tc.want)
		}
	}
}
