package backfill

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSamplesAreWhatTheExporterShowed: at instants around a month's start
// and a template day's arrival, every backfilled gauge, bucket end, counter
// and account info equals, series for series, what the live exporter
// refreshed at that instant on the same fakes exports (the scheduler's
// snapshot, rendered by the collector); and it exports nothing the
// backfill lacks. The demo's accounts cover every family, a partner-billed
// WABA (no cost), Vonage (whole UTC days) and a passthrough BSP.
func TestSamplesAreWhatTheExporterShowed(t *testing.T) {
	d := startDemo(t)
	out := outputPath(t)
	opts := testOptions(d, out, newCountingTransport())
	opts.Start = time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC)
	opts.End = time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	got := samples(t, out)
	backfilled := map[string]bool{}
	for _, byKey := range got {
		for k := range byKey {
			name, _, _ := strings.Cut(k, "{")
			backfilled[name] = true
		}
	}
	for _, at := range []string{
		"2026-11-30T18:00:00Z", // the window's start
		"2026-11-30T23:55:00Z", // the last half hour of November is not in yet
		"2026-12-01T00:25:00Z", // still November's counters (the cutoff is in November)
		"2026-12-01T00:30:00Z", // December's: reset, and nothing has ended in it yet
		"2026-12-01T01:05:00Z", // December's first half hours
		"2026-12-01T02:00:00Z", // November 30th's templates arrive
		"2026-12-01T02:55:00Z", // the window's last instant
	} {
		instant, _ := time.Parse(time.RFC3339, at)
		live := liveAt(t, d.Config, instant, backfilled)
		back := got[instant.Unix()]
		if len(live) == 0 {
			t.Fatalf("%s: the exporter exports nothing", at)
		}
		for _, k := range slices.Sorted(maps.Keys(live)) {
			v, ok := back[k]
			switch {
			case !ok:
				t.Errorf("%s: %s = %g live, absent from the backfill", at, k, live[k])
			case !sameValue(k, v, live[k]):
				t.Errorf("%s: %s = %g backfilled, %g live", at, k, v, live[k])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(back)) {
			if _, ok := live[k]; !ok {
				t.Errorf("%s: %s = %g backfilled, absent live", at, k, back[k])
			}
		}
	}
}
