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
	// the fake rate-limits it; 0 means no limit. A WABA's own
	// WABA.HourlyBudget takes precedence. Usage headers report the share
	// used either way (of a nominal 5,000 an hour where there is no limit).
	//
	// Meta limits the calls an app makes to the WhatsApp Business
	// Management API per WABA and hour: 200 by default, 5,000 for a WABA
	// with a registered phone number, and answers 80007 (or 80008, on the
	// edges whose references list it) past that; X-Business-Use-Case-Usage
	// reports the share used per WABA, with estimated_time_to_regain_access
	// in minutes
	// (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/;
	// the 200 and 5,000 as BSPs relay them, e.g.
	// https://dualhook.com/docs/capacity-quality-limits).
	HourlyBudget int
	// AppHourlyBudget, when set, is how many requests the app (all WABAs
	// and business listings of the Graph fake together) may make in an
	// hour: answers then carry X-App-Usage, and past the budget the fake
	// answers code 4, "Application request limit reached", Graph's
	// platform rate limit
	// (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/).
	AppHourlyBudget int
	// Businesses are the business portfolios of the Graph fake, which
	// list WABAs on their business edges (business.go).
	Businesses []Business
}

// budget is the share of an hourly budget used after a request.
type budget struct {
	percent   float64
	exhausted bool
	// regain is the minutes until a request would pass again.
	regain int
}

// core is what both fakes share: WABAs, faults, statistics, budget.
type core struct {
	mu     sync.Mutex
	wabas  map[string]*WABA
	faults map[string][]*Fault
	stats  map[string]*Stats
	totals totals
	calls  map[string][]time.Time
	app    appWindow
	opts   Options
	// businesses and their listing requests' statistics.
	businesses map[string]*Business
	listings   map[string]*Stats
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

		businesses: map[string]*Business{},
		listings:   map[string]*Stats{},
	}
	for _, b := range opts.Businesses {
		b = b.clone()
		c.businesses[b.ID] = &b
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

// record counts a request and returns the share of the WABA's hourly
// budget used, with it (c.mu held).
func (c *core) record(wabaID, op string, r *http.Request, credentialInURL bool) budget {
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
	limit := c.opts.HourlyBudget
	if a, ok := c.wabas[wabaID]; ok && a.HourlyBudget > 0 {
		limit = a.HourlyBudget
	}
	if limit <= 0 {
		return budget{percent: float64(len(calls)) / 50} // a nominal budget of 5,000 an hour
	}
	b := budget{percent: min(100*float64(len(calls))/float64(limit), 100), exhausted: len(calls) > limit}
	if b.exhausted {
		// A request passes again once no more than limit-1 calls are
		// left in the hour: when the call at len-limit leaves it.
		b.regain = minutesUntil(now, calls[len(calls)-limit].Add(time.Hour))
	}
	return b
}

// minutesUntil is the whole minutes from now to t, at least one.
func minutesUntil(now, t time.Time) int {
	return max(int((t.Sub(now)+time.Minute-1)/time.Minute), 1)
}

// appWindow counts the app's requests per minute over the last hour: a
// load test may send millions in an hour, too many to keep one by one.
type appWindow struct {
	minutes [60]struct {
		minute int64
		calls  int
	}
}

// record counts a request at now and returns the share of limit used.
func (w *appWindow) record(now time.Time, limit int) budget {
	minute := now.Unix() / 60
	slot := &w.minutes[minute%60]
	if slot.minute != minute {
		slot.minute, slot.calls = minute, 0
	}
	slot.calls++
	calls, oldest := 0, minute
	for _, m := range w.minutes {
		if m.minute > minute-60 && m.calls > 0 {
			calls += m.calls
			oldest = min(oldest, m.minute)
		}
	}
	b := budget{percent: min(100*float64(calls)/float64(limit), 100), exhausted: calls > limit}
	if b.exhausted {
		b.regain = minutesUntil(now, time.Unix((oldest+60)*60, 0))
	}
	return b
}

// page cuts items to the page that the cursor in "after" points at, and
// returns the cursor of the next page ("" on the last). Under an
// EndlessPages fault there is always a next page.
func page[T any](items []T, after string, size int, fault *Fault) ([]T, string) {
	from, to := pageRange(len(items), after, size)
	next := ""
	if to < len(items) {
		next = cursor(to)
	}
	if fault != nil && fault.Kind == EndlessPages {
		next = "endless"
	}
	return items[from:to], next
}

// pageRange is the range of n items that the cursor in "after" starts, of
// at most size items. A cursor is an offset, so an item added or removed
// between two pages moves the others by one, as with any offset.
func pageRange(n int, after string, size int) (from, to int) {
	if raw, err := base64.RawURLEncoding.DecodeString(after); err == nil {
		from, _ = strconv.Atoi(string(raw))
	}
	from = min(max(from, 0), n)
	return from, min(from+size, n)
}

// cursor is the cursor of the page that starts at offset.
func cursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset)))
}
