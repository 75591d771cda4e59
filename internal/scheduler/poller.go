package scheduler

import (
	"context"
	"errors"
	"maps"
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
	source  provider.Source
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
	// currency is what the WABA is billed in, read when the refresh that
	// read it last is a day old.
	currency     string
	currencyRead time.Time
	// Cost the API refused to report, per family: asked for once, then
	// not again for the life of the process.
	noCost map[provider.Family]bool
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
		account:  t.Account,
		caps:     t.Account.Capabilities(),
		source:   t.Source,
		pub:      pub,
		logger:   log.With(logger, "waba_id", t.Account.WABAID),
		now:      now,
		windows:  bucket.Calculator{Now: now},
		tally:    newTally(),
		families: map[provider.Family]*analytics.Refresh{},
		ledgers:  map[provider.Family]*ledger{},
		noCost:   map[provider.Family]bool{},
		lastErr:  map[string]string{},
	}
	for _, f := range provider.Families {
		// A month-to-date sum needs buckets that start and end within
		// UTC months: half hours always, days and months where they are
		// UTC's.
		if spec := t.Account.Spec(f); spec.Granularity == provider.HalfHour || spec.Location == nil || spec.Location == time.UTC {
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
	var rateLimited *provider.APIError
	transient := false
	p.tally.startRefresh()
	p.readCurrency(ctx)

	pendings := map[provider.Family]*pending{}
	for _, f := range provider.Families {
		if !p.account.Family(f).IsEnabled() {
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
				rateLimited, transient = classify(err, rateLimited, transient)
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
			rateLimited, transient = classify(err, rateLimited, transient)
		} else {
			p.logRecovery(key, f)
		}
		p.publish()
	}
	p.tally.endRefresh()
	p.checkVersion()
	p.publish()
	return p.nextDelay(rateLimited, p.tally.throttledFor(), transient)
}

// publish hands the collector a new snapshot of the account.
func (p *poller) publish() {
	requests, errs, usage := p.tally.counts()
	p.pub.Publish(&analytics.Snapshot{
		WABAID:   p.account.WABAID,
		Name:     p.account.Name,
		Provider: p.account.Provider,
		Families: maps.Clone(p.families),
		Usage:    usage,
		Requests: requests,
		Errors:   errs,
		Currency: p.currency,

		APIVersion: p.apiVersion(),
	})
}

// readCurrency reads the WABA's currency once a day, for the cost series'
// unit. A failure leaves it unknown (empty) until a later refresh reads it;
// it fails no family.
func (p *poller) readCurrency(ctx context.Context) {
	if !p.caps.WABAFields || !p.caps.Cost || (!p.currencyRead.IsZero() && p.now().Sub(p.currencyRead) < 24*time.Hour) {
		return
	}
	waba, err := p.source.WABA(provider.WithObserver(ctx, observer{t: p.tally, family: analytics.AccountFamily}), p.account.WABAID)
	if err != nil {
		if ctx.Err() == nil {
			p.logFailure(string(analytics.AccountFamily), "Reading the WABA's currency failed; costs carry no currency label", analytics.AccountFamily, err)
		}
		return
	}
	p.logRecovery(string(analytics.AccountFamily), analytics.AccountFamily)
	p.currency, p.currencyRead = clean(waba.Currency), p.now()
}

// nextDelay is the wait before the next refresh. throttledFor is what the
// usage headers asked for: a budget at its limit is backed off like a
// rate-limit error, even when the requests themselves succeeded.
func (p *poller) nextDelay(rateLimited *provider.APIError, throttledFor time.Duration, transient bool) time.Duration {
	interval := p.account.Interval
	switch {
	case rateLimited != nil || throttledFor > 0:
		p.failureStreak = 0
		p.rateLimitedStreak++
		// The first rate limit already waits twice the interval: waiting
		// one interval would be the regular schedule, not a backoff.
		d := backoff(2*interval, p.rateLimitedStreak, max(maxRateLimitBackoff, 2*interval))
		upstream := throttledFor
		if rateLimited != nil {
			upstream = max(upstream, rateLimited.RetryAfter)
		}
		return max(d, min(upstream, provider.MaxUpstreamWait))
	case transient:
		p.rateLimitedStreak = 0
		p.failureStreak++
		return backoff(min(retryBase, interval), p.failureStreak, interval)
	default:
		p.rateLimitedStreak, p.failureStreak = 0, 0
		return jitter(interval)
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
