package collector

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
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

// refresh fetches every enabled family of one account, publishes the new
// snapshot, and returns how long to wait before the next refresh. A failed
// family keeps serving its last good values.
func (c *Collector) refresh(ctx context.Context, a *account) time.Duration {
	now := c.now()
	next := a.snapshot.Load().next()
	var rateLimited *provider.APIError
	transient := false
	a.throttledFor.Store(0)
	clear(a.usageSeen)

	for _, f := range provider.Families {
		if !a.familyConfig(f).IsEnabled() {
			continue
		}
		st := next.families[f]
		st.attempted = true
		if rateLimited != nil || a.throttledFor.Load() > 0 {
			// The API told us to slow down, by an error or by its usage
			// headers; asking for the other families now would only dig
			// the hole deeper.
			st.success = false
			next.families[f] = st
			continue
		}
		started := time.Now()
		data, err := a.fetch(ctx, f, now)
		st.duration = time.Since(started)
		if ctx.Err() != nil {
			return 0 // shutting down: keep the last snapshot as it is
		}
		if err != nil {
			st.success = false
			a.logFailure(f, err)
			var apiErr *provider.APIError
			if errors.As(err, &apiErr) {
				if apiErr.RateLimited {
					rateLimited = apiErr
				}
				transient = transient || apiErr.Transient
			}
		} else {
			st.success = true
			// Read the clock again: in a large fleet's first round the
			// fetch may have queued for the throttle a long while, and a
			// stale time would make fresh data look old to the alerts.
			st.lastSuccess = c.now()
			st.data = data
			a.logRecovery(f)
		}
		next.families[f] = st
	}

	next.build(a.cfg)
	a.snapshot.Store(next)
	a.forgetStaleUsage()
	return a.nextDelay(rateLimited, time.Duration(a.throttledFor.Load()), transient)
}

// forgetStaleUsage drops the rate-limit usage gauges of budget types that no
// answer of this refresh reported. Graph sends its usage headers only while
// usage is high: a report that is not repeated no longer holds, and must not
// keep an alert firing on its last value.
func (a *account) forgetStaleUsage() {
	for usageType := range a.usageExported {
		if !a.usageSeen[usageType] {
			labels := prometheus.Labels{"waba_id": a.cfg.WABAID, "usage_type": usageType}
			a.metrics.usage.DeletePartialMatch(labels)
			a.metrics.regainAccess.DeletePartialMatch(labels)
			delete(a.usageExported, usageType)
		}
	}
	for usageType := range a.usageSeen {
		a.usageExported[usageType] = true
	}
}

// nextDelay is the wait before the next refresh. throttledFor is what the
// usage headers asked for: a budget at its limit is backed off like a
// rate-limit error, even when the requests themselves succeeded.
func (a *account) nextDelay(rateLimited *provider.APIError, throttledFor time.Duration, transient bool) time.Duration {
	interval := a.cfg.Interval
	switch {
	case rateLimited != nil || throttledFor > 0:
		a.failureStreak = 0
		a.rateLimitedStreak++
		// The first rate limit already waits twice the interval: waiting
		// one interval would be the regular schedule, not a backoff.
		d := backoff(2*interval, a.rateLimitedStreak, max(maxRateLimitBackoff, 2*interval))
		upstream := throttledFor
		if rateLimited != nil {
			upstream = max(upstream, rateLimited.RetryAfter)
		}
		return max(d, min(upstream, provider.MaxUpstreamWait))
	case transient:
		a.rateLimitedStreak = 0
		a.failureStreak++
		return backoff(min(retryBase, interval), a.failureStreak, interval)
	default:
		a.rateLimitedStreak, a.failureStreak = 0, 0
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

// logFailure logs a family's failure when it starts or changes, and only at
// debug level while it repeats: a WABA whose token expired must not flood the
// log every interval.
func (a *account) logFailure(f provider.Family, err error) {
	code := "error"
	var apiErr *provider.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.Code
	}
	logger := level.Warn(a.logger)
	if a.lastErr[f] == code {
		logger = level.Debug(a.logger)
	}
	logger.Log("msg", "Refresh failed; serving the last good values", "family", f, "err", err)
	a.lastErr[f] = code
}

func (a *account) logRecovery(f provider.Family) {
	if _, failed := a.lastErr[f]; failed {
		level.Info(a.logger).Log("msg", "Refresh recovered", "family", f)
		delete(a.lastErr, f)
	}
}

// observer counts one family's API requests, errors and rate-limit usage.
type observer struct {
	m      *selfMetrics
	waba   string
	family string
	// throttledFor collects the usage headers' request to slow down, for
	// the account's backoff.
	throttledFor *atomic.Int64
	// usageSeen collects the budget types reported during the refresh.
	usageSeen map[string]bool
}

func (o observer) ObserveResponse(code string) {
	o.m.requests.WithLabelValues(o.waba, o.family, code).Inc()
}

func (o observer) ObserveError(code string) {
	o.m.errors.WithLabelValues(o.waba, o.family, labelValue(code)).Inc()
}

func (o observer) ObserveUsage(u provider.Usage) {
	usageType := labelValue(u.Type)
	o.usageSeen[usageType] = true
	for resource, percent := range map[string]float64{
		"call_count": u.CallCount, "total_cputime": u.TotalCPUTime, "total_time": u.TotalTime,
	} {
		if percent >= 0 {
			o.m.usage.WithLabelValues(o.waba, usageType, resource).Set(percent / 100)
		}
	}
	o.m.regainAccess.WithLabelValues(o.waba, usageType).Set(u.RegainAccess.Seconds())

	// Graph reports the share of the budget used in percent, and the minutes
	// until access returns once it is cut (graph-api-facts.md, "Rate
	// limits"). Either one at its limit backs the account off.
	wait := u.RegainAccess
	if wait <= 0 && max(u.CallCount, u.TotalCPUTime, u.TotalTime) >= 100 {
		wait = time.Nanosecond // at the limit, no time given: the usual backoff
	}
	for {
		cur := o.throttledFor.Load()
		if int64(wait) <= cur || o.throttledFor.CompareAndSwap(cur, int64(wait)) {
			break
		}
	}
}
