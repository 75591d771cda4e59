package backfill

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// resumeWindow is a short window across a month's start: every kind of
// chunk (half hours, days, a month's last day, templates) in few bytes.
func resumeOptions(d *demo.Demo, out string, tr *countingTransport) Options {
	opts := testOptions(d, out, tr)
	opts.Start = time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC)
	opts.End = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	opts.Step = 15 * time.Minute
	opts.Accounts = 1 // one round in flight: an interrupt falls between rounds
	return opts
}

// uninterrupted is the output of a run that nothing stopped, and the
// analytics requests answered, but the partner-billed WABA's.
func uninterrupted(t *testing.T, d *demo.Demo) ([]byte, int) {
	t.Helper()
	out, tr := outputPath(t), newCountingTransport()
	if _, err := Run(context.Background(), resumeOptions(d, out, tr)); err != nil {
		t.Fatal(err)
	}
	answered := 0
	for q, n := range tr.answered {
		if !strings.Contains(q, demo.TravelWABA) {
			answered += n
		}
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stateDir(out)); !os.IsNotExist(err) {
		t.Errorf("the state of a finished run is left behind: %v", err)
	}
	return raw, answered
}

// TestResumeWritesTheSameSamples interrupts runs after one, a few and many
// rounds of requests (SIGINT cancels the context the same way), resumes
// each, and compares: the output is byte for byte the uninterrupted run's,
// and the runs together asked for each analytics query once, as many as
// the uninterrupted run: no bucket fetched twice.
func TestResumeWritesTheSameSamples(t *testing.T) {
	d := startDemo(t, demo.RetailWABA, demo.TravelWABA, demo.VonageWABA)
	want, wantRequests := uninterrupted(t, d)
	for _, after := range []int{1, 4, 11} {
		out, tr := outputPath(t), newCountingTransport()
		for run := 0; ; run++ {
			if run > 500 {
				t.Fatal("not done after 500 runs")
			}
			ctx, cancel := context.WithCancel(context.Background())
			opts := resumeOptions(d, out, tr)
			rounds := 0
			opts.afterRound = func(string) {
				if rounds++; rounds == after {
					cancel()
				}
			}
			_, err := Run(ctx, opts)
			cancel()
			if err == nil {
				break
			}
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("interrupted every %d rounds, run %d: %v", after, run, err)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatalf("an interrupted run wrote %s", out)
			}
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("interrupted every %d rounds: the output differs from the uninterrupted run's (%d and %d bytes)", after, len(got), len(want))
		}
		// As many answers as the undisturbed run got, but for the
		// partner-billed WABA: each run asks it for cost again, and once
		// Meta says "Cost not available" asks its families one by one
		// for the first round rather than in one request.
		answered := 0
		for q, n := range tr.answered {
			if !strings.Contains(q, demo.TravelWABA) {
				answered += n
			}
		}
		if answered != wantRequests {
			t.Errorf("interrupted every %d rounds: %d analytics answers, want %d", after, answered, wantRequests)
		}
		for q, n := range tr.answered {
			if n > 1 {
				t.Errorf("interrupted every %d rounds: asked %d times for %s", after, n, q)
			}
		}
	}
}

// TestAWABAThatFailsMidway: a WABA whose token is revoked after a few
// rounds fails alone. The others' samples are written as an undisturbed
// run writes them, the failure names the WABA and the family's range, and
// the state stays; once the token works again, the next run fetches only
// what failed and writes the whole output.
func TestAWABAThatFailsMidway(t *testing.T) {
	d := startDemo(t, demo.RetailWABA, demo.TravelWABA, demo.VonageWABA)
	want, _ := uninterrupted(t, d)
	out, tr := outputPath(t), newCountingTransport()
	opts := resumeOptions(d, out, tr)
	rounds := 0
	opts.afterRound = func(waba string) {
		if waba == demo.TravelWABA {
			if rounds++; rounds == 3 {
				d.Graph.Inject(demo.TravelWABA, fakeapi.Fault{Kind: fakeapi.InvalidToken})
			}
		}
	}
	report, err := Run(context.Background(), opts)
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("got %v, want ErrIncomplete", err)
	}
	if len(report.Failures) == 0 {
		t.Fatal("no failure reported")
	}
	for _, f := range report.Failures {
		if f.WABAID != demo.TravelWABA || f.Family == "" || !f.To.After(f.From) || !strings.Contains(f.Err.Error(), "190") {
			t.Errorf("failure %s: want WABA %s, a family and its range, code 190", f, demo.TravelWABA)
		}
	}
	partial := samples(t, out)
	whole := samplesOf(t, want)
	for ts, byKey := range whole {
		for k, v := range byKey {
			got, ok := partial[ts][k]
			switch {
			case strings.Contains(k, demo.TravelWABA):
				if ok && got != v {
					t.Errorf("%d %s = %g, want %g or nothing", ts, k, got, v)
				}
			case !ok || got != v:
				t.Errorf("%d %s = %g (present %v), want %g: another WABA's sample", ts, k, got, ok, v)
			}
		}
	}
	if _, err := os.Stat(stateDir(out)); err != nil {
		t.Fatalf("the state of an incomplete run is gone: %v", err)
	}

	d.Graph.Clear(demo.TravelWABA)
	opts.afterRound = nil
	again := newCountingTransport()
	opts.Connector = testOptions(d, out, again).Connector
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, want) {
		t.Error("after the WABA recovered, the output differs from an undisturbed run's")
	}
	// The second run asked for the failed WABA's missing buckets only, and
	// no query was answered twice over both runs.
	for q := range again.analytics {
		if !strings.Contains(q, demo.TravelWABA) {
			t.Errorf("the second run asked again for another WABA's %s", q)
		}
		tr.answered[q] += again.answered[q]
	}
	for q, n := range tr.answered {
		if n > 1 {
			t.Errorf("asked %d times for %s", n, q)
		}
	}
	if len(again.analytics) == 0 {
		t.Error("the second run asked for nothing")
	}
}

func samplesOf(t *testing.T, raw []byte) map[int64]map[string]float64 {
	t.Helper()
	path := outputPath(t)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return samples(t, path)
}

// TestRateLimitsPauseTheWABA: an 80007 answer with a wait pauses the WABA
// that long and then goes on; usage headers past half the budget space its
// requests out; a 5xx is retried. The run completes with the same output.
func TestRateLimitsPauseTheWABA(t *testing.T) {
	var mu sync.Mutex
	now := testNow
	d, err := demo.Start(demo.Healthy, func() time.Time { mu.Lock(); defer mu.Unlock(); return now }, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Config.Accounts = d.Config.Accounts[:1] // the retailer alone
	d.Config.Businesses = nil
	want, _ := uninterrupted(t, d)
	// The undisturbed run's calls leave the fake's hour.
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	d.Graph.Inject(demo.RetailWABA, fakeapi.Fault{Kind: fakeapi.ServerError, Times: 1})
	d.Graph.Inject(demo.RetailWABA, fakeapi.Fault{Kind: fakeapi.RateLimit, Code: 80007, RegainMinutes: 7, Times: 1})
	// A budget of 10 calls an hour: usage passes half of it at once.
	d.Graph.Update(demo.RetailWABA, func(w *fakeapi.WABA) { w.HourlyBudget = 40 })
	out := outputPath(t)
	opts := resumeOptions(d, out, newCountingTransport())
	var waits []time.Duration
	opts.Sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		now = now.Add(d) // the fake's hour moves on as the WABA waits
		return ctx.Err()
	}
	if report, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err, report.Failures)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, want) {
		t.Error("the output differs from an undisturbed run's")
		w, g := samplesOf(t, want), samplesOf(t, got)
		for ts, byKey := range w {
			for k, v := range byKey {
				if gv, ok := g[ts][k]; !ok || gv != v {
					t.Errorf("%d %s = %g (%v), want %g", ts, k, gv, ok, v)
					return
				}
			}
		}
	}
	var regained, spaced, retried bool
	for _, w := range waits {
		regained = regained || w >= 7*time.Minute
		spaced = spaced || w >= budgetSpacing && w < 7*time.Minute
		retried = retried || w == transientWait
	}
	if !regained || !spaced || !retried {
		t.Errorf("waits %v: want a 7-minute pause for the rate limit (%v), spacing past half the budget (%v), a retry of the 5xx (%v)", waits, regained, spaced, retried)
	}
}

// TestHistoryClamp: the API keeps 90 days of templates (and Vonage 90 days
// of everything): a window from 100 days back writes those families from
// where the API still answers, says so, and asks for nothing older (the
// fakes refuse it, which would fail the run); families without a limit
// start at the window's start.
func TestHistoryClamp(t *testing.T) {
	d := startDemo(t, demo.DropWABA, demo.VonageWABA)
	out := outputPath(t)
	var logs bytes.Buffer
	opts := testOptions(d, out, newCountingTransport())
	opts.Start = testNow.AddDate(0, 0, -100).Truncate(24 * time.Hour)
	opts.End = testNow.Add(-24 * time.Hour)
	opts.Step = time.Hour
	opts.Logger = log.NewLogfmtLogger(log.NewSyncWriter(&logs))
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	earliest := testNow.Add(-90*24*time.Hour + historyMargin)
	firstMonth := bucket.Next(bucket.Start(earliest, "MONTHLY", time.UTC), "MONTHLY", time.UTC)
	first := map[string]int64{}
	for ts, byKey := range samples(t, out) {
		for k := range byKey {
			name, _, _ := strings.Cut(k, "{")
			key := name
			if strings.Contains(k, demo.VonageWABA) {
				key = "vonage " + name
			}
			if f, ok := first[key]; !ok || ts < f {
				first[key] = ts
			}
		}
	}
	for key, ts := range first {
		at := time.Unix(ts, 0).UTC()
		switch {
		case strings.HasPrefix(key, "vonage ") && strings.HasSuffix(key, "_total"),
			strings.HasPrefix(key, "whatsapp_template_") && strings.HasSuffix(key, "_total"):
			// Counters from the first month the API holds whole.
			if at.Before(firstMonth) {
				t.Errorf("%s from %s, before %s, the first month the API holds whole", key, at, firstMonth)
			}
		case strings.HasPrefix(key, "vonage ") && !strings.Contains(key, "account_info"),
			strings.HasPrefix(key, "whatsapp_template_"):
			if at.Before(earliest) {
				t.Errorf("%s from %s, before %s", key, at, earliest)
			}
		case key == "whatsapp_messages_sent_newest", key == "whatsapp_pricing_volume_total":
			if !at.Equal(opts.Start) {
				t.Errorf("%s from %s, want the window's start %s: no limit cuts it", key, at, opts.Start)
			}
		}
	}
	for _, want := range []string{"family=templates", "provider=vonage family=messaging", "counters_from="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say where the history starts (%s):\n%s", want, logs.String())
		}
	}
}

// TestProgressWithoutATerminal: where stderr is not a terminal (a file, a
// pipe, a pod's log), no progress bar is drawn: progress goes to the log.
func TestProgressWithoutATerminal(t *testing.T) {
	d := startDemo(t, demo.VonageWABA)
	var stderr, logs bytes.Buffer
	opts := resumeOptions(d, outputPath(t), newCountingTransport())
	opts.Progress, opts.ProgressEvery = &stderr, time.Millisecond
	opts.Logger = log.NewLogfmtLogger(log.NewSyncWriter(&logs))
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if stderr.Len() > 0 {
		t.Errorf("a progress bar was drawn on a writer that is no terminal: %q", stderr.String())
	}
	if !strings.Contains(logs.String(), `msg="Backfill progress" wabas_done=1 wabas=1`) {
		t.Errorf("no progress in the log:\n%s", logs.String())
	}
}
