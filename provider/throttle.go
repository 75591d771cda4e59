package provider

import (
	"context"
	"sync"

	"golang.org/x/time/rate"
)

// Throttle holds all the API requests of the process to a rate and to a
// number in flight at once. It is shared by every WABA, so one busy account
// can slow the others down but never push the process past the API's budget.
//
// Waiting for the throttle is not part of a request's timeout: with thousands
// of WABAs queued behind a low rate, a request may wait longer than it is
// allowed to take once sent.
type Throttle struct {
	limiter *rate.Limiter
	slots   chan struct{}
}

// NewThrottle allows perSecond requests a second on average, burst of them at
// once after a quiet spell, and at most concurrent in flight. A nil *Throttle
// allows everything.
func NewThrottle(perSecond float64, burst, concurrent int) *Throttle {
	if burst < 1 {
		burst = 1
	}
	if concurrent < 1 {
		concurrent = 1
	}
	return &Throttle{
		limiter: rate.NewLimiter(rate.Limit(perSecond), burst),
		slots:   make(chan struct{}, concurrent),
	}
}

// Acquire waits for a turn and returns the function that ends it. It fails
// only when ctx ends first.
func (t *Throttle) Acquire(ctx context.Context) (release func(), err error) {
	if t == nil {
		return func() {}, nil
	}
	if err := t.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-t.slots }) }, nil
}
