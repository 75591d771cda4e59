package meta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

func errorBody(code, subcode int, transient bool, extra string) string {
	return fmt.Sprintf(`{"error":{"message":"(#%d) message","type":"OAuthException","code":%d,"error_subcode":%d,"is_transient":%v,"fbtrace_id":"AbCdEf"%s}}`,
		code, code, subcode, transient, extra)
}

func TestGraphErrors(t *testing.T) {
	buc := `{"` + wabaID + `":[{"type":"whatsapp_business_management","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":3}]}`
	tests := []struct {
		name          string
		status        int
		header        http.Header
		body          string
		wantCode      string
		wantSubcode   int
		wantRate      bool
		wantTransient bool
		wantRetry     time.Duration
		wantCost      bool
	}{
		{name: "4 throttle as documented", status: 429, body: errorBody(4, 2446079, true, ""), wantCode: "4", wantSubcode: 2446079, wantRate: true, wantTransient: true},
		{name: "4 with usage header", status: 400, header: http.Header{"X-Business-Use-Case-Usage": {buc}}, body: errorBody(4, 0, false, ""), wantCode: "4", wantRate: true, wantRetry: 3 * time.Minute},
		{name: "17 user limit", status: 400, body: errorBody(17, 0, false, ""), wantCode: "17", wantRate: true},
		{name: "32 page limit", status: 400, body: errorBody(32, 0, false, ""), wantCode: "32", wantRate: true},
		{name: "341 application limit", status: 400, body: errorBody(341, 0, false, ""), wantCode: "341", wantRate: true},
		{name: "613 custom limit with Retry-After", status: 400, header: http.Header{"Retry-After": {"60"}}, body: errorBody(613, 0, false, ""), wantCode: "613", wantRate: true, wantRetry: time.Minute},
		{name: "80007 WABA limit", status: 400, body: errorBody(80007, 0, false, ""), wantCode: "80007", wantRate: true},
		{name: "80008 WABA calls", status: 400, body: errorBody(80008, 0, false, ""), wantCode: "80008", wantRate: true},
		{name: "1 unknown error", status: 500, body: errorBody(1, 0, false, ""), wantCode: "1", wantTransient: true},
		{name: "2 service unavailable", status: 503, body: errorBody(2, 0, false, ""), wantCode: "2", wantTransient: true},
		{name: "2 with a 400", status: 400, body: errorBody(2, 0, false, ""), wantCode: "2", wantTransient: true},
		{name: "190 token expired", status: 401, body: errorBody(190, 463, false, ""), wantCode: "190", wantSubcode: 463},
		{name: "100 no such object", status: 400, body: errorBody(100, 33, false, ""), wantCode: "100", wantSubcode: 33},
		{name: "10 permission", status: 403, body: errorBody(10, 0, false, ""), wantCode: "10"},
		{name: "is_transient on another code", status: 400, body: errorBody(100, 0, true, ""), wantCode: "100", wantTransient: true},
		{
			name: "cost not available", status: 400,
			body:     errorBody(100, 0, false, `,"error_user_title":"Cost not available","error_user_msg":"Cost is no longer shown for businesses who bill through a partner (i.e., BSP). To understand your charges, please reach out to your partner."`),
			wantCode: "100", wantCost: true,
		},
		{
			name: "cost not available in the message only", status: 400,
			body:     `{"error":{"message":"Cost is no longer shown for businesses who bill through a partner","code":100}}`,
			wantCode: "100", wantCost: true,
		},
		{name: "proxy page", status: 502, body: "<html><body>Bad Gateway</body></html>", wantCode: "http_502", wantTransient: true},
		{name: "envelope without a code", status: 403, body: `{"error":{"message":"Forbidden by the BSP"}}`, wantCode: "http_403"},
		{name: "OAuth-style string error", status: 400, body: `{"error":"invalid_request"}`, wantCode: "http_400"},
		{name: "empty 429", status: 429, header: http.Header{"Retry-After": {"5"}}, wantCode: "http_429", wantRate: true, wantRetry: 5 * time.Second},
		{name: "redirect is not followed blindly", status: 302, header: http.Header{"Location": {"https://elsewhere.example/"}}, wantCode: "http_302"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			// No redirects, as the scheduler configures the shared client.
			c := newClient(t, g.URL, func(o *Options) {
				o.HTTP = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			})
			rec := &recorder{}
			_, err := c.Conversations(provider.WithObserver(context.Background(), rec), provider.ConversationQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour), Cost: true})
			e := apiError(t, err)
			if e.Code != tt.wantCode || e.Subcode != tt.wantSubcode || e.RateLimited != tt.wantRate || e.Transient != tt.wantTransient ||
				e.RetryAfter != tt.wantRetry || e.Status != tt.status || e.Op != "conversation_analytics" {
				t.Errorf("error %+v\nwant code %s subcode %d rate-limited %v transient %v retry %s status %d",
					e, tt.wantCode, tt.wantSubcode, tt.wantRate, tt.wantTransient, tt.wantRetry, tt.status)
			}
			if got := errors.Is(err, provider.ErrCostUnavailable); got != tt.wantCost {
				t.Errorf("errors.Is(ErrCostUnavailable) = %v, want %v", got, tt.wantCost)
			}
			if !reflect.DeepEqual(rec.errors, []string{tt.wantCode}) {
				t.Errorf("observed errors %v, want [%s]", rec.errors, tt.wantCode)
			}
		})
	}
}

func TestGraphErrorText(t *testing.T) {
	body := `{"error":{"message":"Cost is no longer shown for businesses who bill through a partner (i.e., BSP).","type":"OAuthException","code":100,"error_subcode":2494010,"error_user_title":"Cost not available"}}`
	g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(400)
		io.WriteString(w, body)
	})
	_, err := newClient(t, g.URL).Pricing(context.Background(), provider.PricingQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour), Cost: true})
	want := "pricing_analytics: Cost not available: Cost is no longer shown for businesses who bill through a partner (i.e., BSP). (code 100, subcode 2494010, HTTP 400)"
	if err == nil || err.Error() != want {
		t.Errorf("error text:\n%v\nwant:\n%s", err, want)
	}
}

func TestUsageHeaders(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   []provider.Usage
	}{
		{
			name: "business use case and app usage",
			header: http.Header{
				"X-Business-Use-Case-Usage": {`{"` + wabaID + `":[{"type":"whatsapp_business_management","call_count":28,"total_cputime":12,"total_time":17,"estimated_time_to_regain_access":0}],` +
					`"106540352242922":[{"type":"whatsapp","call_count":100,"total_cputime":4,"total_time":9,"estimated_time_to_regain_access":1.5}]}`},
				"X-App-Usage": {`{"call_count":4,"total_cputime":2,"total_time":3}`},
			},
			want: []provider.Usage{
				{Type: "app", CallCount: 4, TotalCPUTime: 2, TotalTime: 3},
				{Type: "whatsapp", Object: "106540352242922", CallCount: 100, TotalCPUTime: 4, TotalTime: 9, RegainAccess: 90 * time.Second},
				{Type: "whatsapp_business_management", Object: wabaID, CallCount: 28, TotalCPUTime: 12, TotalTime: 17},
			},
		},
		{
			name: "one object's budget types apart, another's beside them, a key that is no ID",
			header: http.Header{
				"X-Business-Use-Case-Usage": {`{"` + wabaID + `":[{"type":"whatsapp_business_management","call_count":28},{"type":"whatsapp_business_management","call_count":40,"estimated_time_to_regain_access":2}],` +
					`"999":[{"type":"whatsapp_business_management","call_count":90}],"../x":[{"type":"whatsapp","call_count":7}]}`},
			},
			want: []provider.Usage{
				{Type: "whatsapp", CallCount: 7, TotalCPUTime: -1, TotalTime: -1},
				{Type: "whatsapp_business_management", Object: wabaID, CallCount: 40, TotalCPUTime: -1, TotalTime: -1, RegainAccess: 2 * time.Minute},
				{Type: "whatsapp_business_management", Object: "999", CallCount: 90, TotalCPUTime: -1, TotalTime: -1},
			},
		},
		{
			name:   "figures left out are negative, not zero",
			header: http.Header{"X-Business-Use-Case-Usage": {`{"1":[{"call_count":5}]}`}},
			want:   []provider.Usage{{Type: "unknown", Object: "1", CallCount: 5, TotalCPUTime: -1, TotalTime: -1}},
		},
		{
			name:   "unparsable headers are ignored",
			header: http.Header{"X-Business-Use-Case-Usage": {`{"1":`}, "X-App-Usage": {`call_count=4`}},
		},
		{name: "no headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				io.WriteString(w, `{}`)
			})
			rec := &recorder{}
			if _, err := newClient(t, g.URL).PhoneNumbers(provider.WithObserver(context.Background(), rec), wabaID); err != nil {
				t.Fatal(err)
			}
			if got := rec.sortedUsage(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("usage %+v\nwant %+v", got, tt.want)
			}
		})
	}

	// Usage is reported on failed requests too: that is when it matters.
	g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("X-App-Usage", `{"call_count":100,"total_cputime":1,"total_time":1}`)
		w.WriteHeader(400)
		io.WriteString(w, errorBody(4, 0, false, ""))
	})
	rec := &recorder{}
	_, err := newClient(t, g.URL).TemplateIDs(provider.WithObserver(context.Background(), rec), wabaID)
	if e := apiError(t, err); !e.RateLimited || len(rec.usage) != 1 || rec.usage[0].CallCount != 100 {
		t.Errorf("error %+v, usage %+v", e, rec.usage)
	}
}

// TestTokenNeverInErrors sends back the credentials every way a careless or
// hostile upstream could, and checks no error text carries them.
func TestTokenNeverInErrors(t *testing.T) {
	escaped := url.QueryEscape(token)
	bodies := map[string]struct {
		status int
		body   string
	}{
		"graph error naming the token":       {400, `{"error":{"message":"Malformed access token ` + token + `","code":190}}`},
		"graph error with the token escaped": {400, `{"error":{"message":"Invalid request https://graph.facebook.com/v21.0/1?access_token=` + escaped + `","code":100,"error_user_title":"` + token + `"}}`},
		"app secret echoed":                  {400, `{"error":{"message":"bad appsecret_proof for secret ` + appSecret + `","code":100}}`},
		"plain text error page":              {500, "upstream said: Authorization: Bearer " + token},
		"timestamp holding the token":        {200, `{"conversation_analytics":{"data":[{"data_points":[{"start":"` + token + `"}]}]}}`},
		"foreign paging link with token":     {200, `{"data":[],"paging":{"next":"https://evil.example.com/v21.0/1?access_token=` + escaped + `"}}`},
		"syntax error next to the token":     {200, `{"data":[` + token},
	}
	for name, b := range bodies {
		t.Run(name, func(t *testing.T) {
			g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.WriteHeader(b.status)
				io.WriteString(w, b.body)
			})
			c := newClient(t, g.URL, func(o *Options) { o.AppSecret = appSecret })
			_, err := c.Conversations(context.Background(), provider.ConversationQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)})
			if err == nil {
				t.Fatal("no error")
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", apiError(t, err))} {
				for _, secret := range []string{token, escaped, appSecret} {
					if strings.Contains(text, secret) {
						t.Errorf("error text carries a credential: %s", text)
					}
				}
			}
		})
	}
}
