package fakeapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Options tune a fake API.
type Options struct {
	// Now is the fake's clock: it decides which buckets are complete.
	Now func() time.Time
	// PageSize is how many data points (or edge items) a page holds;
	// 0 means 500.
	PageSize int
	// HourlyBudget is how many requests a WABA may make in an hour before
	// the fake rate-limits it; 0 means no limit. Usage headers report the
	// share used either way.
	HourlyBudget int
}

// core is what both fakes share: WABAs, faults, statistics, budget.
type core struct {
	mu     sync.Mutex
	wabas  map[string]*WABA
	faults map[string][]*Fault
	stats  map[string]*Stats
	totals totals
	calls  map[string][]time.Time
	opts   Options
}

func newCore(wabas []WABA, opts Options) *core {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 500
	}
	c := &core{
		wabas:  map[string]*WABA{},
		faults: map[string][]*Fault{},
		stats:  map[string]*Stats{},
		totals: newTotals(),
		calls:  map[string][]time.Time{},
		opts:   opts,
	}
	for i := range wabas {
		a := wabas[i]
		a.m = nil
		c.wabas[a.WABAID] = &a
	}
	return c
}

// held returns a copy of a WABA for one request, with its model prepared
// once for all requests (c.mu held). The copy shares the model and the
// slices, which nothing changes in place: Update gives the WABA new ones.
func (c *core) held(wabaID string) (WABA, bool) {
	a, ok := c.wabas[wabaID]
	if !ok {
		return WABA{}, false
	}
	if a.m == nil {
		a.m = newModel(a)
	}
	return *a, true
}

// SetToken changes the credential the fake accepts for a WABA, as a
// rotation does: the old one fails from now on.
func (c *core) SetToken(wabaID, token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.wabas[wabaID]; ok {
		a.Token = token
	}
}

// SetPartnerBilled says whether a WABA is billed through a partner, which
// makes the Graph fake refuse it cost.
func (c *core) SetPartnerBilled(wabaID string, partner bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.wabas[wabaID]; ok {
		a.PartnerBilled = partner
	}
}

// SetDeliveryDrop starts (or, with a zero time, ends) a simulated delivery
// incident on a WABA: from `from` on, only `rate` of its messages arrive.
func (c *core) SetDeliveryDrop(wabaID string, from time.Time, rate float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.wabas[wabaID]; ok {
		a.DropFrom, a.DroppedRate = from, rate
		a.m = nil
	}
}

// record counts a request and returns the share of the hourly budget used,
// in percent, and whether the budget is exhausted.
func (c *core) record(wabaID, op string, r *http.Request, credentialInURL bool) (usedPercent float64, exhausted bool) {
	s, ok := c.stats[wabaID]
	if !ok {
		s = newStats()
		c.stats[wabaID] = s
	}
	s.count(op, r.Host)
	c.totals.count(op, r.Host, false)
	if credentialInURL {
		s.CredentialsInURL++
	}
	now := c.opts.Now()
	calls := c.calls[wabaID]
	for len(calls) > 0 && now.Sub(calls[0]) > time.Hour {
		calls = calls[1:]
	}
	calls = append(calls, now)
	c.calls[wabaID] = calls
	if c.opts.HourlyBudget <= 0 {
		return float64(len(calls)) / 50, false // a nominal budget of 5,000 an hour
	}
	used := 100 * float64(len(calls)) / float64(c.opts.HourlyBudget)
	return min(used, 100), len(calls) > c.opts.HourlyBudget
}

// page cuts items to the page that the cursor in "after" points at, and
// returns the cursor of the next page ("" on the last). Under an
// EndlessPages fault there is always a next page.
func page[T any](items []T, after string, size int, fault *Fault) ([]T, string) {
	offset := 0
	if raw, err := base64.RawURLEncoding.DecodeString(after); err == nil {
		offset, _ = strconv.Atoi(string(raw))
	}
	offset = min(max(offset, 0), len(items))
	end := min(offset+size, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	if fault != nil && fault.Kind == EndlessPages {
		next = "endless"
	}
	return items[offset:end], next
}
