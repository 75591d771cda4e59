package provider

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The tests run the throttle in synctest bubbles: time is virtual there,
// and moves only when every goroutine of the test waits, so each send time
// below is exact and a minute of throttling takes microseconds.

var (
	hostA = &url.URL{Scheme: "https", Host: "graph.example.com"}
	hostB = &url.URL{Scheme: "https", Host: "bsp.example.net"}
)

// sends records when turns were granted, per account.
type sends struct {
	mu    sync.Mutex
	start time.Time
	at    map[string][]time.Duration // since start
}

func newSends() *sends { return &sends{start: time.Now(), at: map[string][]time.Duration{}} }

func (s *sends) add(account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at[account] = append(s.at[account], time.Since(s.start))
}

func (s *sends) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []time.Duration
	for _, at := range s.at {
		all = append(all, at...)
	}
	slices.Sort(all)
	return all
}

func (s *sends) of(account string) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.at[account])
}

// client is one account's request loop: take a turn, hold it for hold(n)
// (the request's time on the wire), end it with outcome(n), then wait
// pause before the next request; until ctx ends or after max requests.
// With parallel, that many loops share the account.
type client struct {
	account  string
	url      *url.URL
	max      int
	hold     func(n int) time.Duration
	outcome  func(n int) Outcome
	pause    time.Duration
	ceiling  int // the account's requests per hour; 0: none
	parallel int
}

func (c client) run(ctx context.Context, t *testing.T, th *Throttle, s *sends) {
	a := th.Account(c.account, c.ceiling)
	var wg sync.WaitGroup
	for range max(c.parallel, 1) {
		wg.Go(func() { c.loop(ctx, a, s) })
	}
	wg.Wait()
}

func (c client) loop(ctx context.Context, a *AccountThrottle, s *sends) {
	for n := 0; c.max == 0 || n < c.max; n++ {
		turn, err := a.Acquire(ctx, c.url)
		if err != nil {
			return
		}
		s.add(c.account)
		if c.hold != nil {
			sleep(ctx, c.hold(n))
		}
		o := Outcome{}
		if c.outcome != nil {
			o = c.outcome(n)
		}
		turn.End(o)
		if !sleep(ctx, c.pause) {
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	return sleepUntil(ctx, d, nil) == nil
}

// maxInWindow is the most sends within any window of length w, closed at
// both ends when closed is set.
func maxInWindow(at []time.Duration, w time.Duration, closed bool) int {
	most, j := 0, 0
	for i := range at {
		for j < len(at) && (at[j]-at[i] < w || closed && at[j]-at[i] == w) {
			j++
		}
		most = max(most, j-i)
	}
	return most
}

// TestRateHoldsUnderStalls: requests that hold their slot a long time must
// not let the others bank tokens meanwhile and then leave together. At
// every window, however short, the sends stay within burst + rate × length.
// The old order (token, then slot) let 10 requests out within 92 ms at 5 a
// second with one slot held for 2 s.
func TestRateHoldsUnderStalls(t *testing.T) {
	tests := []struct {
		name          string
		opts          ThrottleOptions
		clients       int
		hold          func(n int) time.Duration
		wantAtLeast   int // sends in the minute: the throttle lets requests through
		wantMaxSecond int // the most sends in any second (closed: burst + rate)
	}{
		{
			name: "5/s, one slot, every third request holds it 2 s",
			opts: ThrottleOptions{RequestsPerSecond: 5, Burst: 1, MaxConcurrent: 1}, clients: 20,
			hold: func(n int) time.Duration {
				if n%3 == 0 {
					return 2 * time.Second
				}
				return 0
			},
			wantAtLeast: 40, wantMaxSecond: 6,
		},
		{
			name: "5/s burst 5, four slots, hung requests holding them 30 s",
			opts: ThrottleOptions{RequestsPerSecond: 5, Burst: 5, MaxConcurrent: 4}, clients: 50,
			hold: func(n int) time.Duration {
				if n%5 == 0 {
					return 30 * time.Second
				}
				return 10 * time.Millisecond
			},
			wantAtLeast: 20, wantMaxSecond: 10,
		},
		{
			name: "10/s burst 10, ten slots, stalls of every length",
			opts: ThrottleOptions{RequestsPerSecond: 10, Burst: 10, MaxConcurrent: 10}, clients: 200,
			hold:        func(n int) time.Duration { return time.Duration(n%7) * 900 * time.Millisecond },
			wantAtLeast: 200, wantMaxSecond: 20,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				th := NewThrottle(tt.opts)
				s := newSends()
				var wg sync.WaitGroup
				for i := range tt.clients {
					c := client{account: fmt.Sprint(i), url: hostA, hold: func(n int) time.Duration { return tt.hold(n + i) }}
					wg.Go(func() { c.run(ctx, t, th, s) })
				}
				wg.Wait()

				at := s.all()
				if len(at) < tt.wantAtLeast {
					t.Errorf("%d requests in a minute, want at least %d", len(at), tt.wantAtLeast)
				}
				// Every window from one send to a later one.
				for i := range at {
					for j := i + 1; j < len(at); j++ {
						allowed := float64(tt.opts.Burst) + tt.opts.RequestsPerSecond*(at[j]-at[i]).Seconds()
						// The limiter rounds its times to the nanosecond.
						if float64(j-i+1) > allowed+1e-6 {
							t.Fatalf("%d requests between %s and %s; the rate allows %.2f", j-i+1, at[i], at[j], allowed)
						}
					}
				}
				most := maxInWindow(at, time.Second, true)
				if most > tt.wantMaxSecond {
					t.Errorf("%d requests within one second, want at most %d", most, tt.wantMaxSecond)
				}
				t.Logf("%d requests in a minute; at most %d in any second, %d in any 100ms",
					len(at), most, maxInWindow(at, 100*time.Millisecond, true))
			})
		})
	}
}

// TestHostPools: each API host has its own slots. A host that hangs (every
// slot held until the test ends) does not delay a request to another host.
func TestHostPools(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		th := NewThrottle(ThrottleOptions{RequestsPerSecond: 1000, Burst: 10, MaxConcurrent: 3})
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()
		// A BSP that answered three accounts once, then stopped
		// answering: they hold the host's three slots, and more of its
		// accounts wait for them.
		for i := range 3 {
			a := th.Account(fmt.Sprint("bsp", i), 0)
			turn, err := a.Acquire(ctx, hostA)
			if err != nil {
				t.Fatal(err)
			}
			turn.End(Outcome{})
			if _, err := a.Acquire(ctx, hostA); err != nil {
				t.Fatal(err)
			}
		}
		for i := 3; i < 10; i++ {
			a := th.Account(fmt.Sprint("bsp", i), 0)
			wg.Go(func() { a.Acquire(ctx, hostA) })
		}
		full, cancelFull := context.WithTimeout(ctx, time.Minute)
		defer cancelFull()
		if _, err := th.Account("probe", 0).Acquire(full, hostA); err == nil {
			t.Fatal("the hung host had a free slot")
		}

		start := time.Now()
		turn, err := th.Account("meta", 0).Acquire(ctx, hostB)
		if err != nil {
			t.Fatal(err)
		}
		turn.End(Outcome{})
		if waited := time.Since(start); waited != 0 {
			t.Errorf("a request to another host waited %s", waited)
		}
	})
}

// TestFairSlots: a WABA that hangs holds its slot for each request's whole
// timeout. However many hang, WABAs that are not trusted (new, or hanging)
// leave a slot free for each trusted one, up to half the host's slots, and
// trusted ones go first: once a healthy WABA has been answered, it waits for
// a slot only while other healthy ones hold theirs, never for a hung one.
// Its first turn, though, competes with the hung WABAs' first ones, in
// waves of one timeout: the log shows how long it took.
func TestFairSlots(t *testing.T) {
	const timeout = 30 * time.Second
	hung := func(int) time.Duration { return timeout }
	noAnswer := func(int) Outcome { return Outcome{NoAnswer: true} }
	tests := []struct {
		name        string
		slots, hung int
		healthy     int
		// wantWait is the longest a healthy WABA may wait for a slot
		// once it has been answered: for the turns (of 50 ms) of the
		// other healthy ones that asked at the same time, when they
		// outnumber the slots kept for them.
		wantWait time.Duration
	}{
		{"4 slots, 6 hung WABAs, 3 healthy", 4, 6, 3, 50 * time.Millisecond},
		{"10 slots, 40 hung WABAs, 10 healthy", 10, 40, 10, 50 * time.Millisecond},
		{"10 slots, 40 hung WABAs, 5 healthy", 10, 40, 5, 0},
		{"2 slots, 5 hung WABAs, 2 healthy", 2, 5, 2, 50 * time.Millisecond},
		{"1 slot: a hung request holds it for its timeout", 1, 3, 1, timeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				th := NewThrottle(ThrottleOptions{RequestsPerSecond: 1000, Burst: 100, MaxConcurrent: tt.slots})
				s := newSends()
				var wg sync.WaitGroup
				for i := range tt.hung {
					// A hung WABA retries at once: the worst case.
					c := client{account: fmt.Sprint("hung", i), url: hostA, hold: hung, outcome: noAnswer}
					wg.Go(func() { c.run(ctx, t, th, s) })
				}
				var mu sync.Mutex
				var longest, firstTurn time.Duration
				for i := range tt.healthy {
					name := fmt.Sprint("healthy", i)
					wg.Go(func() {
						a := th.Account(name, 0)
						answered := false
						for {
							asked := time.Now()
							turn, err := a.Acquire(ctx, hostA)
							if err != nil {
								return
							}
							mu.Lock()
							if answered {
								longest = max(longest, time.Since(asked))
							} else {
								firstTurn = max(firstTurn, time.Since(asked))
							}
							mu.Unlock()
							s.add(name)
							sleep(ctx, 50*time.Millisecond)
							turn.End(Outcome{})
							answered = true
							if !sleep(ctx, 5*time.Second) {
								return
							}
						}
					})
				}
				wg.Wait()
				if longest > tt.wantWait {
					t.Errorf("a healthy WABA waited %s for a slot after its first answer, want at most %s", longest, tt.wantWait)
				}
				// Each healthy WABA was served every 5 s from its
				// first turn on, and the hung ones still get turns:
				// slower, not never.
				for i := range tt.healthy {
					at := s.of(fmt.Sprint("healthy", i))
					for j := 1; j < len(at); j++ {
						if gap := at[j] - at[j-1]; gap > 5*time.Second+50*time.Millisecond+tt.wantWait {
							t.Errorf("healthy%d: %s between turns %d and %d", i, gap, j-1, j)
							break
						}
					}
				}
				if n := len(s.of("hung0")); n < 2 {
					t.Errorf("a hung WABA got %d turns in 10 minutes; it should keep trying", n)
				}
				t.Logf("healthy WABAs: first turn after at most %s, then waits of at most %s; turns of healthy0: %d, of hung0: %d",
					firstTurn, longest, len(s.of("healthy0")), len(s.of("hung0")))
			})
		})
	}
}

// TestShare: an account that asks for many slots at once holds at most its
// share, ceil(slots / accounts asking), once others ask too, and they go
// first as its turns end. (New accounts, a and b here, hold fewer slots
// together until they are answered; see TestFairSlots.)
func TestShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		th := NewThrottle(ThrottleOptions{RequestsPerSecond: 1000, Burst: 100, MaxConcurrent: 6})
		var mu sync.Mutex
		greedyHeld, greedyMost, othersHolding := 0, 0, 0
		var wg sync.WaitGroup
		greedy := th.Account("greedy", 0)
		// Answered once, the account is trusted with every slot.
		turn, err := greedy.Acquire(ctx, hostA)
		if err != nil {
			t.Fatal(err)
		}
		turn.End(Outcome{})
		for range 30 {
			wg.Go(func() {
				turn, err := greedy.Acquire(ctx, hostA)
				if err != nil {
					return
				}
				mu.Lock()
				greedyHeld++
				if othersHolding == 2 {
					greedyMost = max(greedyMost, greedyHeld)
				}
				mu.Unlock()
				sleep(ctx, 10*time.Second)
				mu.Lock()
				greedyHeld--
				mu.Unlock()
				turn.End(Outcome{})
			})
		}
		synctest.Wait()
		mu.Lock()
		if greedyHeld != 6 {
			t.Fatalf("alone, the greedy account holds %d slots, want all 6", greedyHeld)
		}
		mu.Unlock()
		time.Sleep(time.Second)
		var waited [2]time.Duration
		for i, name := range []string{"a", "b"} {
			a := th.Account(name, 0)
			wg.Go(func() {
				asked := time.Now()
				turn, err := a.Acquire(ctx, hostA)
				if err != nil {
					return
				}
				mu.Lock()
				waited[i] = time.Since(asked)
				othersHolding++
				mu.Unlock()
				sleep(ctx, time.Minute)
				mu.Lock()
				othersHolding--
				mu.Unlock()
				turn.End(Outcome{})
			})
		}
		wg.Wait()
		if greedyMost > 2 {
			t.Errorf("while two others held slots, the greedy account held %d at once, want at most its share of 2", greedyMost)
		}
		if greedyMost == 0 {
			t.Error("the greedy account got no slot while the others held theirs; its share is 2")
		}
		// a and b asked at 1 s; greedy's first turns end at 10 s.
		for i, w := range waited {
			if w != 9*time.Second {
				t.Errorf("account %d waited %s for a slot, want the 9s until greedy's first turns end", i, w)
			}
		}
	})
}

// TestAppLimit: an answer that says the app's budget on a host is spent
// holds back every account's requests to that host, not only the one that
// saw it, until the time the API named; then one request at a time finds out
// whether access is back, and once one is answered without the limit all go
// again. Another host is not slowed at all.
func TestAppLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		th := NewThrottle(ThrottleOptions{RequestsPerSecond: 1000, Burst: 10, MaxConcurrent: 10, AppLimitWait: time.Minute})
		start := time.Now()

		// A request already on its way when the limit is seen: its
		// answer, though fine, does not mean that access is back.
		early, err := th.Account("early", 0).Acquire(ctx, hostA)
		if err != nil {
			t.Fatal(err)
		}
		limited, err := th.Account("limited", 0).Acquire(ctx, hostA)
		if err != nil {
			t.Fatal(err)
		}
		limited.End(Outcome{AppLimited: true, RegainAccess: 10 * time.Minute})
		early.End(Outcome{})

		var mu sync.Mutex
		var granted []time.Duration
		var wg sync.WaitGroup
		for i := range 4 {
			a := th.Account(fmt.Sprint("other", i), 0)
			wg.Go(func() {
				turn, err := a.Acquire(ctx, hostA)
				if err != nil {
					return
				}
				mu.Lock()
				granted = append(granted, time.Since(start))
				// The first probe finds the limit still there (no
				// time given); the second gets through.
				o := Outcome{AppLimited: len(granted) == 1}
				mu.Unlock()
				turn.End(o)
			})
		}

		time.Sleep(5 * time.Minute)
		other := time.Now()
		turn, err := th.Account("vonage", 0).Acquire(ctx, hostB)
		if err != nil {
			t.Fatal(err)
		}
		turn.End(Outcome{})
		if waited := time.Since(other); waited != 0 {
			t.Errorf("a request to another host waited %s under the app limit of the first", waited)
		}
		wg.Wait()

		want := []time.Duration{10 * time.Minute, 11 * time.Minute, 11 * time.Minute, 11 * time.Minute}
		if !slices.Equal(granted, want) {
			t.Errorf("requests to the limited host went out at %v, want %v: none before the 10 minutes the API named, one probe then, one a minute later, and the rest once it got through", granted, want)
		}
	})
}

// TestHourlyCeilings: no sliding hour, wherever it starts, holds more
// requests than an account's ceiling or the process's, whatever the pace of
// the accounts, their number, and how many requests each has in flight; and
// the ceilings are not stricter than they say: with more demand, every hour
// is used to the full.
func TestHourlyCeilings(t *testing.T) {
	const run = 3*time.Hour - time.Minute // three hours of sends
	hold := func(int) time.Duration { return time.Second }
	tests := []struct {
		name      string
		process   int
		clients   []client
		wantTotal int // sends in the run
		wantEach  int // sends of each account in the run; 0: not checked
	}{
		{
			name:    "the process's ceiling, accounts at every pace",
			process: 100,
			clients: []client{
				{pause: 5 * time.Second}, {pause: 7 * time.Second}, {pause: 13 * time.Second}, {pause: 30 * time.Second},
				{pause: 45 * time.Second}, {pause: 60 * time.Second}, {pause: 90 * time.Second},
			},
			wantTotal: 300,
		},
		{
			name: "each account's ceiling, accounts at every pace",
			clients: []client{
				{ceiling: 20, pause: time.Second}, {ceiling: 20, pause: 10 * time.Second}, {ceiling: 20, pause: 30 * time.Second},
				{ceiling: 20, pause: 60 * time.Second}, {ceiling: 20, pause: 120 * time.Second},
			},
			wantTotal: 300, wantEach: 60,
		},
		{
			name:    "both, with requests in parallel",
			process: 25,
			clients: []client{
				{ceiling: 10, parallel: 4}, {ceiling: 10, parallel: 4}, {ceiling: 10, parallel: 4}, {ceiling: 3, parallel: 2},
			},
			wantTotal: 75,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), run)
				defer cancel()
				th := NewThrottle(ThrottleOptions{RequestsPerSecond: 10, Burst: 10, MaxConcurrent: 4, MaxPerHour: tt.process})
				s := newSends()
				var wg sync.WaitGroup
				for i, c := range tt.clients {
					c.account, c.url, c.hold = fmt.Sprint(i), hostA, hold
					wg.Go(func() { c.run(ctx, t, th, s) })
				}
				wg.Wait()

				all := s.all()
				if tt.process > 0 {
					if most := maxInWindow(all, time.Hour, false); most > tt.process {
						t.Errorf("%d requests within an hour, over the process's ceiling of %d", most, tt.process)
					}
				}
				for i, c := range tt.clients {
					at := s.of(fmt.Sprint(i))
					if c.ceiling > 0 {
						if most := maxInWindow(at, time.Hour, false); most > c.ceiling {
							t.Errorf("account %d: %d requests within an hour, over its ceiling of %d", i, most, c.ceiling)
						}
					}
					if tt.wantEach > 0 && len(at) != tt.wantEach {
						t.Errorf("account %d sent %d requests in %s, want %d", i, len(at), run, tt.wantEach)
					}
				}
				if len(all) != tt.wantTotal {
					t.Errorf("%d requests in %s, want %d", len(all), run, tt.wantTotal)
				}
				t.Logf("%d requests in %s; at most %d in any hour", len(all), run, maxInWindow(all, time.Hour, false))
			})
		})
	}
}
