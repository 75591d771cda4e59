package backfill

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
)

// fleetConfig serves a fake fleet of n Meta WABAs (3 numbers, 20
// templates, a fifth partner-billed: fakeapi.Fleet) and returns the default
// configuration of each (messaging, pricing, templates).
func fleetConfig(tb testing.TB, n int) *config.Config {
	tb.Helper()
	wabas, _ := fakeapi.Fleet(n, fakeapi.FleetOptions{})
	graph := fakeapi.NewGraph(wabas, fakeapi.Options{Now: func() time.Time { return testNow }})
	srv := httptest.NewServer(graph)
	tb.Cleanup(srv.Close)
	cfg := &config.Config{Global: config.Global{RequestsPerSecond: 100000, Burst: 1000, MaxConcurrentRequests: 20}}
	for _, w := range wabas {
		cfg.Accounts = append(cfg.Accounts, config.Account{WABAID: w.WABAID, Provider: meta.Name, APIURL: srv.URL, AccessToken: config.Secret(fakeapi.DefaultFleetToken)})
	}
	if err := config.Finish(cfg); err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// backfillDays backfills days of history of cfg's fleet, and returns the
// analytics requests it sent.
func backfillDays(tb testing.TB, cfg *config.Config, days int, noGauges bool, step time.Duration) (analytics int, report *Report) {
	tr := newCountingTransport()
	out := tb.TempDir() + "/history.om"
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	opts := Options{Config: cfg, Connector: &scheduler.Connector{HTTP: &http.Client{Transport: tr}}, Output: out,
		Now: func() time.Time { return testNow }, Start: end.AddDate(0, 0, -days), End: end, NoGauges: noGauges,
		Labels: map[string]string{"job": "whatsapp", "instance": "127.0.0.1:9919"}, Step: step}
	report, err := Run(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	os.Remove(out)
	return tr.analyticsRequests(), report
}

// TestCallsPerDayOfHistory: what one WABA of the defaults costs per day of
// history, as docs/backfill.md derives it. With gauges, a day of half hours
// is one request for messaging and pricing together, and pricing's further
// pages. Counters alone take the month's days in a request or two per
// family.
func TestCallsPerDayOfHistory(t *testing.T) {
	cfg := fleetConfig(t, 1)
	cfg.Accounts[0].Templates.Enabled = new(bool) // messaging and pricing only: the per-day part
	one, _ := backfillDays(t, cfg, 1, false, time.Hour)
	ten, _ := backfillDays(t, cfg, 11, false, time.Hour)
	perDay := float64(ten-one) / 10
	// A day of pricing's half hours is 48 times its breakdowns (about 30
	// for this WABA): three pages of 500.
	if perDay < 2.5 || perDay > 3.5 {
		t.Errorf("%g requests per day of history (1 day: %d, 11 days: %d), want a request a day and pricing's two further pages", perDay, one, ten)
	}
	countersOnly, _ := backfillDays(t, cfg, 11, true, time.Hour)
	t.Logf("gauges and counters: %d requests for 1 day, %d for 11 (%g a day); counters only: %d for 11 days", one, ten, perDay, countersOnly)
	if countersOnly > ten/3 {
		t.Errorf("counters only: %d requests for 11 days, want far fewer than the %d with gauges: days, not half hours", countersOnly, ten)
	}
}

// BenchmarkBackfill measures a day of history of 1 and of 100 WABAs of the
// defaults against the in-process fake: requests and time per day of
// history, and output bytes per WABA and day. One WABA is written at the
// default 5-minute interval; 100 at an hour (a twelfth of the bytes, the
// same requests), so that a run stays within a CI machine's disk.
func BenchmarkBackfill(b *testing.B) {
	const days = 1
	for _, c := range []struct {
		wabas int
		step  time.Duration
	}{{1, DefaultStep}, {100, time.Hour}} {
		n := c.wabas
		b.Run(fmt.Sprintf("wabas=%d/interval=%s", n, c.step), func(b *testing.B) {
			cfg := fleetConfig(b, n)
			var requests int
			var bytes int64
			for b.Loop() {
				r, report := backfillDays(b, cfg, days, false, c.step)
				requests, bytes = r, report.Bytes
			}
			b.ReportMetric(float64(requests)/days/float64(n), "requests/WABA-day")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/days, "s/day")
			b.ReportMetric(float64(bytes)/days/float64(n), "bytes/WABA-day")
		})
	}
}
