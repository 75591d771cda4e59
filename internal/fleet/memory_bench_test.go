package fleet

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/collector"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
)

// BenchmarkFleetMemory is the heap a fleet keeps once every WABA has its
// data: 200 WABAs of the fake fleet (3 numbers, 20 templates each),
// discovered from their business and refreshed once. The heap is measured
// after a collection, with the exporter, and again once the exporter is
// stopped and dropped: the difference is the exporter's, the fake API's
// own being in both. heapB/series divides it by the series /metrics
// serves; the scheduler's ledgers and snapshots and the collector's
// pre-rendered text are all in it. analytics-only turns account health off:
// its series are dearer, as each keeps a month-to-date ledger.
func BenchmarkFleetMemory(b *testing.B) {
	for _, profile := range []struct{ name, defaults string }{
		{"defaults", ""},
		// Analytics alone: the series that keep month-to-date ledgers,
		// dearer than account health's state sets.
		{"analytics-only", "    defaults:\n      health:\n        enabled: false\n"},
	} {
		b.Run(profile.name, func(b *testing.B) { fleetMemory(b, profile.defaults) })
	}
}

func fleetMemory(b *testing.B, defaults string) {
	const n = 200
	for b.Loop() {
		wabas, business := fakeapi.Fleet(n, fakeapi.FleetOptions{})
		g := fakeapi.NewGraph(wabas, fakeapi.Options{})
		g.SetBusiness(business)
		srv := httptest.NewServer(g)
		cfg := parse(b, fmt.Sprintf(`
global:
  requests_per_second: 1000
  burst: 100
businesses:
  - business_id: %q
    api_url: %s
    access_token: %s
%s`, business.ID, srv.URL, fakeapi.DefaultFleetToken, defaults))
		// The exporter runs in a function of its own, so that nothing
		// keeps it once the function returns.
		var with uint64
		var series int
		func() {
			ctx, cancel := context.WithCancel(context.Background())
			c := collector.New(collector.Options{})
			s := scheduler.New(nil, c, scheduler.Options{RequestsPerSecond: 1000, MaxConcurrentRefreshes: 20})
			f := New(cfg, &scheduler.Connector{}, s.Apply, Options{})
			var wg sync.WaitGroup
			wg.Go(func() { s.Run(ctx) })
			wg.Go(func() { f.Run(ctx) })
			for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					b.Fatal("the fleet did not get its data in 5 minutes")
				}
				if len(withData(b, c)) == n {
					break
				}
			}
			with, series = heapInUse(), seriesOf(c)
			cancel()
			wg.Wait()
		}()
		heap := int64(with) - int64(heapInUse())
		b.ReportMetric(float64(heap)/float64(series), "heapB/series")
		b.ReportMetric(float64(heap)/n, "heapB/WABA")
		b.ReportMetric(float64(series)/n, "series/WABA")
		srv.Close()
		runtime.KeepAlive(g)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func seriesOf(c prometheus.Collector) int {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	families, _ := reg.Gather()
	n := 0
	for _, mf := range families {
		n += len(mf.Metric)
	}
	return n
}
