package provider

import (
	"context"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// DefaultAppLimitWait is how long every request to an API host waits after
// an answer says the app's own budget there is spent, when the answer does
// not say for how long; while the limit holds, one request goes out per such
// wait to find out whether it still does.
const DefaultAppLimitWait = 5 * time.Minute

// ThrottleOptions are the process-wide limits of a Throttle.
type ThrottleOptions struct {
	// RequestsPerSecond and Burst pace the requests of the whole process,
	// all hosts together.
	RequestsPerSecond float64
	Burst             int
	// MaxConcurrent is the number of requests in flight at once to one
	// API host (scheme and host of the URL): each host has its own slots.
	MaxConcurrent int
	// MaxPerHour is the most requests the process sends in any hour;
	// 0 sets no ceiling.
	MaxPerHour int
	// MaxBytesInFlight bounds the response bytes held at once by all
	// requests together, from reading a body until its caller is done
	// with it; 0 sets no bound.
	MaxBytesInFlight int64
	// AppLimitWait replaces DefaultAppLimitWait when positive.
	AppLimitWait time.Duration
}

// Throttle holds the API requests of the whole process to a pace, a number
// in flight per API host, hourly ceilings and a bound on the response bytes
// held. Every account takes its turns through its own AccountThrottle, so
// that no account can take more than its share.
//
// A request takes its turn in this order, each step waited for in turn:
//
//  1. the account's hourly ceiling, without holding anything: an account at
//     its ceiling may wait most of an hour, and keeps nothing from the others
//     meanwhile;
//  2. a slot of the host's pool (see pool for who gets a free slot);
//  3. holding the slot: the host's app-wide limit, the process's hourly
//     ceiling, and a token of the rate limiter. The token comes last, and is
//     taken only by a request that holds a slot, so that a request goes out
//     the moment its token is due: requests that waited for slots cannot
//     have banked tokens and leave together once slots free up.
//
// Waiting for the throttle is not part of a request's timeout: with thousands
// of WABAs queued behind a low rate, a request may wait longer than it is
// allowed to take once sent.
//
// The throttle reads the time package's clock; its tests run it in a
// testing/synctest bubble, where that clock is virtual.
type Throttle struct {
	limiter      *rate.Limiter
	bytes        *semaphore.Weighted
	bytesMax     int64
	slots        int
	appLimitWait time.Duration

	mu     sync.Mutex
	pools  map[string]*pool
	hourly *window // the process's requests; nil without a ceiling
}

// NewThrottle returns a throttle with the limits of opts. A nil *Throttle,
// and the nil *AccountThrottle it hands out, allow everything.
func NewThrottle(opts ThrottleOptions) *Throttle {
	t := &Throttle{
		limiter:      rate.NewLimiter(rate.Limit(opts.RequestsPerSecond), max(opts.Burst, 1)),
		slots:        max(opts.MaxConcurrent, 1),
		appLimitWait: opts.AppLimitWait,
		pools:        map[string]*pool{},
		hourly:       newWindow(opts.MaxPerHour),
	}
	if t.appLimitWait <= 0 {
		t.appLimitWait = DefaultAppLimitWait
	}
	if opts.MaxBytesInFlight > 0 {
		t.bytes, t.bytesMax = semaphore.NewWeighted(opts.MaxBytesInFlight), opts.MaxBytesInFlight
	}
	return t
}

// Account returns the throttle of one account, key naming it (its WABA ID).
// maxPerHour is the most requests the account sends in any hour; 0 sets no
// ceiling. Build one per account, once: two with the same key keep two
// ceilings.
func (t *Throttle) Account(key string, maxPerHour int) *AccountThrottle {
	if t == nil {
		return nil
	}
	return &AccountThrottle{t: t, key: key, hourly: newWindow(maxPerHour)}
}

// AccountThrottle is one account's way through the shared Throttle.
type AccountThrottle struct {
	t      *Throttle
	key    string
	hourly *window // guarded by t.mu; nil without a ceiling
}

// Turn is one request's permission to go out. End it exactly once, with
// what came back; a nil Turn (from a nil AccountThrottle) ends as a no-op.
type Turn struct {
	a         *AccountThrottle
	p         *pool
	untrusted bool   // the account was not trusted when it took the slot
	seq       uint64 // the request's number among those sent to the host
	once      sync.Once
}

// Outcome is what a request met, as far as the throttle cares.
type Outcome struct {
	// NoAnswer: no response came (a timeout, a refused connection). The
	// account then counts as hanging on the host, and is not trusted with
	// more slots, until one of its requests gets an answer again.
	NoAnswer bool
	// AppLimited: the answer says the app's budget on this host is spent,
	// for every account that uses the app; RegainAccess is how long until
	// it returns, when the answer says so.
	AppLimited   bool
	RegainAccess time.Duration
}

// Acquire waits for the request to u to take its turn, and fails only when
// ctx ends first.
func (a *AccountThrottle) Acquire(ctx context.Context, u *url.URL) (*Turn, error) {
	if a == nil {
		return nil, nil
	}
	t := a.t
	p := t.pool(u)
	for {
		if err := t.waitAccountCeiling(ctx, a); err != nil {
			return nil, err
		}
		untrusted, err := p.take(ctx, &t.mu, a.key)
		if err != nil {
			return nil, err
		}
		seq, err := t.clear(ctx, a, p)
		if err == nil && seq > 0 {
			return &Turn{a: a, p: p, untrusted: untrusted, seq: seq}, nil
		}
		t.mu.Lock()
		p.give(a.key, untrusted)
		t.mu.Unlock()
		if err != nil {
			return nil, err
		}
		// Another request of the account took the last of its hour
		// meanwhile: wait for the ceiling again, without the slot.
	}
}

// End ends the turn: it frees the slot and records what the request met.
func (tn *Turn) End(o Outcome) {
	if tn == nil {
		return
	}
	tn.once.Do(func() {
		t := tn.a.t
		t.mu.Lock()
		defer t.mu.Unlock()
		tn.p.answered(tn.a.key, o, tn.seq, time.Now(), t.appLimitWait)
		tn.p.give(tn.a.key, tn.untrusted)
	})
}

// Bytes returns a hold on response bytes for one body, empty at first.
func (a *AccountThrottle) Bytes() *BytesHold {
	if a == nil || a.t.bytes == nil {
		return nil
	}
	return &BytesHold{t: a.t}
}

// BytesHold is the share of the bound on bytes in flight that one response
// holds. A nil *BytesHold holds nothing and never waits.
type BytesHold struct {
	t    *Throttle
	held int64
}

// Grow waits until the hold covers total bytes, or the whole bound if that is
// less: one body at a time may be as large as the bound allows.
func (h *BytesHold) Grow(ctx context.Context, total int64) error {
	if h == nil {
		return nil
	}
	total = min(total, h.t.bytesMax)
	if total <= h.held {
		return nil
	}
	if err := h.t.bytes.Acquire(ctx, total-h.held); err != nil {
		return err
	}
	h.held = total
	return nil
}

// Shrink lets go of what the hold covers beyond total bytes.
func (h *BytesHold) Shrink(total int64) {
	if h == nil || total >= h.held {
		return
	}
	h.t.bytes.Release(h.held - max(total, 0))
	h.held = max(total, 0)
}

// Release lets go of every byte held; the hold may grow again afterwards.
func (h *BytesHold) Release() { h.Shrink(0) }

func (t *Throttle) pool(u *url.URL) *pool {
	key := u.Scheme + "://" + u.Host
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.pools[key]
	if !ok {
		p = newPool(t.slots)
		t.pools[key] = p
	}
	return p
}

// waitAccountCeiling waits until the account's hourly ceiling has room.
func (t *Throttle) waitAccountCeiling(ctx context.Context, a *AccountThrottle) error {
	for {
		t.mu.Lock()
		now := time.Now()
		next := a.hourly.next(now)
		t.mu.Unlock()
		if !next.After(now) {
			return nil
		}
		if err := sleepUntil(ctx, next.Sub(now), nil); err != nil {
			return err
		}
	}
}

// clear waits, holding a slot of p, until the request may go, and records it
// as sent. It returns the request's number on the host, or 0 when the
// account's own ceiling has filled up meanwhile and the slot should be given
// back.
func (t *Throttle) clear(ctx context.Context, a *AccountThrottle, p *pool) (uint64, error) {
	var token *rate.Reservation
	// A token is good only at its own time: one kept across a longer wait
	// would let its request go out together with later ones.
	dropToken := func(now time.Time) {
		if token != nil {
			token.CancelAt(now)
			token = nil
		}
	}
	// probing: this request is the one that finds out whether the app's
	// budget on the host is back.
	probing := false
	for {
		t.mu.Lock()
		now := time.Now()
		var until time.Time
		var wake <-chan struct{}
		switch {
		case p.limited && !probing && now.Before(p.probeAt):
			dropToken(now)
			until, wake = p.probeAt, p.wake
		case a.hourly.next(now).After(now):
			dropToken(now)
			t.mu.Unlock()
			return 0, nil
		case t.hourly.next(now).After(now):
			dropToken(now)
			until = t.hourly.next(now)
		default:
			if p.limited && !probing {
				// Claimed before the token is due, so that no other
				// request probes meanwhile; the next probe waits.
				probing = true
				p.probeAt = now.Add(t.appLimitWait)
			}
			if token == nil {
				token = t.limiter.ReserveN(now, 1)
			}
			if d := token.DelayFrom(now); d > 0 {
				until = now.Add(d)
				break
			}
			a.hourly.add(now)
			t.hourly.add(now)
			p.sent++
			seq := p.sent
			t.mu.Unlock()
			return seq, nil
		}
		t.mu.Unlock()
		if err := sleepUntil(ctx, until.Sub(now), wake); err != nil {
			t.mu.Lock()
			dropToken(time.Now())
			t.mu.Unlock()
			return 0, err
		}
	}
}

// sleepUntil waits for d to pass, wake to close, or ctx to end; only the
// last is an error.
func sleepUntil(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
