// Package backfill writes the history the APIs still hold as OpenMetrics
// text for `promtool tsdb create-blocks-from openmetrics`: every bucket of
// every configured family and WABA in a window, as the live exporter would
// have shown it at each instant (docs/backfill.md). It fetches with the live
// exporter's clients, throttle and requests (scheduler.History), keeps what
// it fetched in a journal beside the output so that an interrupted run goes
// on where it stopped, and renders each WABA's series with the collector's
// own names and labels.
package backfill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fleet"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// Options are a run's settings and collaborators.
type Options struct {
	Config *config.Config
	// Connector builds the clients; a new one when nil (tests pass one
	// whose HTTP client stays in the process).
	Connector *scheduler.Connector
	// Start and End bound the window; End is the run's start when zero.
	Start, End time.Time
	// GaugesStart is where the gauges begin (Start when zero): before it
	// only the counters are written, fetched in days where that gives the
	// same sums.
	GaugesStart time.Time
	// NoGauges and NoCounters leave out the newest-bucket gauges (and
	// their bucket end) or the month-to-date counters.
	NoGauges, NoCounters bool
	// Step is the time between two samples of a series.
	Step time.Duration
	// Labels are added to every series: the job and instance Prometheus
	// gives the live exporter's series.
	Labels map[string]string
	// Output is the OpenMetrics file to write; its state goes beside it.
	Output string
	Logger log.Logger
	// Progress, when it is a terminal, shows a progress bar; otherwise
	// progress goes to the log every ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Accounts is how many WABAs are fetched at once.
	Accounts int
	// Now is the clock; time.Now when nil. Sleep waits, or returns early
	// with ctx's error; tests record the waits instead.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// afterRound, when set, is called after each round of requests of a
	// WABA is journaled: the tests interrupt runs there.
	afterRound func(wabaID string)
}

// DefaultStep is the default time between two samples: the longest that
// Prometheus' default 5-minute lookback shows as a line, without gaps.
const DefaultStep = 5 * time.Minute

// Report is what a run did.
type Report struct {
	WABAs    int
	Failures []Failure
	// Requests counts the API requests sent, and Bytes the output's size.
	Requests float64
	Bytes    int64
	Output   string
}

// Failure is what could not be fetched: a family's range of buckets of a
// WABA, or a whole WABA (no family).
type Failure struct {
	WABAID   string
	Family   provider.Family
	From, To time.Time
	Err      error
}

func (f Failure) String() string {
	if f.Family == "" {
		return fmt.Sprintf("WABA %s: %v", f.WABAID, f.Err)
	}
	return fmt.Sprintf("WABA %s %s from %s to %s: %v", f.WABAID, f.Family, f.From.UTC().Format(time.RFC3339), f.To.UTC().Format(time.RFC3339), f.Err)
}

// ErrInterrupted says a run stopped before it was done: its state is kept
// for the next run of the same command.
var ErrInterrupted = errors.New("interrupted")

// ErrIncomplete says some buckets could not be fetched: the output holds
// the rest, and the state is kept for the next run to fetch what is missing.
var ErrIncomplete = errors.New("some buckets could not be fetched")

// Run backfills the window. It returns ErrInterrupted when ctx ended first,
// ErrIncomplete when some buckets could not be fetched (the output is
// written without them), or another error when nothing could be written.
func Run(ctx context.Context, opts Options) (*Report, error) {
	r, err := newRun(opts)
	if err != nil {
		return nil, err
	}
	defer r.journal.close()
	return r.run(ctx)
}

// run is one run's shared state.
type run struct {
	opts     Options
	logger   log.Logger
	sch      *schema
	journal  *journal
	loaded   *loaded
	header   header
	window   window
	gaugesAt int64
	extra    string
	progress *progress
	renders  chan struct{}

	mu       sync.Mutex
	failures []Failure
	parts    map[string]record
	logged   map[string]bool
}

func newRun(opts Options) (*run, error) {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Step == 0 {
		opts.Step = DefaultStep
	}
	if opts.Accounts <= 0 {
		opts.Accounts = scheduler.DefaultMaxConcurrentRefreshes
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 30 * time.Second
	}
	if opts.Connector == nil {
		opts.Connector = &scheduler.Connector{}
	}
	switch {
	case opts.Config == nil:
		return nil, errors.New("no configuration")
	case opts.Output == "":
		return nil, errors.New("no output file")
	case opts.Start.IsZero():
		return nil, errors.New("no start")
	case opts.NoGauges && opts.NoCounters:
		return nil, errors.New("neither gauges nor counters to write")
	}
	extra, err := labelPairs(opts.Labels)
	if err != nil {
		return nil, err
	}
	sch, err := newSchema()
	if err != nil {
		return nil, err
	}
	now := opts.Now()
	h := header{Version: journalVersion, Fingerprint: fingerprint(opts), Now: now.UTC(), End: opts.End.UTC()}
	if opts.End.IsZero() {
		h.End = h.Now
	}
	if !h.End.After(opts.Start) {
		return nil, fmt.Errorf("the window's end %s is not after its start %s", h.End.Format(time.RFC3339), opts.Start.UTC().Format(time.RFC3339))
	}
	j, l, err := openJournal(opts.Output, h)
	if err != nil {
		return nil, err
	}
	w, err := newWindow(opts.Start, l.header.End, opts.Step)
	if err != nil {
		j.close()
		return nil, err
	}
	gaugesAt := opts.GaugesStart
	if gaugesAt.IsZero() {
		gaugesAt = opts.Start
	}
	return &run{
		opts: opts, logger: opts.Logger, sch: sch, journal: j, loaded: l, header: l.header, window: w,
		gaugesAt: gaugesAt.Unix(), extra: extra, renders: make(chan struct{}, runtime.GOMAXPROCS(0)),
		parts: map[string]record{}, logged: map[string]bool{},
	}, nil
}

func (r *run) run(ctx context.Context) (*Report, error) {
	level.Info(r.logger).Log("msg", "Backfilling", "start", time.Unix(r.window.first, 0).UTC().Format(time.RFC3339),
		"end", r.header.End.Format(time.RFC3339), "sample_interval", r.opts.Step, "output", r.opts.Output, "state", stateDir(r.opts.Output),
		"resumed", len(r.loaded.chunks)+len(r.loaded.parts) > 0)
	accounts := fleet.New(r.opts.Config, r.opts.Connector, func([]scheduler.Target) {}, fleet.Options{Logger: r.logger})
	for _, err := range accounts.ListOnce(ctx) {
		r.fail(Failure{Err: fmt.Errorf("list the WABAs of %w", err)})
	}
	if ctx.Err() != nil {
		return nil, ErrInterrupted
	}
	targets, err := accounts.Targets()
	if err != nil {
		return nil, err
	}
	r.progress = newProgress(r.opts.Progress, r.logger, r.opts.ProgressEvery, len(targets))
	var requests float64
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var runErr error
	slots := make(chan struct{}, r.opts.Accounts)
	for _, t := range targets {
		slots <- struct{}{}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			n, err := r.waba(ctx, t)
			errMu.Lock()
			defer errMu.Unlock()
			requests += n
			if err != nil && runErr == nil {
				runErr = err
			}
		})
	}
	wg.Wait()
	r.progress.stop()
	report := &Report{WABAs: len(targets), Requests: requests, Output: r.opts.Output}
	if runErr != nil {
		return report, runErr
	}
	if ctx.Err() != nil {
		level.Warn(r.logger).Log("msg", "Interrupted; run the same command again to go on where this run stopped", "state", stateDir(r.opts.Output))
		return report, ErrInterrupted
	}
	if report.Bytes, err = r.assemble(targets); err != nil {
		return report, err
	}
	report.Failures = r.failures
	if len(r.failures) > 0 {
		for _, f := range r.failures {
			level.Warn(r.logger).Log("msg", "Not fetched; its samples are left out", "failure", f)
		}
		level.Warn(r.logger).Log("msg", "Wrote the output without what could not be fetched; run the same command again to fetch it", "output", r.opts.Output, "failures", len(r.failures), "state", stateDir(r.opts.Output))
		return report, ErrIncomplete
	}
	r.journal.close()
	if err := os.RemoveAll(stateDir(r.opts.Output)); err != nil {
		return report, err
	}
	level.Info(r.logger).Log("msg", "Backfill written", "output", r.opts.Output, "bytes", report.Bytes, "wabas", len(targets), "requests", requests)
	return report, nil
}

func (r *run) fail(f Failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, f)
}

// logOnce logs a line once per run, for what every WABA of a kind would
// repeat.
func (r *run) logOnce(key string, logger log.Logger, keyvals ...any) {
	r.mu.Lock()
	seen := r.logged[key]
	r.logged[key] = true
	r.mu.Unlock()
	if !seen {
		logger.Log(keyvals...)
	}
}

// assemble writes the output from the WABAs' parts: family by family, as
// OpenMetrics wants, each family's HELP and TYPE once and then its samples
// of every WABA in turn; through a temporary file, so that the output is
// whole or not there.
func (r *run) assemble(targets []scheduler.Target) (int64, error) {
	type part struct {
		file     *os.File
		sections []int64
		offsets  []int64
	}
	var parts []part
	defer func() {
		for _, p := range parts {
			p.file.Close()
		}
	}()
	for _, t := range targets {
		rec, ok := r.parts[t.Account.WABAID]
		if !ok {
			continue
		}
		f, err := os.Open(filepath.Join(stateDir(r.opts.Output), rec.Part))
		if err != nil {
			return 0, err
		}
		p := part{file: f, sections: rec.Sections, offsets: make([]int64, len(rec.Sections))}
		for i := 1; i < len(p.offsets); i++ {
			p.offsets[i] = p.offsets[i-1] + p.sections[i-1]
		}
		if len(p.sections) != len(r.sch.order) {
			return 0, fmt.Errorf("the part of WABA %s does not match this version's families", t.Account.WABAID)
		}
		parts = append(parts, p)
	}
	var size int64
	err := replaceFile(r.opts.Output, func(w io.Writer) error {
		cw := &countingWriter{w: w}
		for i, fam := range r.sch.order {
			if !slices.ContainsFunc(parts, func(p part) bool { return p.sections[i] > 0 }) {
				continue
			}
			typ := "gauge"
			if fam.counter {
				typ = "counter"
			}
			fmt.Fprintf(cw, "# HELP %s %s\n# TYPE %s %s\n", fam.name, escapeHelp(fam.help), fam.name, typ)
			for _, p := range parts {
				if _, err := io.Copy(cw, io.NewSectionReader(p.file, p.offsets[i], p.sections[i])); err != nil {
					return err
				}
			}
		}
		_, err := io.WriteString(cw, "# EOF\n")
		size = cw.n
		return err
	})
	return size, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// escapeHelp escapes a help text for OpenMetrics.
func escapeHelp(s string) string { return escapeLabel(s) }

// labelPairs renders the --label pairs, sorted by name, after a series' own
// labels.
func labelPairs(labels map[string]string) (string, error) {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		if !validLabelName(name) || strings.HasPrefix(name, "__") {
			return "", fmt.Errorf("--label %s: not a label name Prometheus takes", name)
		}
		if reserved[name] {
			return "", fmt.Errorf("--label %s: the exporter's series have a label of that name already", name)
		}
		fmt.Fprintf(&b, `,%s="%s"`, name, escapeLabel(labels[name]))
	}
	return b.String(), nil
}

// reserved are the label names the exporter's series carry themselves.
var reserved = map[string]bool{"waba_id": true, "phone_number": true, "country": true, "conversation_category": true,
	"conversation_type": true, "conversation_direction": true, "pricing_category": true, "pricing_type": true, "tier": true,
	"template_id": true, "product_type": true, "button_type": true, "button_content": true, "cost_type": true,
	"direction": true, "family": true, "name": true, "provider": true, "currency": true}

func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// fingerprint hashes what shapes a run's output: the configuration (whose
// credentials marshal as "<secret>": a rotated token resumes the run) and
// the flags.
func fingerprint(opts Options) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	enc.Encode(opts.Config.Global)
	for _, a := range opts.Config.Accounts {
		enc.Encode(a)
	}
	for _, b := range opts.Config.Businesses {
		enc.Encode(b.Label())
		enc.Encode(b.Connection())
	}
	enc.Encode([]any{opts.Start.Unix(), opts.End.Unix(), opts.End.IsZero(), opts.GaugesStart.Unix(), opts.GaugesStart.IsZero(),
		opts.NoGauges, opts.NoCounters, opts.Step, opts.Labels})
	return hex.EncodeToString(h.Sum(nil))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
