package collector

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// HandlerOpts are the /metrics handler's options, those of
// promhttp.HandlerOpts that it honours, alike.
type HandlerOpts struct {
	// ErrorLog, when set, is told of each error gathering or writing the
	// metrics.
	ErrorLog promhttp.Logger
	// MaxRequestsInFlight bounds the scrapes served at once; the next is
	// answered 503. 0: no bound.
	MaxRequestsInFlight int
	// Timeout answers 503 to a scrape that takes longer (with
	// http.TimeoutHandler, which holds the whole answer in memory until
	// it is complete). 0: no timeout.
	Timeout time.Duration
}

// formats are those /metrics negotiates, as promhttp does with OpenMetrics
// enabled, but protobuf: the pre-rendered lines are text, so a client that
// asks for protobuf only gets the text format (as expfmt.NegotiateAccept
// falls back); Prometheus always offers text besides.
var formats = []expfmt.Format{expfmt.FmtOpenMetrics_1_0_0, expfmt.FmtOpenMetrics_0_0_1, expfmt.FmtText}

// familyNames are the names of the collector's families, in both formats,
// which no other metric on /metrics may have.
var familyNames = func() map[string]bool {
	names := map[string]bool{}
	for _, f := range allFamilies {
		names[f.name] = true
		names[f.openMetricsName()] = true
	}
	return names
}()

// Handler serves /metrics: what reg gathers (the process's and build
// metrics, the reload metrics), encoded by expfmt as promhttp does, then the
// collector's pre-rendered families, each merged across the accounts; then
// OpenMetrics' # EOF. It negotiates the format and gzip as promhttp does,
// and answers 500, before writing anything, when reg fails or gathers a
// family of the collector's name (the collector must not be registered in
// reg: its families would be written twice).
func (c *Collector) Handler(reg prometheus.Gatherer, opts HandlerOpts) http.Handler {
	h := &handler{c: c, reg: reg, opts: opts}
	if opts.MaxRequestsInFlight > 0 {
		h.inFlight = make(chan struct{}, opts.MaxRequestsInFlight)
	}
	if opts.Timeout <= 0 {
		return h
	}
	return http.TimeoutHandler(h, opts.Timeout, fmt.Sprintf("Exceeded configured timeout of %v.\n", opts.Timeout))
}

type handler struct {
	c        *Collector
	reg      prometheus.Gatherer
	opts     HandlerOpts
	inFlight chan struct{}
}

var (
	// Gzip at its fastest level: compressing is most of a gzipped scrape
	// once the series are pre-rendered, and BestSpeed took a third of the
	// default level's time for a fifth more bytes (1,000 WABAs, 379,000
	// series: docs/fleet.md).
	gzipWriters = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
		return w
	}}
	// A scrape's writes go through a buffer: expfmt's many small ones,
	// and the end of each line where the text format drops a ".0". The
	// lines' chunks larger than it go straight through.
	bufWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}
)

func (h *handler) ServeHTTP(rsp http.ResponseWriter, req *http.Request) {
	if h.inFlight != nil {
		select {
		case h.inFlight <- struct{}{}:
			defer func() { <-h.inFlight }()
		default:
			http.Error(rsp, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", h.opts.MaxRequestsInFlight),
				http.StatusServiceUnavailable)
			return
		}
	}
	mfs, err := h.reg.Gather()
	if err == nil {
		for _, mf := range mfs {
			if familyNames[mf.GetName()] || (mf.GetType() == dto.MetricType_COUNTER && familyNames[strings.TrimSuffix(mf.GetName(), "_total")]) {
				err = fmt.Errorf("metric family %s is both gathered and pre-rendered by the collector: is the collector registered?", mf.GetName())
				break
			}
		}
	}
	if err != nil {
		h.log("error gathering metrics:", err)
		rsp.Header().Del("Content-Encoding")
		http.Error(rsp, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
		return
	}

	format := expfmt.NegotiateAccept(req.Header, formats...)
	rsp.Header().Add("Vary", "Accept")
	rsp.Header().Add("Vary", "Accept-Encoding")
	rsp.Header().Set("Content-Type", string(format))
	var out io.Writer = rsp
	if acceptsGzip(req.Header) {
		rsp.Header().Set("Content-Encoding", "gzip")
		gz := gzipWriters.Get().(*gzip.Writer)
		gz.Reset(rsp)
		defer func() {
			gz.Close()
			gzipWriters.Put(gz)
		}()
		out = gz
	}
	w := bufWriters.Get().(*bufio.Writer)
	w.Reset(out)
	defer func() {
		w.Reset(nil)
		bufWriters.Put(w)
	}()

	var keep func(string) bool
	if req.URL != nil {
		if names := req.URL.Query()["name[]"]; len(names) > 0 {
			keep = func(name string) bool { return slices.Contains(names, name) }
		}
	}
	enc := expfmt.NewEncoder(w, format)
	for _, mf := range mfs {
		if keep != nil && !keep(mf.GetName()) {
			continue
		}
		if err := enc.Encode(mf); err != nil {
			h.log("error encoding and sending metric family:", err)
			return
		}
	}
	lines := textFormat
	if format.FormatType() == expfmt.TypeOpenMetrics {
		lines = openMetricsFormat
	}
	writeFamilies(w, h.c.published(), h.c.now(), lines, keep)
	if closer, ok := enc.(expfmt.Closer); ok {
		err = closer.Close() // OpenMetrics' # EOF
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		h.log("error encoding and sending metric family:", err)
	}
}

func (h *handler) log(msg string, err error) {
	if h.opts.ErrorLog != nil {
		h.opts.ErrorLog.Println(msg, err)
	}
}

// acceptsGzip reports whether the client prefers gzip to no compression,
// by promhttp's rule: the best quality the Accept-Encoding header gives gzip
// (as "gzip" or "*") is above 0 and above the best it gives identity (as
// "identity" or "*"), if any. Prometheus sends "Accept-Encoding: gzip".
func acceptsGzip(h http.Header) bool {
	gzipQ, identityQ := -1.0, -1.0
	for _, header := range h.Values("Accept-Encoding") {
		for _, part := range strings.Split(header, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			q := 1.0
			if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
				var err error
				if q, err = strconv.ParseFloat(v, 64); err != nil || q < 0 || q > 1 {
					continue
				}
			}
			if coding == "gzip" || coding == "*" {
				gzipQ = max(gzipQ, q)
			}
			if coding == "identity" || coding == "*" {
				identityQ = max(identityQ, q)
			}
		}
	}
	return gzipQ > 0 && gzipQ > identityQ
}
