// Package webhook receives Meta's message status webhooks and turns them into
// counters: statuses by status and recipient country, failures by error
// code, delivered messages by pricing, and the time from sent to delivered
// and to read. The analytics APIs say how many were delivered an hour after
// the fact; the webhooks say it, and why not, as it happens.
//
// A POST is believed only once its X-Hub-Signature-256 checks out against
// an app secret; then its statuses are decoded, each (message, status)
// counted once within a bounded window of recent messages, and the answer
// goes out at once. The GET handshake of a subscription is answered with
// the verify token from the configuration. Meta's pages:
// https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/overview
// and https://developers.facebook.com/docs/graph-api/webhooks/getting-started.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
)

// MaxBodyBytes is the largest body read: Meta's webhook payloads are up to
// 3 MB (the webhooks overview page).
const MaxBodyBytes = 3 << 20

// maxBytesInFlight bounds the bodies held at once by all requests: 21 bodies
// at the cap, or thousands of ordinary ones (a status is about 300 bytes).
// A request waits for room before it reads its body, so that many senders
// at once, or many slow ones, cannot grow the memory without bound.
const maxBytesInFlight = 64 << 20

// SignatureHeader is where Meta puts "sha256=" and the HMAC-SHA256 of the
// raw body, keyed with the app secret.
const SignatureHeader = "X-Hub-Signature-256"

// Options are what a Receiver needs besides its configuration.
type Options struct {
	Logger log.Logger
	// Now is the clock of the last-accepted timestamp; time.Now when nil.
	Now func() time.Time
}

// Receiver is the webhook endpoint: an http.Handler for the path, and the
// prometheus.Collector of everything it counted. A Receiver of a
// configuration without a webhooks section is off: it serves nothing and
// collects nothing.
type Receiver struct {
	on     bool
	path   string
	logger log.Logger
	now    func() time.Time
	// secrets change on reload; the rest of the configuration needs a
	// restart.
	secrets  atomic.Pointer[secrets]
	settings config.Webhooks
	inFlight *semaphore.Weighted

	mu     sync.Mutex
	window *window
	tally  *tally

	requests     *prometheus.CounterVec
	refused      *prometheus.CounterVec
	duration     prometheus.Histogram
	lastAccepted prometheus.Gauge
}

type secrets struct {
	appSecrets  [][]byte
	verifyToken []byte
}

func newSecrets(c *config.Webhooks) *secrets {
	s := &secrets{verifyToken: []byte(c.VerifyToken)}
	for _, secret := range c.AppSecrets {
		s.appSecrets = append(s.appSecrets, []byte(secret))
	}
	return s
}

// New returns the endpoint that c configures; it is off when c is nil (the
// configuration has no webhooks section).
func New(c *config.Webhooks, opts Options) *Receiver {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if c == nil {
		return &Receiver{logger: opts.Logger}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Receiver{
		on: true, path: c.Path, logger: opts.Logger, now: opts.Now,
		settings: *c, inFlight: semaphore.NewWeighted(maxBytesInFlight),
		window: newWindow(c.DedupWindow), tally: newTally(c.MaxSeries),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "whatsapp_exporter_webhook_requests_total",
			Help: "Requests to the webhook endpoint, by the HTTP status code of the answer.",
		}, []string{"code"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "whatsapp_exporter_webhook_refused_total",
			Help: "Requests to the webhook endpoint refused, by reason; nothing of them was counted.",
		}, []string{"reason"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "whatsapp_exporter_webhook_request_duration_seconds",
			Help:    "Time to answer a webhook POST, from its headers to the answer: reading the body, checking the signature, decoding and counting.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}),
		lastAccepted: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "whatsapp_exporter_webhook_last_accepted_timestamp_seconds",
			Help: "When the endpoint last accepted a POST (its signature checked out), as a Unix timestamp; 0 until the first.",
		}),
	}
	r.secrets.Store(newSecrets(c))
	for _, code := range []int{http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden,
		http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType} {
		r.requests.WithLabelValues(strconv.Itoa(code))
	}
	for _, reason := range refusals {
		r.refused.WithLabelValues(reason)
	}
	return r
}

// On reports whether the endpoint is on.
func (r *Receiver) On() bool { return r.on }

// Path is where the endpoint answers.
func (r *Receiver) Path() string { return r.path }

// Apply puts a reloaded configuration into effect: its secrets at once. Its
// other settings take a restart, and a change of them is logged.
func (r *Receiver) Apply(c *config.Webhooks) {
	switch {
	case !r.on && c == nil:
		return
	case !r.on:
		level.Warn(r.logger).Log("msg", "The webhooks section takes effect at the next restart")
		return
	case c == nil:
		level.Warn(r.logger).Log("msg", "The webhooks section was removed; the endpoint runs on with its last secrets until the next restart")
		return
	}
	r.secrets.Store(newSecrets(c))
	unchanged := r.settings
	unchanged.AppSecretFiles, unchanged.AppSecrets, unchanged.VerifyTokenFile, unchanged.VerifyToken =
		c.AppSecretFiles, c.AppSecrets, c.VerifyTokenFile, c.VerifyToken
	if !reflect.DeepEqual(&unchanged, c) {
		level.Warn(r.logger).Log("msg", "Webhook settings other than the secrets take effect at the next restart",
			"path", c.Path, "dedup_window", c.DedupWindow, "max_series", c.MaxSeries)
	}
}

// Reasons for which a request is refused, the values of
// whatsapp_exporter_webhook_refused_total's reason label, and what the
// answer says. No answer and no log line quotes what the request sent.
const (
	refuseMethod           = "method"
	refuseVerifyMode       = "verify_mode"
	refuseVerifyToken      = "verify_token"
	refuseVerifyChallenge  = "verify_challenge"
	refuseSignatureMissing = "signature_missing"
	refuseSignatureInvalid = "signature_invalid"
	refuseContentType      = "content_type"
	refuseTooLarge         = "too_large"
	refuseReadError        = "read_error"
	refuseMalformedJSON    = "malformed_json"
)

var refusals = []string{refuseMethod, refuseVerifyMode, refuseVerifyToken, refuseVerifyChallenge, refuseSignatureMissing,
	refuseSignatureInvalid, refuseContentType, refuseTooLarge, refuseReadError, refuseMalformedJSON}

var refusalAnswers = map[string]struct {
	code int
	text string
}{
	refuseMethod:           {http.StatusMethodNotAllowed, "only GET (the subscription handshake) and POST (notifications)"},
	refuseVerifyMode:       {http.StatusBadRequest, "hub.mode must be subscribe"},
	refuseVerifyToken:      {http.StatusForbidden, "hub.verify_token does not match"},
	refuseVerifyChallenge:  {http.StatusBadRequest, "hub.challenge is missing or not a number"},
	refuseSignatureMissing: {http.StatusUnauthorized, "no " + SignatureHeader + " header"},
	refuseSignatureInvalid: {http.StatusForbidden, "the signature does not match the body"},
	refuseContentType:      {http.StatusUnsupportedMediaType, "the body must be application/json"},
	refuseTooLarge:         {http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes", MaxBodyBytes)},
	refuseReadError:        {http.StatusBadRequest, "the body could not be read whole"},
	refuseMalformedJSON:    {http.StatusBadRequest, "the body is not valid JSON"},
}

func (r *Receiver) refuse(w http.ResponseWriter, req *http.Request, reason string) {
	a := refusalAnswers[reason]
	r.refused.WithLabelValues(reason).Inc()
	r.requests.WithLabelValues(strconv.Itoa(a.code)).Inc()
	level.Debug(r.logger).Log("msg", "Refused a webhook request", "reason", reason, "method", req.Method, "remote", req.RemoteAddr)
	if reason == refuseMethod {
		w.Header().Set("Allow", "GET, POST")
	}
	http.Error(w, a.text, a.code)
}

// ServeHTTP answers the subscription handshake (GET) and notifications (POST).
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !r.on {
		http.NotFound(w, req)
		return
	}
	switch req.Method {
	case http.MethodGet:
		r.handshake(w, req)
	case http.MethodPost:
		start := time.Now()
		r.notification(w, req)
		r.duration.Observe(time.Since(start).Seconds())
	default:
		r.refuse(w, req, refuseMethod)
	}
}

// handshake answers Meta's verification request: hub.mode=subscribe, the
// verify token of the app's webhook settings, and a challenge to echo
// (https://developers.facebook.com/docs/graph-api/webhooks/getting-started).
func (r *Receiver) handshake(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	token := r.secrets.Load().verifyToken
	switch challenge := q.Get("hub.challenge"); {
	case q.Get("hub.mode") != "subscribe":
		r.refuse(w, req, refuseVerifyMode)
	// Without a configured token no handshake succeeds: an empty token
	// must not match an empty parameter.
	case len(token) == 0 || subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), token) != 1:
		r.refuse(w, req, refuseVerifyToken)
	// Meta sends an integer. Nothing else is echoed, so that the endpoint
	// cannot be made to serve text of someone else's choosing.
	case !allDigits(challenge, 64):
		r.refuse(w, req, refuseVerifyChallenge)
	default:
		r.requests.WithLabelValues("200").Inc()
		level.Info(r.logger).Log("msg", "Answered a webhook subscription handshake", "remote", req.RemoteAddr)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		io.WriteString(w, challenge)
	}
}

// notification checks, decodes and counts a POST. Everything that can be
// refused from the headers alone is refused before the body is read; the
// body is believed only once its signature checks out.
func (r *Receiver) notification(w http.ResponseWriter, req *http.Request) {
	sig, present, ok := parseSignature(req.Header.Get(SignatureHeader))
	switch {
	case !present:
		r.refuse(w, req, refuseSignatureMissing)
		return
	case !ok:
		r.refuse(w, req, refuseSignatureInvalid)
		return
	case !jsonContent(req.Header.Get("Content-Type")):
		r.refuse(w, req, refuseContentType)
		return
	case req.ContentLength > MaxBodyBytes:
		r.refuse(w, req, refuseTooLarge)
		return
	}
	want := int64(MaxBodyBytes + 1)
	if req.ContentLength >= 0 {
		want = req.ContentLength
	}
	if err := r.inFlight.Acquire(req.Context(), want); err != nil {
		r.refuse(w, req, refuseReadError) // the sender went away while it waited
		return
	}
	defer r.inFlight.Release(want)
	body, err := readBody(req.Body, want)
	switch {
	case errors.Is(err, errTooLarge):
		r.refuse(w, req, refuseTooLarge)
		return
	case err != nil:
		r.refuse(w, req, refuseReadError)
		return
	case !r.signedBy(body, sig):
		r.refuse(w, req, refuseSignatureInvalid)
		return
	}
	r.lastAccepted.Set(float64(r.now().UnixNano()) / 1e9)
	batch, err := Decode(body)
	if err != nil {
		r.refuse(w, req, refuseMalformedJSON)
		return
	}
	countries := make([]string, len(batch.Statuses))
	for i := range batch.Statuses {
		countries[i] = Country(batch.Statuses[i].Recipient)
	}
	r.mu.Lock()
	for i := range batch.Statuses {
		r.tally.count(r.window, &batch.Statuses[i], countries[i])
	}
	for reason, n := range batch.Skipped {
		r.tally.skipped[reason] += uint64(n)
	}
	r.mu.Unlock()
	if len(batch.Skipped) > 0 {
		kv := []any{"msg", "Skipped parts of a webhook", "statuses", len(batch.Statuses), "remote", req.RemoteAddr}
		for _, reason := range skipReasons {
			if n := batch.Skipped[reason]; n > 0 {
				kv = append(kv, reason, n)
			}
		}
		level.Debug(r.logger).Log(kv...)
	}
	r.requests.WithLabelValues("200").Inc()
	w.WriteHeader(http.StatusOK)
}

var errTooLarge = errors.New("body too large")

// readBody reads a body of size bytes (MaxBodyBytes+1 when the sender gave
// no length: then the buffer starts small and grows with what arrives), and
// no more than MaxBodyBytes.
func readBody(body io.Reader, size int64) ([]byte, error) {
	if size > MaxBodyBytes {
		size = 64 << 10
	}
	buf := make([]byte, 0, size+1)
	for {
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > MaxBodyBytes {
			return nil, errTooLarge
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), MaxBodyBytes+1-len(buf)))
		}
	}
}

// parseSignature reads "sha256=" and 64 hex digits. present is false when
// there is no header at all; ok when it has that form.
func parseSignature(header string) (sig []byte, present, ok bool) {
	if header == "" {
		return nil, false, false
	}
	const prefix = "sha256="
	if len(header) != len(prefix)+2*sha256.Size || header[:len(prefix)] != prefix {
		return nil, true, false
	}
	sig, err := hex.DecodeString(header[len(prefix):])
	return sig, true, err == nil
}

// signedBy reports whether sig is the body's HMAC-SHA256 under any of the
// app secrets, each compared in constant time.
func (r *Receiver) signedBy(body, sig []byte) bool {
	match := false
	for _, secret := range r.secrets.Load().appSecrets {
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		if hmac.Equal(mac.Sum(nil), sig) {
			match = true
		}
	}
	return match
}

// Sign returns the X-Hub-Signature-256 value of body under secret, as Meta
// computes it: for the demo's webhooks and the tests'.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// jsonContent reports whether a Content-Type is JSON's (with any charset).
func jsonContent(header string) bool {
	media, _, err := mime.ParseMediaType(header)
	return err == nil && media == "application/json"
}

var (
	statusesDesc = prometheus.NewDesc("whatsapp_webhook_statuses_total",
		"Message statuses received by webhook, each (message, status) once: sent, delivered, read, failed, played, or other. A read without a delivered before it counts as delivered too.",
		[]string{"waba_id", "phone_number_id", "phone_number", "country", "status"}, nil)
	failuresDesc = prometheus.NewDesc("whatsapp_webhook_failures_total",
		"Failed message statuses received by webhook, by the code of their first error and its title in Meta's error codes page (\"\" for a code the exporter does not know).",
		[]string{"waba_id", "phone_number_id", "phone_number", "error_code", "error_title"}, nil)
	pricedDesc = prometheus.NewDesc("whatsapp_webhook_priced_messages_total",
		"Delivered messages by the pricing their delivered or read status carried, counted once per message.",
		[]string{"waba_id", "phone_number_id", "phone_number", "pricing_category", "pricing_type"}, nil)
	toDeliveredDesc = prometheus.NewDesc("whatsapp_webhook_sent_to_delivered_seconds",
		"Time from a message's sent status to its delivered status, where the endpoint received both.",
		[]string{"waba_id", "phone_number_id", "phone_number"}, nil)
	toReadDesc = prometheus.NewDesc("whatsapp_webhook_sent_to_read_seconds",
		"Time from a message's sent status to its read status, where the endpoint received both.",
		[]string{"waba_id", "phone_number_id", "phone_number"}, nil)
	duplicatesDesc = prometheus.NewDesc("whatsapp_exporter_webhook_duplicates_total",
		"Statuses received again for a message whose status the dedup window had counted already, by status; not counted again.",
		[]string{"status"}, nil)
	skippedDesc = prometheus.NewDesc("whatsapp_exporter_webhook_skipped_total",
		"Parts of accepted webhooks left out, by reason: bodies, entries, changes or statuses that are not what Meta documents.",
		[]string{"reason"}, nil)
	seriesDesc = prometheus.NewDesc("whatsapp_exporter_webhook_series",
		"Label sets of the whatsapp_webhook_* metrics; statuses that would add one beyond max_series are skipped.", nil, nil)
	maxSeriesDesc = prometheus.NewDesc("whatsapp_exporter_webhook_max_series",
		"The configured max_series.", nil, nil)
	entriesDesc = prometheus.NewDesc("whatsapp_exporter_webhook_dedup_entries",
		"Messages the dedup window remembers.", nil, nil)
	capacityDesc = prometheus.NewDesc("whatsapp_exporter_webhook_dedup_capacity",
		"Messages the dedup window can remember (dedup_window).", nil, nil)
	evictionsDesc = prometheus.NewDesc("whatsapp_exporter_webhook_dedup_evictions_total",
		"Messages the dedup window forgot to make room for newer ones; a status of one of them that arrives later counts again.", nil, nil)
)

// Describe implements prometheus.Collector.
func (r *Receiver) Describe(ch chan<- *prometheus.Desc) {
	if !r.on {
		return
	}
	for _, d := range []*prometheus.Desc{statusesDesc, failuresDesc, pricedDesc, toDeliveredDesc, toReadDesc,
		duplicatesDesc, skippedDesc, seriesDesc, maxSeriesDesc, entriesDesc, capacityDesc, evictionsDesc} {
		ch <- d
	}
	r.requests.Describe(ch)
	r.refused.Describe(ch)
	r.duration.Describe(ch)
	r.lastAccepted.Describe(ch)
}

// Collect implements prometheus.Collector.
func (r *Receiver) Collect(ch chan<- prometheus.Metric) {
	if !r.on {
		return
	}
	var metrics []prometheus.Metric
	add := func(desc *prometheus.Desc, typ prometheus.ValueType, v float64, labels ...string) {
		metrics = append(metrics, prometheus.MustNewConstMetric(desc, typ, v, labels...))
	}
	r.mu.Lock()
	t := r.tally
	for k, n := range t.statuses {
		add(statusesDesc, prometheus.CounterValue, float64(n), k.waba, k.phoneID, k.number, k.country, k.status)
	}
	for k, n := range t.failures {
		add(failuresDesc, prometheus.CounterValue, float64(n), k.waba, k.phoneID, k.number, k.code, ErrorTitle(k.code))
	}
	for k, n := range t.priced {
		add(pricedDesc, prometheus.CounterValue, float64(n), k.waba, k.phoneID, k.number, k.category, k.typ)
	}
	for desc, hists := range map[*prometheus.Desc]map[phone]*histogram{toDeliveredDesc: t.toDelivered, toReadDesc: t.toRead} {
		for k, h := range hists {
			metrics = append(metrics, prometheus.MustNewConstHistogram(desc, h.count, h.sum, h.cumulative(), k.waba, k.phoneID, k.number))
		}
	}
	for s, n := range t.duplicates {
		add(duplicatesDesc, prometheus.CounterValue, float64(n), s)
	}
	for reason, n := range t.skipped {
		add(skippedDesc, prometheus.CounterValue, float64(n), reason)
	}
	add(seriesDesc, prometheus.GaugeValue, float64(t.series()))
	add(maxSeriesDesc, prometheus.GaugeValue, float64(t.maxSeries))
	add(entriesDesc, prometheus.GaugeValue, float64(r.window.len()))
	add(capacityDesc, prometheus.GaugeValue, float64(r.window.limit))
	add(evictionsDesc, prometheus.CounterValue, float64(r.window.evicted))
	r.mu.Unlock()
	for _, m := range metrics {
		ch <- m
	}
	r.requests.Collect(ch)
	r.refused.Collect(ch)
	r.duration.Collect(ch)
	r.lastAccepted.Collect(ch)
}

var (
	_ http.Handler         = (*Receiver)(nil)
	_ prometheus.Collector = (*Receiver)(nil)
)
