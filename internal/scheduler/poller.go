package scheduler

import (
	"context"
	"errors"
	"maps"
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
	// wake makes the loop refresh now; stop ends it, and done is closed
	// once it has ended. The scheduler owns them.
	wake    chan struct{}
	stop    func()
	done    chan struct{}
	pub     Publisher
	logger  log.Logger
	now     func() time.Time
	windows bucket.Calculator
	tally   *tally

	// families holds the latest refresh of each family tried.
	families map[provider.Family]*analytics.Refresh
	// ledgers keeps the month-to-date sums of each family whose buckets
	// fit in UTC months.
	ledgers map[provider.Family]*ledger
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
}

func newPoller(t Target, pub Publisher, logger log.Logger, now func() time.Time) *poller {
	p := &poller{
		account:    t.Account,
		caps:       t.Account.Capabilities(),
		source:     t.Source,
		connection: t.connection,
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		pub:        pub,
		logger:     log.With(logger, "waba_id", t.Account.WABAID),
		now:        now,
		windows:    bucket.Calculator{Now: now},
		tally:      newTally(),
		families:   map[provider.Family]*analytics.Refresh{},
		ledgers:    map[provider.Family]*ledger{},
		noCost:     map[provider.Family]time.Time{},
		lastErr:    map[string]string{},
	}
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

// refresh fetches every enabled family of the account, publishing after each
// one, and returns how long to wait before the next refresh. A failed family
// keeps serving its last good values.
func (p *poller) refresh(ctx context.Context) time.Duration {
	p.adopt()
	var rateLimited *provider.APIError
	transient := map[provider.Family]bool{}
	p.tally.startRefresh()
	p.readWABA(ctx)
	// A transient failure of one family is retried alone, sooner than the
	// interval; the others wait for the next full refresh.
	full := len(p.retry) == 0 || !p.now().Before(p.fullDue)

	pendings := map[provider.Family]*pending{}
	for _, f := range provider.Families {
		if !p.account.Family(f).IsEnabled() || !full && !p.retry[f] {
			continue
		}
		next := &analytics.Refresh{}
		if prev := p.families[f]; prev != nil {
			*next = *prev
		}
		if rateLimited != nil || p.tally.throttledFor() > 0 {
			// The API told us to slow down, by an error or by its usage
			// headers; asking for the other families now would only dig
			// the hole deeper.
			next.Success = false
			p.families[f] = next
			continue
		}
		if p.skipUnavailable(f, next) {
			p.families[f] = next
			continue
		}
		started := time.Now()
		newest, pd, err := p.fetchRecent(ctx, f)
		next.Duration = time.Since(started)
		if ctx.Err() != nil {
			return 0 // shutting down: keep the last snapshot as it is
		}
		if err != nil {
			next.Success = false
			if !p.markUnavailable(f, next, err) {
				p.logFailure(string(f), "Refresh failed; serving the last good values", f, err)
				rateLimited, transient[f] = classify(err, rateLimited, false)
			}
		} else {
			next.Success = true
			// Read the clock again: in a large fleet's first round the
			// fetch may have queued for the throttle a long while, and a
			// stale time would make fresh data look old to the alerts.
			next.LastSuccess = p.now()
			next.BucketStart, next.BucketEnd, next.Values = newest.start, newest.end, newest.values
			p.logRecovery(string(f), f)
			if pd != nil {
				pendings[f] = pd
			}
		}
		p.families[f] = next
		p.publish()
	}
	p.readHealth(ctx, rateLimited != nil)
	// The month so far comes second: its failure costs neither the newest
	// buckets nor what of the month was fetched, but it slows the account
	// down as any failure does.
	for _, f := range provider.Families {
		pd := pendings[f]
		if pd == nil {
			continue
		}
		started := time.Now()
		monthToDate, err := p.catchUp(provider.WithObserver(ctx, observer{t: p.tally, family: f}), pd, rateLimited != nil)
		if ctx.Err() != nil {
			return 0
		}
		next := *p.families[f]
		next.Duration += time.Since(started)
		next.MonthToDate = monthToDate
		p.families[f] = &next
		if key := string(f) + " month so far"; err != nil {
			p.logFailure(key, "Fetching the month so far failed; its counters wait for it", f, err)
			rateLimited, transient[f] = classify(err, rateLimited, transient[f])
		} else {
			p.logRecovery(key, f)
		}
		p.publish()
	}
	p.tally.endRefresh(full)
	p.checkVersion()
	p.publish()
	return p.nextDelay(rateLimited, p.tally.throttledFor(), transient, full)
}

// use hands the poller the client a reload built for it, and wakes it when
// what the client was built from changed: a rotated token takes effect now.
func (p *poller) use(t Target) {
	p.mu.Lock()
	changed := t.connection != p.connection
	p.next = &t
	p.mu.Unlock()
	if changed {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// adopt switches to the client a reload handed over, between refreshes.
func (p *poller) adopt() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next != nil {
		p.source, p.connection = p.next.Source, p.next.connection
		p.next = nil
	}
}

// publish hands the collector a new snapshot of the account.
func (p *poller) publish() {
	requests, errs, usage := p.tally.counts()
	families, dropped := limitSeries(p.families, p.account.MaxSeries)
	p.logDropped(dropped, p.account.MaxSeries)
	p.pub.Publish(&analytics.Snapshot{
		WABAID:        p.account.WABAID,
		Name:          p.account.Name,
		Provider:      p.account.Provider,
		Families:      maps.Clone(families),
		Usage:         usage,
		Requests:      requests,
		Errors:        errs,
		Currency:      p.currency,
		MaxDataAge:    p.account.MaxDataAge,
		DroppedSeries: dropped,
		Health:        p.health.current,
		APIVersion:    p.apiVersion(),
	})
}

// readWABA reads the WABA's own fields once a day: its currency, the cost
// series' unit, and its time zone, where its day and month buckets begin. A
// failure fails no family: the currency stays unknown (empty), the days UTC's,
// until the next day's read (a BSP may not forward the fields at all).
func (p *poller) readWABA(ctx context.Context) {
	if !p.caps.WABAFields || (!p.wabaRead.IsZero() && p.now().Sub(p.wabaRead) < 24*time.Hour) {
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
func (p *poller) nextDelay(rateLimited *provider.APIError, throttledFor time.Duration, transient map[provider.Family]bool, full bool) time.Duration {
	interval := p.account.Interval
	now := p.now()
	if full {
		p.fullDue = now.Add(jitter(interval))
	}
	failed := map[provider.Family]bool{}
	for f, t := range transient {
		if t {
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
		return max(p.fullDue.Sub(now), 0)
	}
}

// backoff doubles base for every failure after the first, up to limit.
func backoff(base time.Duration, failures int, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// classify adds err to what the refresh met so far: the rate limit that
// holds the account back, and whether a failure may pass by itself.
func classify(err error, rateLimited *provider.APIError, transient bool) (*provider.APIError, bool) {
	var apiErr *provider.APIError
	if errors.As(err, &apiErr) {
		if apiErr.RateLimited {
			rateLimited = apiErr
		}
		transient = transient || apiErr.Transient
	}
	return rateLimited, transient
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
