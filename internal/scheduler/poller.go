package scheduler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// Backoff bounds. A transient failure (5xx, timeout) is retried sooner than
// the regular interval, starting at retryBase; a rate-limited account waits
// longer than its interval (twice it at first, doubling), up to the larger of
// maxRateLimitBackoff and twice its interval, or as long as the API asks,
// whichever is longer.
const (
	retryBase           = 15 * time.Second
	maxRateLimitBackoff = time.Hour
)

// poller refreshes one account. Only its own goroutine calls refresh; the
// snapshots it publishes are never changed afterwards.
type poller struct {
	account config.Account
	caps    provider.Capabilities
	// source is the account's client; a reload hands over a new one in
	// next, which the next refresh adopts.
	source     provider.Source
	connection [32]byte
	mu         sync.Mutex
	next       *Target
	// The scheduler's bookkeeping, guarded by its mutex: seq is the
	// account's place among those due at once, at when its next refresh
	// is due, index its place in the queue (-1 when not queued); known
	// says a refresh of it has ended, hanging that the last one's last
	// request got no answer; refreshing is closed when the refresh under
	// way ends, and cancel cancels it; woken asks for a refresh right
	// after it; removed says the account is gone.
	seq            uint64
	at             time.Time
	index          int
	known, hanging bool
	refreshing     chan struct{}
	cancel         func()
	woken          bool
	removed        bool
	pub            Publisher
	logger         log.Logger
	now            func() time.Time
	windows        bucket.Calculator
	tally          *tally

	// families holds the latest refresh of each family tried.
	families map[provider.Family]*analytics.Refresh
	// ledgers keeps the month-to-date sums of each family whose buckets
	// fit in UTC months.
	ledgers map[provider.Family]*ledger
	// name is the WABA's name where a business's listing gave it, and
	// listed says the listing gives the currency and time zone too.
	name   string
	listed bool
	// currency is what the WABA is billed in, and location its time zone
	// (nil: unknown, UTC), read again when the last read is a day old.
	currency string
	location *time.Location
	wabaRead time.Time
	// health is the account's health and when it was read (health.go).
	health healthState
	// When the API last refused to report cost, per family: asked for
	// again a day later.
	noCost map[provider.Family]time.Time
	// retry holds the families whose last refresh failed transiently:
	// until the next full refresh is due, at fullDue, a refresh retries
	// only those.
	retry   map[provider.Family]bool
	fullDue time.Time
	// dropping says whether the last snapshot dropped series past
	// max_series, to log when that starts and stops.
	dropping bool
	// The last error logged per concern (a family, its month so far, the
	// WABA's fields), so that a failure is logged when it starts or
	// changes, not on every attempt.
	lastErr map[string]string
	// Consecutive refreshes that were rate limited or failed transiently,
	// for the backoff.
	rateLimitedStreak, failureStreak int
	// versionState is what checkVersion last logged about the API version.
	versionState string
	// unavailable is what the API said it does not serve for the account.
	unavailable unavailability
	// inventory is the WABA's phone numbers and templates (inventory.go),
	// and templateSends which of them send through which product
	// (templates.go).
	inventory     inventory
	templateSends templateSends
	// solo holds the families kept out of shared requests, until when.
	solo map[provider.Family]time.Time
	// breakdowns is how many breakdowns each family's last recent answer
	// had, and backlogDays the days a backlog request of it asks for at
	// most after one ran into the page cap; both size the month so far's
	// requests.
	breakdowns  map[provider.Family]int
	backlogDays map[provider.Family]int
	// slowed says the account's own budget slows its refreshes down, as
	// last logged.
	slowed bool
	// halfHoursOnly asks for the month so far in the families' own
	// buckets, never in days: the tests compare the two.
	halfHoursOnly bool
}

func newPoller(t Target, pub Publisher, logger log.Logger, now func() time.Time) *poller {
	p := &poller{
		account:     t.Account,
		caps:        t.Account.Capabilities(),
		source:      t.Source,
		connection:  t.connection,
		index:       -1,
		pub:         pub,
		logger:      log.With(logger, "waba_id", t.Account.WABAID),
		now:         now,
		windows:     bucket.Calculator{Now: now},
		tally:       newTally(t.Account.WABAID),
		families:    map[provider.Family]*analytics.Refresh{},
		ledgers:     map[provider.Family]*ledger{},
		noCost:      map[provider.Family]time.Time{},
		lastErr:     map[string]string{},
		solo:        map[provider.Family]time.Time{},
		breakdowns:  map[provider.Family]int{},
		backlogDays: map[provider.Family]int{},
	}
	p.learn(t.Discovered)
	for _, f := range provider.Families {
		// A month-to-date sum needs buckets that start and end within
		// UTC months: half hours always, days and months where they are
		// UTC's (templates; Vonage), not where they begin at the WABA's
		// local midnight.
		if spec := t.Account.Spec(f); spec.Granularity == provider.HalfHour || !spec.Zoned {
			p.ledgers[f] = newLedger(spec.Granularity)
		}
	}
	p.publish()
	return p
}

// refresh fetches every enabled family of the account, publishing as each
// is in, and returns how long to wait before the next refresh. A failed
// family keeps serving its last good values.
//
// A refresh first reads what the analytics requests depend on, when it is
// due: the WABA's own fields (daily), its health and with it its phone
// numbers and templates (every 15 minutes), or those lists alone (hourly).
// Then every family's recent buckets, in as few requests as the API takes
// (one for all the families where it takes several fields at once), which
// give the gauges; then what the month-to-date counters still lack.
func (p *poller) refresh(ctx context.Context) time.Duration {
	p.adopt()
	r := newRound()
	p.tally.startRefresh()
	p.readWABA(ctx)
	// A transient failure of one family is retried alone, sooner than the
	// interval; the others wait for the next full refresh.
	full := len(p.retry) == 0 || !p.now().Before(p.fullDue)
	p.readHealth(ctx, r)
	p.listInventory(ctx, r)
	if ctx.Err() != nil {
		return 0 // shutting down: keep the last snapshot as it is
	}
	plans := p.plan(r, full)
	p.fetchRecent(ctx, r, plans)
	if ctx.Err() != nil {
		return 0
	}
	// The month so far comes second: its failure costs neither the newest
	// buckets nor what of the month was fetched, but it slows the account
	// down as any failure does.
	p.fetchBacklogs(ctx, r, plans)
	if ctx.Err() != nil {
		return 0
	}
	p.tally.endRefresh(full)
	p.checkVersion()
	p.publish()
	return p.nextDelay(r, full)
}

// plan lists the families this refresh fetches, and marks those it holds
// back: while the API says to slow down, asking for more would only dig
// the hole deeper; a family the API said it does not serve waits a day.
func (p *poller) plan(r *round, full bool) []*familyPlan {
	var plans []*familyPlan
	for _, f := range provider.Families {
		if !p.account.Family(f).IsEnabled() || !full && !p.retry[f] {
			continue
		}
		next := p.nextRefresh(f)
		if err := p.hold(r); err != nil {
			// Not asked, for the reason the refresh met: retried as
			// soon as that would be.
			next.Success = false
			p.families[f] = next
			r.note(f, err)
			continue
		}
		if p.skipUnavailable(f, next) {
			p.families[f] = next
			continue
		}
		p.families[f] = next
		cells, err := p.cells(f)
		fp := p.planFamily(f)
		fp.cells, fp.started = cells, time.Now()
		if err != nil {
			p.finishRecent(r, fp, err)
			continue
		}
		plans = append(plans, fp)
	}
	return plans
}

// nextRefresh is family f's refresh to fill in: a copy of the last one,
// whose data a failure keeps.
func (p *poller) nextRefresh(f provider.Family) *analytics.Refresh {
	next := &analytics.Refresh{}
	if prev := p.families[f]; prev != nil {
		*next = *prev
	}
	return next
}

// fetchRecent fetches every planned family's recent segment: the families
// that can share a request in one, then the other cells of split families
// and the families that cannot, one by one, publishing each family as it
// is in.
func (p *poller) fetchRecent(ctx context.Context, r *round, plans []*familyPlan) {
	parts := make([]*part, len(plans))
	for i, fp := range plans {
		parts[i] = &part{fp: fp, c: bucket.Chunks(fp.recent.from, fp.recent.to, fp.recent.spec, 0)[0]}
	}
	finished := map[*part]bool{}
	p.shareParts(ctx, r, parts, func(pt *part) {
		// A family answered whole by the shared request is published
		// at once, before the pages of the others.
		if len(pt.fp.cells) == 1 && !shorterMayDo(pt.err) {
			pt.fp.samples = pt.samples
			p.finishRecent(r, pt.fp, pt.err)
			finished[pt] = true
		}
	})
	defer p.settleSolo(parts)
	for _, pt := range parts {
		if finished[pt] {
			continue
		}
		fp := pt.fp
		cells := fp.cells
		if pt.done {
			cells = cells[1:]
		}
		if pt.err == nil && len(cells) > 0 {
			var samples []sample
			if pt.err = p.hold(r); pt.err == nil {
				samples, pt.err = p.fetch(ctx, fp, pt.c, cells)
				r.note(fp.f, pt.err)
			}
			pt.samples = append(pt.samples, samples...)
		}
		if shorterMayDo(pt.err) && fp.recent.from.Before(fp.recentFrom) && p.hold(r) == nil {
			// The request reached back over the month so far too, and
			// failed: the gauges need not wait for that part, which the
			// backlog asks for in shorter ranges.
			fp.recent.from = fp.recentFrom
			pt.c = bucket.Chunks(fp.recent.from, fp.recent.to, fp.recent.spec, 0)[0]
			pt.samples, pt.err = p.fetch(ctx, fp, pt.c, fp.cells)
			if pt.err == nil {
				delete(r.transient, fp.f) // the first try's failure passed
			}
			r.note(fp.f, pt.err)
		}
		if ctx.Err() != nil {
			return
		}
		fp.samples = pt.samples
		p.finishRecent(r, fp, pt.err)
	}
}

// finishRecent records family fp's recent fetch: its newest bucket, and the
// buckets its month-to-date sums keep; or its failure.
func (p *poller) finishRecent(r *round, fp *familyPlan, err error) {
	f := fp.f
	next := p.nextRefresh(f)
	next.Duration = time.Since(fp.started)
	fp.err = err
	if err != nil {
		next.Success = false
		if !p.markUnavailable(f, next, err) {
			if !errors.Is(err, errNotAsked) {
				p.logFailure(string(f), "Refresh failed; serving the last good values", f, err)
			}
			r.note(f, err)
			var apiErr *provider.APIError
			if errors.As(err, &apiErr) {
				r.transient[f] = r.transient[f] || apiErr.Transient
			}
		}
	} else {
		next.Success = true
		// Read the clock again: in a large fleet's first round the
		// fetch may have queued for the throttle a long while, and a
		// stale time would make fresh data look old to the alerts.
		next.LastSuccess = p.now()
		newest := newestBucket(fp.samples, fp.span)
		next.BucketStart, next.BucketEnd, next.Values = newest.start, newest.end, newest.values
		p.logRecovery(string(f), f)
		p.countBreakdowns(f, fp.samples)
		if l := fp.l; l != nil {
			l.absorb(fp.samples, fp.recent.from, fp.span.Cutoff, fp.recent.spec)
			l.fetched = fp.span.Cutoff
			l.fill(fp.recent.from, fp.span.Cutoff)
			if len(l.gaps) == 0 {
				// Nothing of the month is missing: the counters move with
				// the gauges, in the same snapshot, so that no scrape sees
				// a newer bucket in one than in the other.
				l.settle(fp.recentFrom)
				l.complete = true
				next.MonthToDate = l.monthToDate()
			}
		}
	}
	fp.samples = nil
	p.families[f] = next
	p.publish()
}

// fetchBacklogs fetches what of the month the families' counters still
// lack, oldest first within a family and the families side by side, each
// range kept as soon as it is in, so that a failure midway loses nothing and
// the next refresh goes on from there. Nothing is asked for while the API
// says to slow down. Each family's month-to-date sums are then published,
// once complete.
func (p *poller) fetchBacklogs(ctx context.Context, r *round, plans []*familyPlan) {
	var pending []*familyPlan
	for _, fp := range plans {
		if fp.l != nil && fp.err == nil {
			p.planBacklog(fp)
			pending = append(pending, fp)
		}
	}
	backlogErr := map[provider.Family]error{}
	stopped := map[provider.Family]bool{}
	for k := 0; ; k++ {
		var parts []*part
		for _, fp := range pending {
			if k < len(fp.backlog) && !stopped[fp.f] {
				parts = append(parts, &part{fp: fp, c: fp.backlog[k], spec: fp.backlogSpec[k]})
			}
		}
		if len(parts) == 0 {
			break
		}
		if err := p.hold(r); err != nil || p.tally.pressure() >= catchUpUnder {
			break // the counters wait: no failure of their own
		}
		started := time.Now()
		p.shareParts(ctx, r, parts, nil)
		defer p.settleSolo(parts)
		for _, pt := range parts {
			if !pt.done && pt.err == nil {
				if pt.err = p.hold(r); pt.err == nil {
					pt.samples, pt.err = p.fetch(ctx, pt.fp, pt.c, pt.fp.cells)
					r.note(pt.fp.f, pt.err)
				}
			}
			if ctx.Err() != nil {
				return
			}
			fp := pt.fp
			p.addDuration(fp.f, time.Since(started))
			if errors.Is(pt.err, errNotAsked) {
				// The counters wait for a refresh the API lets through;
				// nothing failed of their own.
				backlogErr[fp.f] = nil
				stopped[fp.f] = true
				continue
			}
			if pt.err != nil {
				backlogErr[fp.f] = fmt.Errorf("fetch the buckets from %s: %w", pt.c.From.Format(time.RFC3339), pt.err)
				stopped[fp.f] = true
				p.shortenBacklog(fp, pt)
				continue
			}
			fp.l.absorb(pt.samples, pt.c.From, fp.span.Cutoff, pt.spec)
			fp.l.fill(pt.c.From, pt.c.To)
		}
	}
	for _, fp := range pending {
		l := fp.l
		l.settle(fp.recentFrom)
		if len(l.gaps) == 0 {
			l.complete = true
		}
		next := p.nextRefresh(fp.f)
		next.MonthToDate = l.monthToDate()
		p.families[fp.f] = next
		key := string(fp.f) + " month so far"
		if err := backlogErr[fp.f]; err != nil {
			p.logFailure(key, "Fetching the month so far failed; its counters wait for it", fp.f, err)
			r.note(fp.f, err)
		} else {
			p.logRecovery(key, fp.f)
		}
		p.publish()
	}
}

// shortenBacklog halves the days of fp's backlog requests after one ran
// into the page cap: the family has more breakdowns than its recent answer
// showed. The next refresh asks for shorter ranges; nothing is asked again
// in this one.
func (p *poller) shortenBacklog(fp *familyPlan, pt *part) {
	var apiErr *provider.APIError
	if !errors.As(pt.err, &apiErr) || apiErr.Code != provider.CodeTooManyPages || pt.spec.Granularity != provider.Day {
		return
	}
	days := int(pt.c.To.Sub(pt.c.From).Hours() / 24)
	p.backlogDays[fp.f] = max(days/2, 1)
}

// addDuration adds to the duration of family f's latest refresh.
func (p *poller) addDuration(f provider.Family, d time.Duration) {
	next := p.nextRefresh(f)
	next.Duration += d
	p.families[f] = next
}

// trusted says the account's last refresh got answers.
func (p *poller) trusted() bool { return p.known && !p.hanging }

// use hands the poller the client a reload built for it, and reports
// whether what the client was built from changed: a rotated token should
// take effect now.
func (p *poller) use(t Target) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	changed := t.connection != p.connection
	p.next = &t
	return changed
}

// adopt switches to the client a reload handed over, between refreshes.
func (p *poller) adopt() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next != nil {
		p.source, p.connection = p.next.Source, p.next.connection
		p.learn(p.next.Discovered)
		p.next = nil
	}
}

// learn takes what a business's listing says of the WABA: its name, and
// its currency and time zone, which it then need not read itself, unless
// the listing left one out (a BSP that does not forward the field).
func (p *poller) learn(d *provider.DiscoveredWABA) {
	if d == nil {
		return
	}
	p.name = clean(d.Name)
	if p.caps.Cost {
		p.currency = clean(d.Currency)
	}
	if d.Location != nil {
		p.location = d.Location
	}
	p.listed = d.Complete
}

// publish hands the collector a new snapshot of the account.
func (p *poller) publish() {
	requests, errs, usage := p.tally.counts()
	// Account health counts first: a WABA with thousands of templates
	// spends its max_series on their states before its analytics.
	health, healthDropped := limitHealth(p.health.current, p.account.MaxSeries)
	families, dropped := limitSeries(p.families, max(p.account.MaxSeries-health.Series(), 0))
	if healthDropped > 0 {
		if dropped == nil {
			dropped = map[provider.Family]int{}
		}
		dropped[analytics.HealthFamily] = healthDropped
	}
	p.logDropped(dropped, p.account.MaxSeries)
	p.pub.Publish(&analytics.Snapshot{
		WABAID:        p.account.WABAID,
		Name:          cmp.Or(p.account.Name, p.name),
		Provider:      p.account.Provider,
		Families:      maps.Clone(families),
		Usage:         usage,
		Requests:      requests,
		Errors:        errs,
		Currency:      p.currency,
		MaxDataAge:    p.account.MaxDataAge,
		DroppedSeries: dropped,
		Health:        health,
		APIVersion:    p.apiVersion(),
	})
}

// readWABA reads the WABA's own fields once a day: its currency, the cost
// series' unit, and its time zone, where its day and month buckets begin. A
// failure fails no family: the currency stays unknown (empty), the days UTC's,
// until the next day's read (a BSP may not forward the fields at all).
func (p *poller) readWABA(ctx context.Context) {
	if !p.caps.WABAFields || p.listed || (!p.wabaRead.IsZero() && p.now().Sub(p.wabaRead) < 24*time.Hour) {
		return
	}
	waba, err := p.source.WABA(provider.WithObserver(ctx, observer{t: p.tally, family: analytics.AccountFamily}), p.account.WABAID)
	if ctx.Err() != nil {
		return
	}
	p.wabaRead = p.now()
	if err != nil {
		p.logFailure(string(analytics.AccountFamily), "Reading the WABA's currency and time zone failed; costs carry no currency label, days are UTC's until a day later", analytics.AccountFamily, err)
		return
	}
	p.logRecovery(string(analytics.AccountFamily), analytics.AccountFamily)
	if p.caps.Cost {
		p.currency = clean(waba.Currency)
	}
	if waba.Location != nil && waba.Location != p.location {
		level.Info(p.logger).Log("msg", "The WABA's days begin at midnight in its time zone", "time_zone", waba.Location)
	}
	p.location = waba.Location
}

// spec is what a refresh of family f asks for: in the WABA's time zone
// where the family's days begin at its local midnight.
func (p *poller) spec(f provider.Family) bucket.Spec {
	s := p.account.Spec(f)
	if s.Zoned {
		s.Location = p.location
	}
	return s
}

// nextDelay is the wait before the next refresh. throttledFor is what the
// usage headers asked for: a budget at its limit is backed off like a
// rate-limit error, even when the requests themselves succeeded. A
// transient failure of some families is retried sooner than the interval,
// for those families only, while the next full refresh stays due at its
// time.
func (p *poller) nextDelay(r *round, full bool) time.Duration {
	rateLimited, throttledFor, transient := r.rateLimited, p.tally.throttledFor(), r.transient
	interval := p.account.Interval
	now := p.now()
	if full {
		p.fullDue = now.Add(jitter(interval))
	}
	failed := map[provider.Family]bool{}
	for f, t := range transient {
		// Only analytics families are retried alone; the requests of
		// the rest (health, the lists) come with the next full refresh.
		if t && slices.Contains(provider.Families, f) {
			failed[f] = true
		}
	}
	switch {
	case rateLimited != nil || throttledFor > 0:
		p.failureStreak, p.retry = 0, nil
		p.rateLimitedStreak++
		// The first rate limit already waits twice the interval: waiting
		// one interval would be the regular schedule, not a backoff.
		d := backoff(2*interval, p.rateLimitedStreak, max(maxRateLimitBackoff, 2*interval))
		upstream := throttledFor
		if rateLimited != nil {
			upstream = max(upstream, rateLimited.RetryAfter)
		}
		d = max(d, min(upstream, provider.MaxUpstreamWait))
		p.fullDue = now.Add(d)
		return d
	case len(failed) > 0:
		p.rateLimitedStreak = 0
		p.failureStreak++
		p.retry = failed
		return backoff(min(retryBase, interval), p.failureStreak, interval)
	default:
		p.rateLimitedStreak, p.failureStreak, p.retry = 0, 0, nil
		if stretch := slowDown(p.tally.pressure()); stretch > 1 {
			d := min(time.Duration(float64(interval)*stretch), max(maxRateLimitBackoff, 2*interval))
			p.fullDue = now.Add(d)
			p.logPressure(true, d)
			return d
		}
		p.logPressure(false, 0)
		return max(p.fullDue.Sub(now), 0)
	}
}

// The account's own budget (Graph's X-Business-Use-Case-Usage, keyed by the
// WABA: Meta counts every call against a budget per app and WABA,
// https://developers.facebook.com/docs/graph-api/overview/rate-limiting/)
// slows its refreshes down before it runs out: past half of it used, the
// interval stretches by used/left (3 times at 75%, 9 at 90%), so that the
// rest of the budget lasts while the oldest calls leave the hour; the pause
// until Graph's estimated_time_to_regain_access takes over at the limit.
// Above catchUpUnder percent the month so far waits: the gauges come first.
const catchUpUnder = 90.0

// slowDown is how many intervals to wait at pressure percent of the budget.
func slowDown(pressure float64) float64 {
	used := min(pressure, 99)
	return max(1, used/(100-used))
}

// logPressure logs when the account starts and stops being slowed down
// by its budget.
func (p *poller) logPressure(slowed bool, d time.Duration) {
	if slowed == p.slowed {
		return
	}
	p.slowed = slowed
	if slowed {
		level.Warn(p.logger).Log("msg", "The API says this WABA nears its own rate limit; refreshing it less often until it recovers", "usage_percent", p.tally.pressure(), "next_refresh_in", d.Round(time.Second))
		return
	}
	level.Info(p.logger).Log("msg", "The WABA's rate-limit usage is down again; back to its interval")
}

// backoff doubles base for every failure after the first, up to limit.
func backoff(base time.Duration, failures int, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// logFailure logs a failure when it starts or changes, and only at debug
// level while it repeats: a WABA whose token expired must not flood the log
// every interval. key names what failed.
func (p *poller) logFailure(key, msg string, f provider.Family, err error) {
	code := "error"
	var apiErr *provider.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.Code
	}
	logger := level.Warn(p.logger)
	if p.lastErr[key] == code {
		logger = level.Debug(p.logger)
	}
	logger.Log("msg", msg, "family", f, "err", err)
	p.lastErr[key] = code
}

func (p *poller) logRecovery(key string, f provider.Family) {
	if _, failed := p.lastErr[key]; failed {
		level.Info(p.logger).Log("msg", "Refresh recovered", "family", f, "of", key)
		delete(p.lastErr, key)
	}
}
