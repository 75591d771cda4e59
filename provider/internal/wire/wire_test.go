package wire

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

const token = "fake+token/with=odd-chars"

// recorder is a provider.Observer that remembers what it saw.
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

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var longToken = "EAAG" + strings.Repeat("Zx9", 65) + "q"

func newClient() *Client {
	return &Client{
		Authorize: func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) },
		Secrets:   []string{token, "", longToken},
	}
}

func asAPIError(t *testing.T, err error) *provider.APIError {
	t.Helper()
	var apiErr *provider.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not an *provider.APIError", err, err)
	}
	return apiErr
}

func TestGetSuccess(t *testing.T) {
	var gotAuth, gotAccept string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotAccept = r.Header.Get("Authorization"), r.Header.Get("Accept")
		w.Header().Set("X-Usage", "7")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()

	c := newClient()
	var inspected string
	c.Inspect = func(obs provider.Observer, status int, h http.Header) { inspected = h.Get("X-Usage") }
	rec := &recorder{}
	body, err := c.Get(provider.WithObserver(context.Background(), rec), "op", mustURL(t, srv.URL))
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if string(body) != `{"ok":true}` {
		t.Errorf("body = %q", body)
	}
	if gotAuth != "Bearer "+token || gotAccept != "application/json" {
		t.Errorf("headers: Authorization %q, Accept %q", gotAuth, gotAccept)
	}
	if inspected != "7" {
		t.Errorf("Inspect saw X-Usage %q, want 7", inspected)
	}
	if !slices.Equal(rec.responses, []string{"200"}) || len(rec.errors) != 0 {
		t.Errorf("observed responses %v errors %v, want [200] and none", rec.responses, rec.errors)
	}
}

func TestGetBodyCap(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		size    int
		wantErr bool
	}{
		{"at the cap", 200, 64, false},
		{"one byte over", 200, 65, true},
		{"error page over the cap", 500, 1000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, strings.Repeat("x", tt.size))
			}))
			defer srv.Close()
			c := newClient()
			c.MaxBodyBytes = 64
			rec := &recorder{}
			body, err := c.Get(provider.WithObserver(context.Background(), rec), "op", mustURL(t, srv.URL))
			if !tt.wantErr {
				if err != nil || len(body) != tt.size {
					t.Fatalf("Get = %d bytes, %v; want %d bytes", len(body), err, tt.size)
				}
				return
			}
			e := asAPIError(t, err)
			if e.Code != provider.CodeResponseTooLarge || e.Status != tt.status || e.Op != "op" {
				t.Errorf("error = %+v, want response_too_large with status %d", e, tt.status)
			}
			if !slices.Equal(rec.errors, []string{provider.CodeResponseTooLarge}) {
				t.Errorf("observed errors %v", rec.errors)
			}
		})
	}
}

// TestGetTimeout uses servers that never finish: the per-request timeout
// must end the request, whether it hangs before the headers or in the body.
func TestGetTimeout(t *testing.T) {
	tests := []struct {
		name         string
		sendHeaders  bool
		wantResponse string
	}{
		{"no answer", false, provider.NoResponse},
		{"body never ends", true, "200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.sendHeaders {
					io.WriteString(w, `{"data": [`)
					w.(http.Flusher).Flush()
				}
				<-done
			}))
			defer srv.Close()
			defer close(done) // runs first: lets the handler return so Close does not wait

			c := newClient()
			c.Timeout = 50 * time.Millisecond
			rec := &recorder{}
			_, err := c.Get(provider.WithObserver(context.Background(), rec), "op", mustURL(t, srv.URL+"/?access_token="+url.QueryEscape(token)))
			e := asAPIError(t, err)
			if e.Code != provider.CodeTimeout || !e.Transient || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %+v, want a transient timeout wrapping DeadlineExceeded", e)
			}
			if strings.Contains(err.Error(), srv.URL) || strings.Contains(err.Error(), "access_token") {
				t.Errorf("error text %q names the URL", err)
			}
			if !slices.Equal(rec.responses, []string{tt.wantResponse}) || !slices.Equal(rec.errors, []string{provider.CodeTimeout}) {
				t.Errorf("observed responses %v errors %v", rec.responses, rec.errors)
			}
		})
	}
}

func TestGetConnectionErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	closedURL := srv.URL + "/v21.0/1?access_token=" + url.QueryEscape(token)
	srv.Close()

	t.Run("refused", func(t *testing.T) {
		rec := &recorder{}
		_, err := newClient().Get(provider.WithObserver(context.Background(), rec), "op", mustURL(t, closedURL))
		e := asAPIError(t, err)
		if e.Code != provider.CodeConnection || !e.Transient || e.Status != 0 {
			t.Errorf("error = %+v, want a transient connection error", e)
		}
		if strings.Contains(err.Error(), "access_token") || strings.Contains(err.Error(), "EAAG") || strings.Contains(err.Error(), "/v21.0/") {
			t.Errorf("error text %q names the URL", err)
		}
		if !slices.Equal(rec.responses, []string{provider.NoResponse}) || !slices.Equal(rec.errors, []string{provider.CodeConnection}) {
			t.Errorf("observed responses %v errors %v", rec.responses, rec.errors)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newClient().Get(ctx, "op", mustURL(t, closedURL))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want one wrapping context.Canceled", err)
		}
	})
	t.Run("throttle wait canceled", func(t *testing.T) {
		c := newClient()
		c.Throttle = provider.NewThrottle(provider.ThrottleOptions{RequestsPerSecond: 0.001, Burst: 1, MaxConcurrent: 1}).Account("1", 0)
		if turn, err := c.Throttle.Acquire(context.Background(), mustURL(t, closedURL)); err != nil {
			t.Fatal(err)
		} else {
			defer turn.End(provider.Outcome{})
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Get(ctx, "op", mustURL(t, closedURL))
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "throttle") {
			t.Errorf("error = %v, want a canceled throttle wait", err)
		}
	})
}

func TestGetHTTPErrors(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		header        http.Header
		body          string
		hook          bool
		wantCode      string
		wantRate      bool
		wantTransient bool
		wantRetry     time.Duration
		wantMessage   string
	}{
		{name: "proxy 502", status: 502, body: "<html>bad gateway</html>", wantCode: "http_502", wantTransient: true},
		{name: "404", status: 404, body: "not found", wantCode: "http_404"},
		{name: "429 with Retry-After", status: 429, header: http.Header{"Retry-After": {"120"}}, wantCode: "http_429", wantRate: true, wantRetry: 2 * time.Minute},
		{name: "503 with Retry-After", status: 503, header: http.Header{"Retry-After": {"7"}}, wantCode: "http_503", wantTransient: true, wantRetry: 7 * time.Second},
		{
			name: "hook error with the token in its text", status: 400, hook: true,
			body:     `{"message":"Invalid OAuth access token ` + token + ` in https://graph.example/v1?access_token=` + url.QueryEscape(token) + `"}`,
			wantCode: "190", wantMessage: "Invalid OAuth access token <redacted> in https://graph.example/v1?access_token=<redacted>",
		},
		{name: "hook declines", status: 400, hook: true, body: "plain text", wantCode: "http_400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := newClient()
			if tt.hook {
				c.APIError = func(status int, h http.Header, body []byte) *provider.APIError {
					if !strings.HasPrefix(string(body), "{") {
						return nil
					}
					// Like a careless provider: the raw body becomes the message.
					return &provider.APIError{Code: "190", Message: string(body[12 : len(body)-2])}
				}
			}
			rec := &recorder{}
			_, err := c.Get(provider.WithObserver(context.Background(), rec), "op", mustURL(t, srv.URL))
			e := asAPIError(t, err)
			if e.Code != tt.wantCode || e.Status != tt.status || e.Op != "op" || e.RateLimited != tt.wantRate ||
				e.Transient != tt.wantTransient || e.RetryAfter != tt.wantRetry {
				t.Errorf("error = %+v\nwant code %s status %d rate-limited %v transient %v retry %s",
					e, tt.wantCode, tt.status, tt.wantRate, tt.wantTransient, tt.wantRetry)
			}
			if tt.wantMessage != "" && e.Message != tt.wantMessage {
				t.Errorf("message = %q, want %q", e.Message, tt.wantMessage)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), url.QueryEscape(token)) {
				t.Errorf("error text %q carries the token", err)
			}
			if !slices.Equal(rec.responses, []string{itoa(tt.status)}) || !slices.Equal(rec.errors, []string{tt.wantCode}) {
				t.Errorf("observed responses %v errors %v", rec.responses, rec.errors)
			}
		})
	}
}

func itoa(n int) string { return strings.TrimPrefix(provider.HTTPStatusCode(n), "http_") }

func TestRedact(t *testing.T) {
	c := &Client{Secrets: []string{"s3cr3t", "", "app/secret"}}
	tests := []struct{ in, want string }{
		{"token s3cr3t leaked", "token <redacted> leaked"},
		{"url ?p=app%2Fsecret&x=1", "url ?p=<redacted>&x=1"},
		{"path /app%2Fsecret/", "path /<redacted>/"},
		{"  many\n\tspaces   here ", "many spaces here"},
		{"bad \xff utf8", "bad ? utf8"},
		{strings.Repeat("a", 400), strings.Repeat("a", 300) + "…"},
		// Secrets go before the cut, so one that straddles it cannot leave a prefix behind.
		{strings.Repeat("b", 295) + "s3cr3t and more", strings.Repeat("b", 295) + "<reda…"},
	}
	for _, tt := range tests {
		if got := c.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%.40q) = %.60q, want %.60q", tt.in, got, tt.want)
		}
	}
}

func TestDecode(t *testing.T) {
	type point struct {
		Start Time     `json:"start"`
		Sent  *float64 `json:"sent"`
		ID    ID       `json:"template_id"`
	}
	type body struct {
		Data []struct {
			DataPoints []point `json:"data_points"`
		} `json:"data"`
	}
	tests := []struct {
		name, body string
		want       string // substring of the message; "" for success
	}{
		{"valid", `{"data":[{"data_points":[{"start":1543543200,"sent":3,"template_id":12}]}]}`, ""},
		{"not JSON", `<html>`, "malformed response: invalid JSON at byte 1"},
		{"truncated", `{"data":[`, "unexpected end of JSON input"},
		{"wrong type", `{"data":[{"data_points":[{"sent":"3"}]}]}`, "malformed response: field data.data_points.sent is a JSON string, want float64"},
		{"top level", `[1,2]`, "malformed response: field (top level) is a JSON array, want wire.body"},
		{"bad time", `{"data":[{"data_points":[{"start":"yesterday"}]}]}`, `malformed response: field data.data_points.start is a JSON string "yesterday", want time.Time`},
		{"bad id", `{"data":[{"data_points":[{"template_id":{"x":1}}]}]}`, `malformed response: field data.data_points.template_id is a JSON object "{\"x\":1}", want string`},
		{"token in a bad value", `{"data":[{"data_points":[{"start":"` + token + `"}]}]}`, `field data.data_points.start is a JSON string "<redacted>"`},
		// A real Graph token is some 200 characters: none of it may show.
		{"long token in a bad value", `{"data":[{"data_points":[{"start":"` + longToken + `"}]}]}`, `field data.data_points.start is a JSON string of 200 bytes, want time.Time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			var v body
			err := newClient().Decode(provider.WithObserver(context.Background(), rec), "op", []byte(tt.body), &v)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				p := v.Data[0].DataPoints[0]
				if p.Start.Unix() != 1543543200 || *p.Sent != 3 || p.ID != "12" {
					t.Errorf("decoded %+v", p)
				}
				return
			}
			e := asAPIError(t, err)
			if e.Code != provider.CodeMalformedResponse || !strings.Contains(e.Message, tt.want) {
				t.Errorf("error = %+v, want malformed_response containing %q", e, tt.want)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), longToken[:20]) {
				t.Errorf("error text %q carries the token", err)
			}
			if !slices.Equal(rec.errors, []string{provider.CodeMalformedResponse}) {
				t.Errorf("observed errors %v", rec.errors)
			}
		})
	}
}

func TestFail(t *testing.T) {
	rec := &recorder{}
	err := newClient().Fail(provider.WithObserver(context.Background(), rec), &provider.APIError{
		Op: "op", Code: provider.CodeTooManyPages, Message: "after " + token,
	})
	if e := asAPIError(t, err); e.Message != "after <redacted>" {
		t.Errorf("message = %q", e.Message)
	}
	if !slices.Equal(rec.errors, []string{provider.CodeTooManyPages}) || len(rec.responses) != 0 {
		t.Errorf("observed responses %v errors %v", rec.responses, rec.errors)
	}
}

func TestNextPage(t *testing.T) {
	base := &url.URL{Scheme: "https", Host: "graph.facebook.com"}
	prefixed := &url.URL{Scheme: "https", Host: "bsp.example.com:8443", Path: "/api"}
	tests := []struct {
		name    string
		base    *url.URL
		next    string
		want    string
		wantErr string
	}{
		{
			name: "same host",
			base: base, next: "https://graph.facebook.com/v21.0/1/template_analytics?after=MjQZD&limit=10",
			want: "https://graph.facebook.com/v21.0/1/template_analytics?after=MjQZD&limit=10",
		},
		{
			name: "access_token removed, the rest kept",
			base: base, next: "https://graph.facebook.com/v21.0/1?access_token=EAAG123&after=QVFI&fields=x",
			want: "https://graph.facebook.com/v21.0/1?after=QVFI&fields=x",
		},
		{
			name: "relative link",
			base: prefixed, next: "/api/v21.0/1?after=x",
			want: "https://bsp.example.com:8443/api/v21.0/1?after=x",
		},
		{name: "foreign host", base: base, next: "https://evil.example.com/v21.0/1?after=x", wantErr: "paging link points to https://evil.example.com, outside the configured API"},
		{name: "look-alike host", base: base, next: "https://graph.facebook.com.evil.example/x", wantErr: "outside the configured API"},
		{name: "downgraded scheme", base: base, next: "http://graph.facebook.com/v21.0/1", wantErr: "paging link points to http://graph.facebook.com, outside the configured API"},
		{name: "other port", base: prefixed, next: "https://bsp.example.com:9443/api/x", wantErr: "outside the configured API"},
		{name: "scheme-relative foreign host", base: base, next: "//evil.example.com/x", wantErr: "outside the configured API"},
		{name: "unparsable", base: base, next: "https://graph.facebook.com/%zz", wantErr: "unparsable paging link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := NextPage(tt.base, tt.next)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NextPage = %v, %v; want error containing %q", u, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NextPage: %v", err)
			}
			if u.String() != tt.want {
				t.Errorf("NextPage = %s, want %s", u, tt.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 6, 11, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"30", 30 * time.Second},
		{" 5 ", 5 * time.Second},
		{"0", 0},
		{"-10", 0},
		{"soon", 0},
		{"1.5", 0},
		{"86401", 24 * time.Hour},
		{"99999999999999999999", 24 * time.Hour}, // past an int: still a wait, capped
		{"-99999999999999999999", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"Tue, 11 Jun 2024 12:10:00 GMT", 10 * time.Minute},
		{"Tuesday, 11-Jun-24 12:00:30 GMT", 30 * time.Second}, // RFC 850, which HTTP still accepts
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		if got := retryAfter(h, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tt.value, got, tt.want)
		}
	}
	// The exported form reads the clock; a date an hour away is some time
	// in the future whatever the clock says.
	h := http.Header{"Retry-After": {time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}}
	if got := RetryAfter(h); got <= 0 || got > time.Hour {
		t.Errorf("RetryAfter(an hour from now) = %s", got)
	}
}

// TestPages: the paging loop every provider uses follows links to the last
// page, signs each link, and stops at a foreign link or at the page cap.
func TestPages(t *testing.T) {
	tests := []struct {
		name      string
		maxPages  int
		next      func(srv string, page int) string // the link page n returns
		wantPages int
		wantCode  string
	}{
		{"three pages", 0, func(srv string, n int) string {
			if n == 3 {
				return ""
			}
			return srv + "/data?after=" + itoa(n)
		}, 3, ""},
		{"endless pages hit the cap", 4, func(srv string, n int) string { return srv + "/data?after=" + itoa(n) }, 4, provider.CodeTooManyPages},
		{"a foreign link is not followed", 0, func(srv string, n int) string { return "https://elsewhere.example/data" }, 1, provider.CodeForeignNextURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var signed []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				signed = append(signed, r.URL.Query().Get("sig"))
			}))
			defer srv.Close()
			c := newClient()
			c.MaxPages = tt.maxPages
			c.PrepareNext = func(u *url.URL) {
				q := u.Query()
				q.Set("sig", "ok")
				u.RawQuery = q.Encode()
			}
			base := mustURL(t, srv.URL)
			pages := 0
			err := c.Pages(context.Background(), "op", base, mustURL(t, srv.URL+"/data"), func([]byte) (string, error) {
				pages++
				return tt.next(srv.URL, pages), nil
			})
			if pages != tt.wantPages {
				t.Errorf("%d pages read, want %d", pages, tt.wantPages)
			}
			if tt.wantCode == "" && err != nil {
				t.Fatalf("Pages: %v", err)
			}
			if tt.wantCode != "" && asAPIError(t, err).Code != tt.wantCode {
				t.Errorf("error code %q, want %q", asAPIError(t, err).Code, tt.wantCode)
			}
			if want := append([]string{""}, slices.Repeat([]string{"ok"}, len(signed)-1)...); !slices.Equal(signed, want) {
				t.Errorf("sig parameter per request = %q, want the first unsigned and every link signed", signed)
			}
		})
	}
}

// A request the caller gives up on (the exporter shutting down, a reload
// stopping the account) is no failure of the API: it is not counted as an
// error, and nothing says the API hangs.
func TestGetCallerGaveUp(t *testing.T) {
	for _, sendHeaders := range []bool{false, true} {
		done := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if sendHeaders {
				io.WriteString(w, `{"data": [`)
				w.(http.Flusher).Flush()
			}
			<-done
		}))
		c := newClient()
		c.Timeout = time.Minute
		rec := &recorder{}
		ctx, cancel := context.WithCancel(provider.WithObserver(context.Background(), rec))
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := c.Get(ctx, "op", mustURL(t, srv.URL))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("headers sent %v: error %v, want one wrapping context.Canceled", sendHeaders, err)
		}
		rec.mu.Lock()
		if len(rec.errors) != 0 || (!sendHeaders && len(rec.responses) != 0) {
			t.Errorf("headers sent %v: observed responses %v errors %v; a request the caller gave up on is not the API's failure", sendHeaders, rec.responses, rec.errors)
		}
		rec.mu.Unlock()
		close(done)
		srv.Close()
	}
}
