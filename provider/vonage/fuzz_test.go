package vonage

// Fuzz tests of every decoder of a Channel Manager answer. Their seeds run
// with every go test; CI fuzzes each for a short while, and one runs longer
// with
//
//	go test -run '^$' -fuzz '^FuzzAnswers$' -fuzztime 5m ./provider/vonage/

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

func addFixtures(f *testing.F, add func(body []byte)) {
	f.Helper()
	for _, name := range []string{"messaging-analytics.json", "template-analytics.json", "pricing-analytics.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

// checkPoint requires what every decoded bucket holds: times in UTC, a
// bucket that ends after it starts (bucketEnd reads a date label as the day
// it names), and finite values.
func checkPoint(t *testing.T, what string, start, end time.Time, values ...*float64) {
	t.Helper()
	if start.Location() != time.UTC || end.Location() != time.UTC {
		t.Errorf("%s: bucket %s..%s not in UTC", what, start, end)
	}
	if !start.IsZero() && !end.After(start) {
		t.Errorf("%s: bucket %s..%s does not end after it starts", what, start, end)
	}
	for _, v := range values {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			t.Errorf("%s: value %v", what, *v)
		}
	}
}

// FuzzAnswers feeds arbitrary 200 answers to every endpoint. The client
// returns a typed error of the exporter's own (malformed_response,
// too_many_pages, foreign_next_url) or points that checkPoint accepts; it
// never sends a request off the API's host; and an answer decodes the same
// with its counts spelled as strings as with numbers.
func FuzzAnswers(f *testing.F) {
	addFixtures(f, func(b []byte) { f.Add(b) })
	f.Add([]byte(`{"_embedded": {"messaging_analytics": [{"start": 1, "end": "x"}]}}`))
	f.Add([]byte(`{"_links": {"next": {"href": "//evil.example/x"}}}`))
	f.Add([]byte(`{"_embedded": {"messaging_analytics": [{"start": "9223372036854775807", "end": "0", "sent": "-0", "delivered": "1e400"}]}}`))
	f.Add([]byte(`{"_embedded": {"template_analytics": [{"start": "2024-12-31", "end": "2024-12-31", "clicked": "-3", "CLICKED": 4}]}}`))
	f.Add([]byte(`{"_embedded": {"pricing_analytics": [{"start": "-62135596800", "volume": "0.5"}]}, "paging": {"next": "/v1/channel-manager/x?cursor=1"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, a := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
			writeBody(w, 200, body)
		})
		ctx := context.Background()
		w := provider.Window{Start: day(2024, 11, 10), End: day(2024, 11, 14), Granularity: provider.Day}
		m, err1 := c.Messaging(ctx, provider.MessagingQuery{WABAID: testWABA, Window: w})
		for _, p := range m {
			checkPoint(t, opMessaging, p.Start, p.End, p.Sent, p.Delivered)
		}
		pr, err2 := c.Pricing(ctx, provider.PricingQuery{WABAID: testWABA, Window: w})
		for _, p := range pr {
			checkPoint(t, opPricing, p.Start, p.End, p.Volume, p.Cost)
			if p.Cost != nil {
				t.Errorf("pricing point with cost %v: Vonage reports none", *p.Cost)
			}
		}
		tp, err3 := c.Templates(ctx, provider.TemplateQuery{WABAID: testWABA, Window: w, TemplateIDs: []string{"1"}})
		for _, p := range tp {
			checkPoint(t, opTemplates, p.Start, p.End, p.Sent, p.Delivered, p.Read)
			if len(p.Clicked) > 1 || len(p.Clicked) == 1 && (p.Clicked[0].Type != "" || p.Clicked[0].Content != "") {
				t.Errorf("clicks %+v, want at most one total without button", p.Clicked)
			}
			for _, b := range p.Clicked {
				checkPoint(t, "clicked", p.Start, p.End, &b.Count)
			}
		}
		for _, err := range []error{err1, err2, err3} {
			var apiErr *provider.APIError
			if err == nil {
				continue
			}
			if !errors.As(err, &apiErr) {
				t.Fatalf("untyped error %v", err)
			}
			switch apiErr.Code {
			case provider.CodeMalformedResponse, provider.CodeTooManyPages, provider.CodeForeignNextURL:
			default:
				t.Errorf("a 200 answer failed with code %q: %v", apiErr.Code, err)
			}
		}
		for _, r := range a.requests() {
			if r.URL.Host != "api.nexmo.com" || r.URL.Scheme != "https" {
				t.Errorf("request to %s://%s", r.URL.Scheme, r.URL.Host)
			}
			if strings.Contains(r.URL.String(), testSecret) {
				t.Errorf("the secret is in the URL %s", r.URL)
			}
		}

		numbers, _, ok := respell(body, false)
		if !ok {
			return
		}
		strs, _, _ := respell(body, true)
		if got, want := fetchAll(t, strs), fetchAll(t, numbers); !reflect.DeepEqual(got, want) {
			t.Errorf("counts as strings give\n%+v\nas numbers\n%+v", got, want)
		}
	})
}

// FuzzErrorAnswers sends arbitrary error answers (status, problem body,
// Retry-After) through the client. Each becomes a typed error with the code
// http_<status>, a wait within provider.MaxUpstreamWait, 429 rate limited and
// 5xx transient, a short text that never carries the secret or the encoded
// credential, reported to the observer once.
func FuzzErrorAnswers(f *testing.F) {
	encoded := base64.StdEncoding.EncodeToString([]byte(testKey + ":" + testSecret))
	for i, body := range []string{
		`{"type": "https://developer.vonage.com/api-errors#forbidden", "title": "Forbidden", "detail": "API key is not linked to this WABA ID.", "instance": "bf0ca0bf"}`,
		`{"title": "Bad credentials ` + testSecret + `", "detail": "header was Basic ` + encoded + `"}`,
		`{"title": 5, "detail": ["x"]}`,
		`{"title": "` + strings.Repeat("long ", 100) + testSecret + `"}`,
		"<html>503 Service Unavailable</html>",
		"",
	} {
		f.Add(uint16(i), []byte(body), "")
	}
	f.Add(uint16(29), []byte(`{"title": "Too Many Requests"}`), "120")
	f.Add(uint16(29), []byte(`{}`), "99999999999999999999")
	f.Add(uint16(103), []byte(`{}`), "Fri, 31 Dec 9999 23:59:59 GMT")
	f.Fuzz(func(t *testing.T, statusSeed uint16, body []byte, retryAfter string) {
		status := 400 + int(statusSeed)%200
		c, _ := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			writeBody(w, status, body)
		})
		rec := &recorder{}
		_, err := c.Messaging(provider.WithObserver(context.Background(), rec), provider.MessagingQuery{WABAID: testWABA, Window: halfHourWindow()})
		var e *provider.APIError
		if !errors.As(err, &e) {
			t.Fatalf("HTTP %d: error %v (%T), want an *provider.APIError", status, err, err)
		}
		if e.Status != status || e.Code != provider.HTTPStatusCode(status) {
			t.Errorf("HTTP %d: status %d, code %q", status, e.Status, e.Code)
		}
		if status == http.StatusTooManyRequests && !e.RateLimited || status >= 500 && !e.Transient {
			t.Errorf("HTTP %d: rate limited %v, transient %v", status, e.RateLimited, e.Transient)
		}
		if e.RetryAfter < 0 || e.RetryAfter > provider.MaxUpstreamWait {
			t.Errorf("HTTP %d: retry after %s", status, e.RetryAfter)
		}
		if e.Message == "" || len(e.Message) > 300+len("…") {
			t.Errorf("a message of %d bytes", len(e.Message))
		}
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", e)} {
			if strings.Contains(text, testSecret) || strings.Contains(text, encoded) {
				t.Fatalf("the error carries the credential: %s", text)
			}
		}
		if !slices.Equal(rec.responses, []string{strconv.Itoa(status)}) || !slices.Equal(rec.errors, []string{e.Code}) {
			t.Errorf("observed responses %v and errors %v, want [%d] and [%s]", rec.responses, rec.errors, status, e.Code)
		}
	})
}
