package scheduler

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// TestPeakMemoryHugeBodies measures, rather than asserts: the peak memory of
// the exporter while every WABA answers with bodies just under the 32 MiB
// cap, over real loopback HTTP, at the default rate and at 200 requests a
// second. It takes half a minute and the figures depend on the machine, so
// it runs only when asked:
//
//	WHATSAPP_EXPORTER_MEMORY=1 go test -run TestPeakMemoryHugeBodies -v ./internal/scheduler/
//
// Peak RSS is the process's high-water mark, so each rate should run in a
// process of its own (-run 'TestPeakMemoryHugeBodies/200'); the peak heap
// is sampled and needs no such care.
func TestPeakMemoryHugeBodies(t *testing.T) {
	if os.Getenv("WHATSAPP_EXPORTER_MEMORY") == "" {
		t.Skip("a measurement; set WHATSAPP_EXPORTER_MEMORY=1 to run it")
	}
	for _, rate := range []float64{config.DefaultRequestsPerSecond, 200} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			const wabas = 20
			var fakes []fakeapi.WABA
			cfg := &config.Config{Global: config.Global{RequestsPerSecond: rate, Burst: int(rate)}}
			for i := range wabas {
				id := fmt.Sprint(5000 + i)
				fakes = append(fakes, testFakeAccount(id, "token-"+id))
			}
			graph, url := fakeGraph(t, fakes, fakeapi.Options{})
			for i := range wabas {
				id := fmt.Sprint(5000 + i)
				graph.Inject(id, fakeapi.Fault{Kind: fakeapi.Huge, Size: 31 << 20})
				a := graphAccount(id, time.Second, nil)
				a.APIURL = url
				cfg.Accounts = append(cfg.Accounts, a)
			}
			if err := config.Finish(cfg); err != nil {
				t.Fatal(err)
			}
			targets, err := Targets(cfg)
			if err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			done := make(chan struct{})
			go func() {
				defer close(done)
				New(targets, &successes{at: map[string][]time.Time{}}, Options{}).Run(ctx)
			}()
			var peakHeap uint64
			var ms runtime.MemStats
			for sampling := true; sampling; {
				select {
				case <-done:
					sampling = false
				case <-time.After(20 * time.Millisecond):
				}
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapAlloc)
			}
			requests := 0
			for i := range wabas {
				requests += graph.Stats(fmt.Sprint(5000 + i)).Requests
			}
			t.Logf("%g requests/s: %d requests of 31 MiB in 15 s; peak heap %d MiB, peak RSS %s",
				rate, requests, peakHeap>>20, peakRSS())
		})
	}
}

// peakRSS is the process's resident high-water mark (Linux), or "?".
func peakRSS() string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err == nil {
				return fmt.Sprintf("%d MiB", kb>>10)
			}
		}
	}
	return "?"
}
