package main

// The month-to-date counters end to end: a demo exporter whose clock runs
// 600 times faster than the wall clock, scraped by a real Prometheus,
// stopped for a while and started again. increase() over a range that spans
// the restart and the time it was down must equal what the demo's fake API
// holds for that range, bucket by bucket.

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/promtest"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

func TestEndToEndCountersAddUp(t *testing.T) {
	prometheusBin, _ := e2eTools(t)
	dir := t.TempDir()
	bin := promtest.BuildExporter(t, dir)

	// The demo's clock runs 600 times faster than the wall clock (a half
	// hour every 3 s) from the 3rd of this month, so that the run (hours of
	// demo time) stays within one month whatever today's date.
	now := time.Now().UTC()
	clock := e2eClock{start: time.Date(now.Year(), now.Month(), 3, 0, 0, 0, 0, time.UTC), since: now, speed: 600}
	addrs := promtest.FreeAddrs(t, 2)
	args := append([]string{"--demo", "--web.listen-address=" + addrs[0]}, clock.args()...)
	exporter := promtest.Start(t, dir, "exporter-1", bin, args...)
	promtest.WaitDemoRefreshed(t, exporter)

	api := e2eAPI{promtest.StartPrometheus(t, prometheusBin, dir, addrs[1],
		fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: counters\n    static_configs:\n      - targets: [%q]\n", addrs[0]),
		"--storage.tsdb.path="+filepath.Join(dir, "data"))}
	api.waitForSeries(t, 30*time.Second, "the counters scraped", `count(whatsapp_messages_sent_total)`)

	// Run, stop for a while (an hour and a half of demo time), run again.
	time.Sleep(8 * time.Second)
	exporter.Stop()
	time.Sleep(9 * time.Second)
	exporter = promtest.Start(t, dir, "exporter-2", bin, args...)
	promtest.WaitDemoRefreshed(t, exporter)
	time.Sleep(8 * time.Second)

	// The samples of one scrape share a timestamp. The range from the first
	// scrape with counters to the last one, taken exactly, leaves increase()
	// nothing to extrapolate.
	first, last := api.scrapeTimes(t, `whatsapp_messages_sent_total`)
	if !first.Before(exporter.Started) || !last.After(exporter.Started) {
		t.Fatalf("the scrapes from %s to %s do not span the restart at %s", first, last, exporter.Started)
	}
	span := last.Sub(first).Milliseconds()

	// What the fake API holds from the bucket the first scrape's counters
	// end at to the one the last scrape's end at: the API of a demo that
	// started afresh, whose data are the same, read with the exporter's
	// own clients.
	targets := e2eDemoTargets(t, func() time.Time { return clock.start.AddDate(0, 0, 20) })
	for _, target := range targets {
		waba := target.Account.WABAID
		from := api.valueAt(t, fmt.Sprintf(`whatsapp_bucket_end_timestamp_seconds{family="messaging",waba_id=%q}`, waba), first)
		to := api.valueAt(t, fmt.Sprintf(`whatsapp_bucket_end_timestamp_seconds{family="messaging",waba_id=%q}`, waba), last)
		if to-from < 3600*3 {
			t.Errorf("WABA %s: the counters moved over %s of demo time only", waba, time.Duration(to-from)*time.Second)
		}
		points, err := target.Source.Messaging(context.Background(), provider.MessagingQuery{WABAID: waba,
			Window: provider.Window{Start: time.Unix(int64(from), 0), End: time.Unix(int64(to), 0), Granularity: provider.HalfHour}})
		if err != nil {
			t.Fatalf("WABA %s: %v", waba, err)
		}
		var sent, delivered float64
		for _, p := range points {
			if end := float64(p.End.Unix()); end > from && end <= to {
				sent += *p.Sent
				delivered += *p.Delivered
			}
		}
		for _, c := range []struct {
			metric string
			want   float64
		}{{"whatsapp_messages_sent_total", sent}, {"whatsapp_messages_delivered_total", delivered}} {
			q := fmt.Sprintf(`sum(increase(%s{waba_id=%q}[%dms]))`, c.metric, waba, span)
			got := api.valueAt(t, q, last)
			if math.Abs(got-c.want) > 1e-9 {
				t.Errorf("WABA %s: %s at %s = %g, want %g: the fake's sum of the buckets that ended in (%s, %s]",
					waba, q, last.Format(time.RFC3339Nano), got, c.want, time.Unix(int64(from), 0).UTC(), time.Unix(int64(to), 0).UTC())
			}
		}
	}
}

// e2eDemoTargets starts the fake API the demos serve, on the clock now
// (nil: the wall clock), and returns its accounts as the exporter's own
// clients read them: what Prometheus' answers are held against.
func e2eDemoTargets(t *testing.T, now func() time.Time) []scheduler.Target {
	t.Helper()
	fake, err := demo.Start(demo.Healthy, now, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	targets, err := scheduler.Targets(fake.Config)
	if err != nil {
		t.Fatal(err)
	}
	return targets
}

// scrapeTimes returns the times of the first and the last scrape that have
// the metric: all samples of one scrape share its timestamp.
func (a e2eAPI) scrapeTimes(t *testing.T, metric string) (first, last time.Time) {
	t.Helper()
	var res struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	if err := a.API("/api/v1/query", url.Values{"query": {metric + "[5m]"}}, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Result) == 0 || len(res.Result[0].Values) < 2 {
		t.Fatalf("%s has too few samples: %+v", metric, res)
	}
	stamp := func(v [2]any) time.Time { return time.UnixMilli(int64(math.Round(v[0].(float64) * 1000))) }
	values := res.Result[0].Values
	return stamp(values[0]), stamp(values[len(values)-1])
}

// valueAt evaluates q at at and returns its one value.
func (a e2eAPI) valueAt(t *testing.T, q string, at time.Time) float64 {
	t.Helper()
	res, err := a.QueryAt(q, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("%s at %s: %d results, want 1", q, at, len(res))
	}
	return res[0].Value
}
