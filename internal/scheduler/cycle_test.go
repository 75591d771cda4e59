package scheduler

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// The fleet's cycle: the first ends once every account has its data, and
// counts the requests that took; a later one, during which two accounts are
// removed (a listing that dropped them), counts the requests sent within
// it, theirs included, and no more: not their requests of earlier cycles,
// which once made the figure negative.
func TestCycleMeasures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 6
		cfg := &config.Config{Global: config.Global{RequestsPerSecond: 100, Burst: 10}}
		var wabas []fakeapi.WABA
		for i := range n {
			id := fmt.Sprint(7000 + i)
			wabas = append(wabas, testFakeAccount(id, "token-"+id))
			cfg.Accounts = append(cfg.Accounts, graphAccount(id, time.Minute, nil))
		}
		if err := config.Finish(cfg); err != nil {
			t.Fatal(err)
		}
		fake := fakeapi.NewGraph(wabas, fakeapi.Options{Now: time.Now})
		transport := &inProcess{h: fake, start: time.Now(), sent: map[string][]time.Duration{}}
		connector := &Connector{HTTP: &http.Client{Transport: transport}}
		targets, err := connector.Targets(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s := New(targets, &successes{at: map[string][]time.Time{}}, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { s.Run(ctx) })
		defer wg.Wait()
		defer cancel()

		// sentWithin counts the requests sent after from and up to to
		// (durations since the start).
		sentWithin := func(from, to time.Duration) float64 {
			total := 0
			for i := range n {
				for _, at := range transport.of(fmt.Sprint(7000 + i)) {
					if at > from && at <= to {
						total++
					}
				}
			}
			return float64(total)
		}

		time.Sleep(30 * time.Second)
		first := s.Fleet()
		if first.Cycles != 1 || first.CycleDuration <= 0 || first.CycleDuration > 30*time.Second {
			t.Fatalf("after 30 s: %d cycles, the last %s; want the first, every account's first refresh, within seconds", first.Cycles, first.CycleDuration)
		}
		if want := sentWithin(-1, first.CycleDuration); first.CycleRequests != want || want == 0 {
			t.Errorf("the first cycle counts %v requests, the API saw %v", first.CycleRequests, want)
		}

		// The accounts refresh again about a minute after their first
		// time (±10%): once the first has, drop two while the second
		// cycle runs.
		for sentWithin(first.CycleDuration, time.Since(transport.start)) == 0 {
			time.Sleep(time.Second)
		}
		if s.Fleet().Cycles != 1 {
			t.Fatal("the second cycle ended before the accounts could be removed during it")
		}
		s.Apply(targets[:n-2])
		second := s.Fleet()
		for second.Cycles < 2 && time.Since(transport.start) < 5*time.Minute {
			time.Sleep(time.Second)
			second = s.Fleet()
		}
		if second.Cycles != 2 {
			t.Fatalf("%d cycles, want the second just ended", second.Cycles)
		}
		start := first.CycleDuration
		want := sentWithin(start, start+second.CycleDuration)
		if second.CycleRequests != want || want == 0 {
			t.Errorf("the second cycle counts %v requests, the API saw %v sent within it", second.CycleRequests, want)
		}
	})
}
