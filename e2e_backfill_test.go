package main

// The backfill end to end: `whatsapp_exporter backfill` writes the demo's
// history (every family of five WABAs, a partner-billed one among them) over
// days across a month's start, and the last hour; Debian's promtool turns
// both files into blocks in a fresh Prometheus' data directory; that
// Prometheus then scrapes a live demo exporter beside them. PromQL at past
// instants must return what the demo's fake API holds for the bucket each
// series shows, and increase() over a range from the history into the live
// scrapes must equal the fake's sum of the buckets in between.

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/promtest"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

func TestEndToEndBackfill(t *testing.T) {
	prometheusBin, promtoolBin := e2eTools(t)
	dir := t.TempDir()
	bin := promtest.BuildExporter(t, dir)
	addrs := promtest.FreeAddrs(t, 2)
	exporterAddr, promAddr := addrs[0], addrs[1]
	labels := []string{"--label=job=whatsapp", "--label=instance=" + exporterAddr}
	data := filepath.Join(dir, "data")

	// The month's start the history crosses: the latest one at least two
	// days ago, so that the day after it is over.
	now := time.Now().UTC()
	month := bucket.Start(now.Add(-48*time.Hour), provider.Month, time.UTC)
	for i, window := range []struct{ args []string }{
		// Days across the month's start, a sample every half hour.
		{[]string{"--start=" + month.Add(-36*time.Hour).Format(time.RFC3339), "--end=" + month.Add(30*time.Hour).Format(time.RFC3339), "--sample-interval=30m"}},
		// The last hour, up to now: the live scrapes go on from there.
		{[]string{"--start=" + now.Add(-time.Hour).Format(time.RFC3339)}},
	} {
		out := filepath.Join(dir, fmt.Sprintf("history-%d.om", i))
		args := append([]string{"backfill", "--demo", "--output=" + out}, append(window.args, labels...)...)
		if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("backfill %v: %v\n%s", window.args, err, b)
		}
		if b, err := exec.Command(promtoolBin, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=72h", out, data).CombinedOutput(); err != nil {
			t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, b)
		}
	}

	exporter := promtest.Start(t, dir, "exporter", bin, "--demo", "--web.listen-address="+exporterAddr)
	promtest.WaitDemoRefreshed(t, exporter)
	api := e2eAPI{promtest.StartPrometheus(t, prometheusBin, dir, promAddr,
		fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: whatsapp\n    static_configs:\n      - targets: [%q]\n", exporterAddr),
		"--storage.tsdb.path="+data, "--storage.tsdb.retention.time=400d")}
	api.waitForSeries(t, 30*time.Second, "three live scrapes", `count_over_time(up{job="whatsapp"}[1m]) >= 3`)
	time.Sleep(3 * time.Second)

	// The fake API the demos serve, read with the exporter's own clients.
	targets := e2eDemoTargets(t, nil)
	sent := func(target scheduler.Target, from, to time.Time) float64 {
		// Every message sent in the half hours that end in (from, to].
		points, err := target.Source.Messaging(context.Background(), provider.MessagingQuery{WABAID: target.Account.WABAID,
			Window: provider.Window{Start: from, End: to, Granularity: provider.HalfHour}})
		if err != nil {
			t.Fatal(err)
		}
		var n float64
		for _, p := range points {
			if p.End.After(from) && !p.End.After(to) {
				n += *p.Sent
			}
		}
		return n
	}

	// Past instants: before the month's start, just after it (December's
	// counters, two half hours in), and the next day.
	for _, at := range []time.Time{month.Add(-24 * time.Hour), month.Add(time.Hour), month.Add(24 * time.Hour)} {
		cutoff := at.Add(-30 * time.Minute)
		newest := cutoff.Truncate(30 * time.Minute)
		for _, target := range targets {
			waba := target.Account.WABAID
			check := func(q string, want float64) {
				t.Helper()
				if got := api.valueAt(t, q, at); got != want {
					t.Errorf("at %s: %s = %g, want %g, the fake's", at.Format(time.RFC3339), q, got, want)
				}
			}
			check(fmt.Sprintf(`whatsapp_bucket_end_timestamp_seconds{family="messaging",waba_id=%q}`, waba), float64(newest.Unix()))
			check(fmt.Sprintf(`sum(whatsapp_messages_sent_newest{waba_id=%q})`, waba), sent(target, newest.Add(-30*time.Minute), newest))
			check(fmt.Sprintf(`sum(whatsapp_messages_sent_total{waba_id=%q})`, waba), sent(target, bucket.Start(cutoff, provider.Month, time.UTC), newest))
		}
		// The partner-billed WABA has no cost series; the others have.
		for waba, want := range map[string]bool{demo.TravelWABA: false, demo.RetailWABA: true} {
			res, err := api.Query(fmt.Sprintf(`count(last_over_time(whatsapp_pricing_cost_total{waba_id=%q}[1h] @ %d))`, waba, at.Unix()))
			if err != nil {
				t.Fatal(err)
			}
			if (len(res) > 0) != want {
				t.Errorf("at %s: WABA %s has cost series: %v, want %v", at, waba, len(res) > 0, want)
			}
		}
	}

	// increase() from a backfilled sample into the live scrapes: exactly
	// the fake's sum of the half hours between the two values' cutoffs.
	_, last := api.scrapeTimes(t, `whatsapp_messages_sent_total`)
	from := now.Add(-30 * time.Minute).Truncate(5 * time.Minute)
	if from.Before(now.Add(-time.Hour)) {
		from = from.Add(5 * time.Minute)
	}
	for _, target := range targets {
		waba := target.Account.WABAID
		to := api.valueAt(t, fmt.Sprintf(`whatsapp_bucket_end_timestamp_seconds{family="messaging",waba_id=%q}`, waba), last)
		fromEnd := from.Add(-30 * time.Minute).Truncate(30 * time.Minute)
		if bucket.Start(fromEnd, provider.Month, time.UTC) != bucket.Start(time.Unix(int64(to), 0).Add(-time.Nanosecond), provider.Month, time.UTC) {
			t.Skip("the range crosses a month's start, whose last half hour no counter shows")
		}
		want := sent(target, fromEnd, time.Unix(int64(to), 0))
		q := fmt.Sprintf(`sum(increase(whatsapp_messages_sent_total{waba_id=%q}[%dms]))`, waba, last.Sub(from).Milliseconds())
		if got := api.valueAt(t, q, last); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s at %s = %g, want %g: the fake's sum of the half hours that ended in (%s, %s]", q, last.Format(time.RFC3339Nano), got, want,
				fromEnd.Format(time.RFC3339), time.Unix(int64(to), 0).UTC().Format(time.RFC3339))
		}
	}
}
