package scheduler

// The shared throttle seen from the whole exporter: the scheduler's loops,
// real clients built by Targets' wiring, and the fake Graph API, run for
// virtual minutes or hours in a testing/synctest bubble, with a transport
// that hands each request to the fake in-process (the network's waits would
// not be virtual).

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// inProcess serves requests with a handler and notes when each was sent,
// per WABA (the path's last numeric segment).
type inProcess struct {
	h     http.Handler
	mu    sync.Mutex
	start time.Time
	sent  map[string][]time.Duration
}

func (p *inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	waba := ""
	for _, seg := range strings.Split(r.URL.Path, "/") {
		if seg != "" && strings.Trim(seg, "0123456789") == "" {
			waba = seg
		}
	}
	p.mu.Lock()
	p.sent[waba] = append(p.sent[waba], time.Since(p.start))
	p.mu.Unlock()
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err // the fake hung until the client gave up
	}
	return rec.Result(), nil
}

func (p *inProcess) of(waba string) []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.sent[waba])
}

// successes records each family's successful refreshes, per WABA.
type successes struct {
	mu sync.Mutex
	at map[string][]time.Time
}

func (s *successes) Forget(string) {}

func (s *successes) Publish(snap *analytics.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := snap.Families[provider.Messaging]; r != nil && r.Success {
		if at := s.at[snap.WABAID]; len(at) == 0 || !at[len(at)-1].Equal(r.LastSuccess) {
			s.at[snap.WABAID] = append(at, r.LastSuccess)
		}
	}
}

// fleet runs cfg's accounts against a fake Graph API for d of virtual time.
func fleet(t *testing.T, cfg *config.Config, fake *fakeapi.Graph, d time.Duration) (*inProcess, *successes) {
	t.Helper()
	if err := config.Finish(cfg); err != nil {
		t.Fatal(err)
	}
	transport := &inProcess{h: fake, start: time.Now(), sent: map[string][]time.Duration{}}
	targets, err := (&Connector{HTTP: &http.Client{Transport: transport}}).Targets(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pub := &successes{at: map[string][]time.Time{}}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	New(targets, pub, Options{}).Run(ctx)
	return transport, pub
}

func graphAccount(waba string, interval time.Duration, mod func(*config.Account)) config.Account {
	a := config.Account{
		WABAID: waba, APIURL: "https://graph.example.com", AccessToken: config.Secret("token-" + waba),
		Interval: interval,
	}
	onlyFamilies("messaging")(&a)
	if mod != nil {
		mod(&a)
	}
	return a
}

// TestHungWABAsDoNotStarveHealthyOnes is the fault suite's case: WABAs whose
// requests hang until their 30 s timeout, retried every 5 s, share a host
// with healthy WABAs on a 5 s interval. From its first successful refresh on,
// each healthy WABA keeps its interval (before the fair pool, one went 37 s
// without a successful refresh). Its first refresh competes with the hung
// WABAs' first requests, which nothing tells from healthy ones until they
// time out: the log shows how long that took.
func TestHungWABAsDoNotStarveHealthyOnes(t *testing.T) {
	const interval = 5 * time.Second
	tests := []struct {
		name          string
		slots         int
		hung, healthy int
	}{
		{"4 slots, 8 hung, 3 healthy", 4, 8, 3},
		{"10 slots, 30 hung, 4 healthy", 10, 30, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var wabas []fakeapi.WABA
				cfg := &config.Config{Global: config.Global{MaxConcurrentRequests: tt.slots}}
				for i := range tt.hung + tt.healthy {
					id := fmt.Sprint(3000 + i)
					wabas = append(wabas, testFakeAccount(id, "token-"+id))
					cfg.Accounts = append(cfg.Accounts, graphAccount(id, interval, nil))
				}
				fake := fakeapi.NewGraph(wabas, fakeapi.Options{Now: time.Now})
				for i := range tt.hung {
					fake.Inject(fmt.Sprint(3000+i), fakeapi.Fault{Kind: fakeapi.Hang})
				}
				transport, ok := fleet(t, cfg, fake, 5*time.Minute)

				if n := len(transport.of("3000")); n < 2 {
					t.Errorf("a hung WABA sent %d requests in 5 minutes; it should keep trying", n)
				}
				var longest, first time.Duration
				for i := tt.hung; i < tt.hung+tt.healthy; i++ {
					at := ok.at[fmt.Sprint(3000+i)]
					if len(at) < 2 {
						t.Errorf("healthy WABA %d refreshed %d times in 5 minutes", 3000+i, len(at))
						continue
					}
					first = max(first, at[0].Sub(transport.start))
					for j := 1; j < len(at); j++ {
						longest = max(longest, at[j].Sub(at[j-1]))
					}
				}
				// The interval with its jitter, and the rate's spacing.
				if limit := interval*11/10 + time.Second; longest > limit {
					t.Errorf("a healthy WABA went %s between successful refreshes, want at most %s", longest, limit)
				}
				t.Logf("healthy WABAs: first success within %s, then at most %s between successful refreshes", first, longest)
			})
		})
	}
}

// TestRequestBudget: whatever the intervals and the number of WABAs, no
// sliding hour holds more requests than a WABA's max_requests_per_hour, or
// than global.max_requests_per_hour for the process, over three hours of a
// fleet that asks for more.
func TestRequestBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const perWABA, perProcess = 20, 60
		intervals := []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 10 * time.Minute}
		cfg := &config.Config{Global: config.Global{MaxRequestsPerHour: perProcess}}
		var wabas []fakeapi.WABA
		for i, interval := range intervals {
			id := fmt.Sprint(4000 + i)
			wabas = append(wabas, testFakeAccount(id, "token-"+id))
			cfg.Accounts = append(cfg.Accounts, graphAccount(id, interval, func(a *config.Account) {
				a.MaxRequestsPerHour = perWABA
			}))
		}
		fake := fakeapi.NewGraph(wabas, fakeapi.Options{Now: time.Now})
		transport, _ := fleet(t, cfg, fake, 3*time.Hour)

		var all []time.Duration
		for i := range intervals {
			at := transport.of(fmt.Sprint(4000 + i))
			all = append(all, at...)
			if most := mostInAnHour(at); most > perWABA {
				t.Errorf("WABA %d (interval %s): %d requests within an hour, over its ceiling of %d", 4000+i, intervals[i], most, perWABA)
			}
		}
		slices.Sort(all)
		most := mostInAnHour(all)
		if most > perProcess {
			t.Errorf("%d requests within an hour, over the process's ceiling of %d", most, perProcess)
		}
		// The fleet asks for more than either ceiling allows, so the
		// process's ceiling is used to the full.
		if most != perProcess {
			t.Errorf("at most %d requests within an hour; the fleet asks for more, so want the ceiling of %d", most, perProcess)
		}
		t.Logf("%d requests in 3 hours; at most %d in any hour (ceiling %d), per WABA at most %d (ceiling %d)",
			len(all), most, perProcess, mostPerWABA(transport, len(intervals)), perWABA)
	})
}

// mostInAnHour is the most sends in any sliding hour [t, t+1h).
func mostInAnHour(at []time.Duration) int {
	most, j := 0, 0
	for i := range at {
		for j < len(at) && at[j]-at[i] < time.Hour {
			j++
		}
		most = max(most, j-i)
	}
	return most
}

func mostPerWABA(p *inProcess, n int) int {
	most := 0
	for i := range n {
		most = max(most, mostInAnHour(p.of(fmt.Sprint(4000+i))))
	}
	return most
}

// TestOrderedAdmission: after a start, accounts get their first data in
// their order, each as soon as those before it are done: the time until an
// account has data grows with its position in the fleet, not with the size
// of the fleet. Two fleets of 20 and 200 accounts, at 10 requests a second:
// the 15th account of each has its data as soon, and in the larger fleet
// the last accounts come last.
func TestOrderedAdmission(t *testing.T) {
	firstData := map[int][]time.Duration{}
	for _, n := range []int{20, 200} {
		synctest.Test(t, func(t *testing.T) {
			cfg := &config.Config{Global: config.Global{RequestsPerSecond: 10, Burst: 1}}
			var wabas []fakeapi.WABA
			for i := range n {
				id := fmt.Sprint(6000 + i)
				wabas = append(wabas, testFakeAccount(id, "token-"+id))
				cfg.Accounts = append(cfg.Accounts, graphAccount(id, 15*time.Minute, nil))
			}
			fake := fakeapi.NewGraph(wabas, fakeapi.Options{Now: time.Now})
			transport, ok := fleet(t, cfg, fake, 3*time.Minute)
			for i := range n {
				at := ok.at[fmt.Sprint(6000+i)]
				if len(at) == 0 {
					t.Fatalf("fleet of %d: account %d has no data after 3 minutes", n, i)
				}
				firstData[n] = append(firstData[n], at[0].Sub(transport.start))
			}
		})
	}
	small, large := firstData[20], firstData[200]
	// The first accounts refresh side by side, in whatever order their
	// requests get through: the time by which the first 15 all have
	// data is what the fleet's size must not change.
	first15 := func(at []time.Duration) time.Duration { return slices.Max(at[:15]) }
	t.Logf("first data of the first 15 accounts: within %s of 20, %s of 200; of the last of 200: %s", first15(small), first15(large), large[199])
	if first15(large) > first15(small)+2*time.Second {
		t.Errorf("the first 15 accounts had their data after %s in a fleet of 200, %s in one of 20: they wait for the fleet's size", first15(large), first15(small))
	}
	// In order: no account gets its data much before one ahead of it
	// (places run side by side, so by a few refreshes at most).
	for i := 40; i < 200; i++ {
		if large[i] < large[i-40] {
			t.Errorf("account %d got its first data (%s) before account %d (%s)", i, large[i], i-40, large[i-40])
		}
	}
	if large[199] < 5*first15(large) {
		t.Errorf("the last of 200 accounts got its data after %s, the first 15 within %s: want the last well after", large[199], first15(large))
	}
}
