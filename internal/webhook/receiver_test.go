package webhook

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	wt "github.com/whatsapp-exporter/whatsapp_exporter/internal/webhook/webhooktest"
)

const (
	secretOne   = "first-app-secret"
	secretTwo   = "second-app-secret" // the one being rotated in
	verifyToken = "verify-me-token"
	waba        = "102290129340398"
	phoneID     = "106540352242922"
)

// syncBuffer is a log sink that the handler's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newReceiver is an endpoint with both secrets and the verify token, that
// logs everything, debug included, to the returned buffer.
func newReceiver(t testing.TB, edit ...func(*config.Webhooks)) (*Receiver, *syncBuffer) {
	t.Helper()
	c := &config.Webhooks{
		Path: "/webhooks", DedupWindow: 1000, MaxSeries: 1000,
		AppSecrets: []config.Secret{secretOne, secretTwo}, VerifyToken: verifyToken,
	}
	for _, e := range edit {
		e(c)
	}
	logs := &syncBuffer{}
	return New(c, Options{Logger: log.NewLogfmtLogger(logs), Now: func() time.Time { return time.Unix(1750857400, 0) }}), logs
}

// post sends body to the endpoint, signed with secret unless the headers
// say otherwise.
func post(r http.Handler, body []byte, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(secretOne, body))
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

// one is a body with one sent status.
func one(id string) []byte {
	return wt.Body(wt.Change{WABAID: waba, PhoneNumberID: phoneID, DisplayPhoneNumber: "15550783881",
		Statuses: []wt.Status{{ID: id, Status: "sent", Timestamp: 1750857384, RecipientID: "16505551234"}}})
}

// counted is the sum of whatsapp_webhook_statuses_total.
func counted(t *testing.T, r *Receiver) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(r)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() == "whatsapp_webhook_statuses_total" {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// nested is a JSON array nested depth deep.
func nested(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }

func TestRequests(t *testing.T) {
	good := one("wamid.good")
	truncated := good[:len(good)/2]
	huge := append(bytes.Repeat([]byte(" "), MaxBodyBytes), good...)
	// A status beside an unknown field nested 5,000 deep (encoding/json
	// takes 10,000) counts; a body nested past that is not JSON to the
	// decoder, and is refused whole.
	deepField := []byte(strings.Replace(string(good), `"status":"sent"`, `"status":"sent","x_unknown":`+nested(5000), 1))
	tooDeep := []byte(strings.Replace(string(good), `"status":"sent"`, `"status":"sent","x_unknown":`+nested(20000), 1))
	unknownFields := []byte(`{"object":"whatsapp_business_account","new_top":{"a":[1,2]},"entry":[{"id":"` + waba + `","time":1,
		"changes":[{"field":"messages","extra":true,"value":{"messaging_product":"whatsapp","contacts":[],
		"metadata":{"display_phone_number":"15550783881","phone_number_id":"` + phoneID + `","future":"x"},
		"statuses":[{"id":"wamid.u","status":"sent","timestamp":"1750857384","recipient_id":"16505551234",
		"conversation":{"id":"c","origin":{"type":"service"}},"biz_opaque_callback_data":"x","recipient_type":"individual"}]}}]}]}`)

	for _, tc := range []struct {
		name    string
		method  string
		query   string
		body    []byte
		header  map[string]string
		noToken bool
		code    int
		answer  string // the answer's body, when it matters
		reason  string // refused_total's reason; "" when accepted
		counted float64
	}{
		{name: "handshake", method: http.MethodGet, query: "hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=1158201444",
			code: 200, answer: "1158201444"},
		{name: "handshake with a wrong token", method: http.MethodGet, query: "hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1",
			code: 403, reason: refuseVerifyToken},
		{name: "handshake with another mode", method: http.MethodGet, query: "hub.mode=unsubscribe&hub.verify_token=" + verifyToken + "&hub.challenge=1",
			code: 400, reason: refuseVerifyMode},
		{name: "handshake without a challenge", method: http.MethodGet, query: "hub.mode=subscribe&hub.verify_token=" + verifyToken,
			code: 400, reason: refuseVerifyChallenge},
		{name: "handshake with a challenge that is not a number", method: http.MethodGet,
			query: "hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=%3Cscript%3E",
			code:  400, reason: refuseVerifyChallenge},
		{name: "handshake without a configured token", method: http.MethodGet, query: "hub.mode=subscribe&hub.verify_token=&hub.challenge=1",
			noToken: true, code: 403, reason: refuseVerifyToken},

		{name: "signed", body: good, code: 200, counted: 1},
		{name: "signed with the second secret", body: good, header: map[string]string{SignatureHeader: Sign(secretTwo, good)}, code: 200, counted: 1},
		{name: "charset in the content type", body: good, header: map[string]string{"Content-Type": "application/json; charset=utf-8"}, code: 200, counted: 1},
		{name: "no signature", body: good, header: map[string]string{SignatureHeader: ""}, code: 401, reason: refuseSignatureMissing},
		{name: "signed with another secret", body: good, header: map[string]string{SignatureHeader: Sign("not-the-secret", good)}, code: 403, reason: refuseSignatureInvalid},
		{name: "a signature of another body", body: good, header: map[string]string{SignatureHeader: Sign(secretOne, one("wamid.other"))}, code: 403, reason: refuseSignatureInvalid},
		{name: "a SHA-1 signature", body: good, header: map[string]string{SignatureHeader: "sha1=" + strings.Repeat("ab", 20)}, code: 403, reason: refuseSignatureInvalid},
		{name: "a signature that is not hex", body: good, header: map[string]string{SignatureHeader: "sha256=" + strings.Repeat("zz", 32)}, code: 403, reason: refuseSignatureInvalid},
		{name: "truncated JSON", body: truncated, code: 400, reason: refuseMalformedJSON},
		{name: "not JSON", body: []byte("entry=1&object=whatsapp"), code: 400, reason: refuseMalformedJSON},
		{name: "a wrong content type", body: good, header: map[string]string{"Content-Type": "text/plain"}, code: 415, reason: refuseContentType},
		{name: "no content type", body: good, header: map[string]string{"Content-Type": ""}, code: 415, reason: refuseContentType},
		{name: "over 3 MiB", body: huge, code: 413, reason: refuseTooLarge},
		{name: "over 3 MiB without a length", body: huge, header: map[string]string{"Transfer-Encoding": "chunked"}, code: 413, reason: refuseTooLarge},
		{name: "PUT", method: http.MethodPut, body: good, code: 405, reason: refuseMethod},
		{name: "deep nesting in an unknown field", body: deepField, code: 200, counted: 1},
		{name: "nesting past the decoder's limit", body: tooDeep, code: 400, reason: refuseMalformedJSON},
		{name: "unknown fields everywhere", body: unknownFields, code: 200, counted: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, logs := newReceiver(t, func(c *config.Webhooks) {
				if tc.noToken {
					c.VerifyToken = ""
				}
			})
			var rec *httptest.ResponseRecorder
			switch tc.method {
			case "", http.MethodPost:
				header := tc.header
				if h := tc.header["Transfer-Encoding"]; h != "" {
					// A body of unknown length: the reader hides it.
					req := httptest.NewRequest(http.MethodPost, "/webhooks", io.MultiReader(bytes.NewReader(tc.body)))
					req.ContentLength = -1
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set(SignatureHeader, Sign(secretOne, tc.body))
					rec = httptest.NewRecorder()
					r.ServeHTTP(rec, req)
					break
				}
				rec = post(r, tc.body, header)
			default:
				req := httptest.NewRequest(tc.method, "/webhooks?"+tc.query, bytes.NewReader(tc.body))
				rec = httptest.NewRecorder()
				r.ServeHTTP(rec, req)
			}
			if rec.Code != tc.code {
				t.Errorf("answer %d %q, want %d", rec.Code, rec.Body.String(), tc.code)
			}
			if tc.answer != "" && rec.Body.String() != tc.answer {
				t.Errorf("answer body %q, want %q", rec.Body.String(), tc.answer)
			}
			if got := counted(t, r); got != tc.counted {
				t.Errorf("counted %v statuses, want %v", got, tc.counted)
			}
			if got := testutil.ToFloat64(r.requests.WithLabelValues(fmt.Sprint(tc.code))); got != 1 {
				t.Errorf("requests_total{code=%d} = %v, want 1", tc.code, got)
			}
			for _, reason := range refusals {
				want := 0.0
				if reason == tc.reason {
					want = 1
				}
				if got := testutil.ToFloat64(r.refused.WithLabelValues(reason)); got != want {
					t.Errorf("refused_total{reason=%q} = %v, want %v", reason, got, want)
				}
			}
			if tc.reason != "" {
				if !strings.Contains(logs.String(), "level=debug") || !strings.Contains(logs.String(), "reason="+tc.reason) {
					t.Errorf("no debug line with the reason: %s", logs.String())
				}
				if strings.Contains(rec.Body.String(), "<script>") {
					t.Errorf("the answer echoes the request: %q", rec.Body.String())
				}
			}
			if tc.method == "PUT" && rec.Header().Get("Allow") != "GET, POST" {
				t.Errorf("Allow: %q", rec.Header().Get("Allow"))
			}
		})
	}
}

// A signature, right or wrong, never shows in an answer or a log line; nor
// does a secret or the verify token.
func TestNoSignatureInAnswersOrLogs(t *testing.T) {
	r, logs := newReceiver(t)
	body := one("wamid.leak")
	right, wrong := Sign(secretOne, body), Sign("guessed", body)
	var answers strings.Builder
	for _, header := range []map[string]string{
		{SignatureHeader: right}, {SignatureHeader: wrong}, {SignatureHeader: right, "Content-Type": "text/html"},
		{SignatureHeader: wrong + "0"},
	} {
		rec := post(r, body, header)
		answers.WriteString(rec.Body.String())
		for k, v := range rec.Header() {
			fmt.Fprintln(&answers, k, v)
		}
	}
	for _, q := range []string{"hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=7",
		"hub.mode=subscribe&hub.verify_token=wrong-token&hub.challenge=7"} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks?"+q, nil))
		answers.WriteString(rec.Body.String())
	}
	for name, text := range map[string]string{"answers": answers.String(), "logs": logs.String()} {
		for _, secret := range []string{right[7:], wrong[7:], right[7:20], wrong[7:20], secretOne, secretTwo, verifyToken, "wrong-token"} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s contain %q:\n%s", name, secret, text)
			}
		}
	}
	if !strings.Contains(logs.String(), "signature_invalid") {
		t.Errorf("the logs say nothing of the refusals: %s", logs.String())
	}
}

// The endpoint of a configuration without webhooks serves and exports
// nothing, and says so when a reload adds the section.
func TestOff(t *testing.T) {
	logs := &syncBuffer{}
	r := New(nil, Options{Logger: log.NewLogfmtLogger(logs)})
	if r.On() {
		t.Fatal("on without a configuration")
	}
	if n, err := testutil.GatherAndCount(registryOf(r)); err != nil || n != 0 {
		t.Errorf("%d series, %v; want none", n, err)
	}
	if rec := post(r, one("x"), nil); rec.Code != http.StatusNotFound {
		t.Errorf("answer %d, want 404", rec.Code)
	}
	r.Apply(&config.Webhooks{Path: "/webhooks"})
	if !strings.Contains(logs.String(), "next restart") {
		t.Errorf("no warning: %q", logs.String())
	}
}

func registryOf(c prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	return reg
}

// A reload rotates the secrets at once: the old secret stops working, the
// new one works, and the verify token is the new one. A change of another
// setting is logged as needing a restart.
func TestApplyRotatesSecrets(t *testing.T) {
	r, logs := newReceiver(t, func(c *config.Webhooks) { c.AppSecrets = []config.Secret{secretOne} })
	if rec := post(r, one("a"), map[string]string{SignatureHeader: Sign(secretTwo, one("a"))}); rec.Code != 403 {
		t.Fatalf("the second secret before the reload: %d", rec.Code)
	}
	r.Apply(&config.Webhooks{Path: "/webhooks", DedupWindow: 1000, MaxSeries: 1000,
		AppSecretFiles: []string{"new"}, AppSecrets: []config.Secret{secretTwo}, VerifyToken: "new-token"})
	if rec := post(r, one("b"), nil); rec.Code != 403 {
		t.Errorf("the old secret after the reload: %d", rec.Code)
	}
	if rec := post(r, one("c"), map[string]string{SignatureHeader: Sign(secretTwo, one("c"))}); rec.Code != 200 {
		t.Errorf("the new secret after the reload: %d", rec.Code)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks?hub.mode=subscribe&hub.verify_token=new-token&hub.challenge=5", nil))
	if rec.Code != 200 {
		t.Errorf("the new verify token: %d", rec.Code)
	}
	if strings.Contains(logs.String(), "restart") {
		t.Errorf("a change of the secrets alone asks for a restart: %s", logs.String())
	}
	r.Apply(&config.Webhooks{Path: "/elsewhere", DedupWindow: 1000, MaxSeries: 1000, AppSecrets: []config.Secret{secretTwo}})
	if !strings.Contains(logs.String(), "next restart") || r.Path() != "/webhooks" {
		t.Errorf("a new path: path %s, logs %s", r.Path(), logs.String())
	}
}
