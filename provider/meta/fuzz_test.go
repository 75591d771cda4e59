package meta

// Fuzz tests of every decoder of a Graph answer. Their seeds run with every
// go test; CI fuzzes each for a short while, and one runs longer with
//
//	go test -run '^$' -fuzz '^FuzzDecodeResponses$' -fuzztime 5m ./provider/meta/

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/internal/wire"
)

// addFixtures seeds a fuzz target with every example answer in testdata, the
// documents' malformed ones included, through add.
func addFixtures(f *testing.F, add func(body []byte)) {
	f.Helper()
	for _, pattern := range []string{"testdata/*.json", "testdata/quirks/*.json"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			add(b)
		}
	}
}

// checkFinite fails for a value no JSON number can hold: a NaN or an
// infinity would poison every sum and rate over the series.
func checkFinite(t *testing.T, what string, values ...*float64) {
	t.Helper()
	for _, v := range values {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			t.Errorf("%s decoded to %v", what, *v)
		}
	}
}

// checkUTC fails for a bucket time that is not in UTC: the scheduler
// compares them with its own.
func checkUTC(t *testing.T, what string, times ...time.Time) {
	t.Helper()
	for _, tm := range times {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %s not in UTC", what, tm)
		}
	}
}

// FuzzDecodeResponses feeds arbitrary bodies to the decoder of every
// analytics answer. A body either fails as a malformed_response or decodes to
// points whose times are in UTC and whose values are finite; and it decodes
// the same with its counts and costs spelled as strings as with numbers, so
// a count's value (and sign) is the same however the API spells it.
func FuzzDecodeResponses(f *testing.F) {
	addFixtures(f, func(b []byte) { f.Add(b) })
	f.Add([]byte(`{"analytics":{"data_points":[{"start":-9223372036854775808,"end":"2024-02-30"}]}}`))
	f.Add([]byte(`{"analytics":{"data_points":[{"start":0,"end":1800,"sent":"-0","delivered":"1e400","SENT":-5}]}}`))
	f.Add([]byte(`{"data":[{"id":1e400,"display_phone_number":null}],"paging":{"next":7}}`))
	f.Add([]byte(`{"data":[{"id":"1","throughput":{"level":null},"health_status":{"can_send_message":"\ud800"},"quality_score":{"score":{}}}]}`))
	f.Add([]byte(`{"data":[{"data_points":[{"template_id":1e400,"clicked":[{"count":"7","value":8}],"cost":[{"value":"-0.5"}]}]}],"paging":{"next":"https://graph.example.com/v21.0/1?access_token=x"}}`))

	c, err := New(Options{BaseURL: "https://graph.example.com", APIVersion: "v21.0", AccessToken: token, AppSecret: appSecret})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(op string, err error) bool {
			if err == nil {
				return true
			}
			var e *provider.APIError
			if !errors.As(err, &e) || e.Code != provider.CodeMalformedResponse || e.Op != op {
				t.Errorf("%s: error %v, want a malformed_response of %s", op, err, op)
			}
			return false
		}
		var m page[messagingWire]
		if check("analytics", c.decodePage(ctx, "analytics", body, &m)) {
			for _, p := range convert(m.points(), messagingWire.point) {
				checkUTC(t, "analytics", p.Start, p.End)
				checkFinite(t, "analytics", p.Sent, p.Delivered)
			}
		}
		var cv page[conversationWire]
		if check("conversation_analytics", c.decodePage(ctx, "conversation_analytics", body, &cv)) {
			for _, p := range convert(cv.points(), conversationWire.point) {
				checkUTC(t, "conversation_analytics", p.Start, p.End)
				checkFinite(t, "conversation_analytics", p.Conversations, p.Cost)
			}
		}
		var pr page[pricingWire]
		if check("pricing_analytics", c.decodePage(ctx, "pricing_analytics", body, &pr)) {
			for _, p := range convert(pr.points(), pricingWire.point) {
				checkUTC(t, "pricing_analytics", p.Start, p.End)
				checkFinite(t, "pricing_analytics", p.Volume, p.Cost)
			}
		}
		var cl page[callWire]
		if c.decodePage(ctx, "call_analytics", body, &cl) == nil {
			convert(cl.points(), callWire.point)
		}
		var tp page[templateWire]
		if check("template_analytics", c.decodePage(ctx, "template_analytics", body, &tp)) {
			for _, p := range convert(tp.points(), templateWire.point) {
				checkUTC(t, "template_analytics", p.Start, p.End)
				checkFinite(t, "template_analytics", p.Sent, p.Delivered, p.Read)
				for _, b := range p.Clicked {
					checkFinite(t, "template_analytics clicked", &b.Count)
				}
				for _, v := range p.Cost {
					checkFinite(t, "template_analytics cost", &v.Value)
				}
			}
			if next := tp.next(); next != "" {
				if u, err := wire.NextPage(c.base, next); err == nil {
					c.signNext(u)
					if u.Host != c.base.Host || u.Query().Get("appsecret_proof") != c.proof {
						t.Errorf("signed paging link %s", u)
					}
				}
			}
		}

		// Account health: the phone_numbers and message_templates edges
		// decode or fail, without a panic, whatever the fields hold.
		var phones struct {
			Data []phoneWire `json:"data"`
		}
		if c.wire.Decode(ctx, "phone_numbers", body, &phones) == nil {
			for _, p := range phones.Data {
				p.phone(legacyMessagingLimitField)
			}
		}
		var templates struct {
			Data []templateHealthWire `json:"data"`
		}
		c.wire.Decode(ctx, "message_templates", body, &templates)

		numbers, _, ok := respell(body, false)
		if !ok {
			return
		}
		strs, _, _ := respell(body, true)
		if got, want := decodeAll(c, strs), decodeAll(c, numbers); !reflect.DeepEqual(got, want) {
			t.Errorf("counts as strings decode to\n%s\nas numbers to\n%s", dump(got), dump(want))
		}
	})
}

// roundTrip is an in-memory HTTP transport: no server, no goroutine.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// errorCode is the form of every error_code label a Graph error can give: the
// API's integer code, or http_<status> when the body names none.
var errorCode = regexp.MustCompile(`^(-?[0-9]+|http_[0-9]{3})$`)

// FuzzGraphErrors sends arbitrary error answers (status, body, usage and
// Retry-After headers) through the client. Each becomes a typed error whose
// code is an integer or http_<status> (it becomes a label), whose waits are
// within provider.MaxUpstreamWait, whose text is short and never carries the
// token or the app secret, and which is reported to the observer once.
func FuzzGraphErrors(f *testing.F) {
	buc := `{"` + wabaID + `":[{"type":"whatsapp_business_management","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":3}]}`
	for i, body := range []string{
		errorBody(4, 2446079, true, ""),
		errorBody(80007, 0, false, ""),
		errorBody(190, 463, false, `,"error_user_title":"`+token+`"`),
		errorBody(100, 0, false, `,"error_user_title":"Cost not available","error_user_msg":"Cost is no longer shown"`),
		`{"error":{"message":"Malformed access token ` + token + ` ` + url.QueryEscape(token) + ` ` + appSecret + `","code":190}}`,
		`{"error":{"message":"no code"}}`,
		`{"error":{"code":99999999999999999999}}`,
		`{"error":{"code":-4,"error_subcode":-1}}`,
		"<html>502 Bad Gateway</html>",
		"upstream said: Authorization: Bearer " + token,
		`{"error":{"message":"` + strings.Repeat("x", 400) + token + `","code":1}}`,
	} {
		f.Add(uint16(i), []byte(body), buc, "")
	}
	f.Add(uint16(29), []byte(errorBody(4, 0, false, "")), `{"1":[{"type":"a","estimated_time_to_regain_access":1e308}]}`, "99999999")
	f.Add(uint16(100), []byte(errorBody(2, 0, false, "")), "", "Fri, 31 Dec 9999 23:59:59 GMT")
	addFixtures(f, func(b []byte) { f.Add(uint16(0), b, "", "") })

	f.Fuzz(func(t *testing.T, statusSeed uint16, body []byte, usage, retryAfter string) {
		status := 400 + int(statusSeed)%200
		c, err := New(Options{
			BaseURL: "https://graph.example.com", APIVersion: "v21.0", AccessToken: token, AppSecret: appSecret,
			HTTP: &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
				h := http.Header{}
				if usage != "" {
					h.Set("X-Business-Use-Case-Usage", usage)
				}
				if retryAfter != "" {
					h.Set("Retry-After", retryAfter)
				}
				return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
			})},
		})
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		_, err = c.Conversations(provider.WithObserver(context.Background(), rec),
			provider.ConversationQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)})
		var e *provider.APIError
		if !errors.As(err, &e) {
			t.Fatalf("HTTP %d: error %v (%T), want an *provider.APIError", status, err, err)
		}
		if e.Status != status {
			t.Errorf("error %+v, want status %d", e, status)
		}
		if !errorCode.MatchString(e.Code) || strings.HasPrefix(e.Code, "http_") && e.Code != provider.HTTPStatusCode(status) {
			t.Errorf("HTTP %d: error code %q, want an integer or http_%d", status, e.Code, status)
		}
		if status == http.StatusTooManyRequests && !e.RateLimited || status >= 500 && !e.Transient {
			t.Errorf("HTTP %d: rate limited %v, transient %v", status, e.RateLimited, e.Transient)
		}
		if e.RetryAfter < 0 || e.RetryAfter > provider.MaxUpstreamWait {
			t.Errorf("HTTP %d: retry after %s", status, e.RetryAfter)
		}
		if len(e.Message) > 300+len("…") {
			t.Errorf("a message of %d bytes", len(e.Message))
		}
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", e)} {
			for _, secret := range []string{token, url.QueryEscape(token), appSecret} {
				if strings.Contains(text, secret) {
					t.Fatalf("the error carries a credential: %s", text)
				}
			}
		}
		if want := []string{strconv.Itoa(status)}; !reflect.DeepEqual(rec.responses, want) || !reflect.DeepEqual(rec.errors, []string{e.Code}) {
			t.Errorf("observed responses %v and errors %v, want %v and [%s]", rec.responses, rec.errors, want, e.Code)
		}
		for _, u := range rec.usage {
			if u.RegainAccess < 0 || u.RegainAccess > provider.MaxUpstreamWait {
				t.Errorf("usage report %+v", u)
			}
		}
	})
}

// FuzzUsageHeaders feeds arbitrary X-Business-Use-Case-Usage and X-App-Usage
// values to the usage parser: every report names its budget, its wait is
// within provider.MaxUpstreamWait, the business header gives one report per
// object and budget type, in order (a gauge must not flap with map order;
// each WABA's own budget is its own), and the wait
// Graph's errors take is the longest reported.
func FuzzUsageHeaders(f *testing.F) {
	f.Add(`{"`+wabaID+`":[{"type":"whatsapp_business_management","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":3}]}`,
		`{"call_count":28,"total_time":25,"total_cputime":25}`)
	f.Add(`{"1":[{"type":"a","call_count":"x","estimated_time_to_regain_access":1e308}],"2":[{"type":"a","estimated_time_to_regain_access":0.001},{"call_count":-1}]}`, `{}`)
	f.Add(`{"1":[{"type":"app","estimated_time_to_regain_access":-5}]}`, `{"call_count":1e400}`)
	f.Add(`[]`, `null`)
	f.Fuzz(func(t *testing.T, business, app string) {
		h := http.Header{}
		h.Set("X-Business-Use-Case-Usage", business)
		fromBusiness := usageReports(h)
		for i, u := range fromBusiness {
			if i == 0 {
				continue
			}
			prev := fromBusiness[i-1]
			if prev.Object > u.Object || prev.Object == u.Object && prev.Type >= u.Type {
				t.Errorf("reports %+v: (object, type) not unique and in order", fromBusiness)
			}
		}
		h.Set("X-App-Usage", app)
		var longest time.Duration
		for _, u := range usageReports(h) {
			if u.Type == "" || u.RegainAccess < 0 || u.RegainAccess > provider.MaxUpstreamWait {
				t.Errorf("usage report %+v", u)
			}
			longest = max(longest, u.RegainAccess)
		}
		if got := regainAccess(h); got != longest {
			t.Errorf("regainAccess = %s, want the longest reported, %s", got, longest)
		}
		h.Del("X-Business-Use-Case-Usage")
		if r := usageReports(h); len(r) > 1 || len(r) == 1 && (r[0].Type != "app" || r[0].RegainAccess != 0) {
			t.Errorf("X-App-Usage %q gave %+v, want at most one report of type app, without a wait", app, r)
		}
	})
}
