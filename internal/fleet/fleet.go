// Package fleet decides which accounts this replica exports: those the
// configuration lists, and the WABAs its businesses' listings find, each
// kept where it hashes to this replica's shard. It lists every business on
// start, on its interval and on reload, and hands the scheduler the
// difference: WABAs that stay keep their data and counters, new ones start,
// gone ones stop and their series go. A listing that fails keeps the last
// good one.
package fleet

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// retryBase is how soon a failed listing is tried again at first; it
// doubles up to the business's list interval.
const retryBase = time.Minute

// Options are the fleet's collaborators.
type Options struct {
	Logger log.Logger
	// Shard is this replica's share; the zero value keeps everything.
	Shard Shard
	// Now is the clock of the listings' timestamps; time.Now when nil.
	Now func() time.Time
}

// Fleet keeps the scheduler's accounts in line with the configuration and
// the businesses' listings.
type Fleet struct {
	opts      Options
	connector *scheduler.Connector
	apply     func([]scheduler.Target)

	mu  sync.Mutex
	cfg *config.Config
	// listings are the businesses of cfg, in its order.
	listings []*listing
	// wake makes Run list what is due now (a reload).
	wake chan struct{}
	// configured and discovered count the accounts of the last targets
	// built, for State: a scrape reads them rather than building every
	// account again.
	configured, discovered int
}

// listing is one business and what its last listings gave.
type listing struct {
	business config.Business
	// wabas are the WABAs the last good listing found that the filters
	// keep, in its order; listed is how many it found in all.
	wabas  []provider.DiscoveredWABA
	listed int
	// ok says the last listing succeeded; lastSuccess is when one last
	// did (zero: never); failures counts those in a row since.
	ok          bool
	lastSuccess time.Time
	failures    int
	lastErr     string
	next        time.Time
}

// New returns the fleet of cfg. apply receives the targets to export each
// time they change (scheduler.Apply).
func New(cfg *config.Config, connector *scheduler.Connector, apply func([]scheduler.Target), opts Options) *Fleet {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &Fleet{opts: opts, connector: connector, apply: apply, wake: make(chan struct{}, 1)}
	f.cfg, f.listings = cfg, f.listingsOf(cfg, nil)
	f.accounts() // counts what the configuration lists
	return f
}

// listingsOf makes cfg's businesses' listings, keeping what old ones with
// the same business had found, so that a reload does not drop a business's
// WABAs while it is listed again. Every listing is due now.
func (f *Fleet) listingsOf(cfg *config.Config, old []*listing) []*listing {
	byLabel := map[string]*listing{}
	for _, l := range old {
		byLabel[l.business.Label()] = l
	}
	out := make([]*listing, len(cfg.Businesses))
	for i, b := range cfg.Businesses {
		l := &listing{business: b}
		if prev := byLabel[b.Label()]; prev != nil {
			l.wabas, l.listed, l.ok, l.lastSuccess = prev.wabas, prev.listed, prev.ok, prev.lastSuccess
		}
		out[i] = l
	}
	return out
}

// Targets builds the targets this replica exports now: the configured
// accounts, then each business's WABAs that no account or earlier business
// names, in the shard.
func (f *Fleet) Targets() ([]scheduler.Target, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connector.Build(f.cfg.Global, f.accounts())
}

// accounts lists the accounts of Targets, and counts them for State.
// Called with f.mu held.
func (f *Fleet) accounts() []scheduler.Account {
	var out []scheduler.Account
	seen := map[string]bool{}
	for _, a := range f.cfg.Accounts {
		seen[a.WABAID] = true
		if f.opts.Shard.Owns(a.WABAID) {
			out = append(out, scheduler.Account{Config: a})
		}
	}
	f.configured = len(out)
	for _, l := range f.listings {
		for i := range l.wabas {
			w := &l.wabas[i]
			if seen[w.ID] {
				continue // listed by hand, or by a business before
			}
			seen[w.ID] = true
			if f.opts.Shard.Owns(w.ID) {
				out = append(out, scheduler.Account{Config: l.business.Account(w.ID), Discovered: w})
			}
		}
	}
	f.discovered = len(out) - f.configured
	return out
}

// Reload makes cfg the configuration: its accounts apply at once, with the
// last listings of the businesses it keeps, and every business is listed
// again now.
func (f *Fleet) Reload(cfg *config.Config) error {
	f.mu.Lock()
	prevCfg, prevListings := f.cfg, f.listings
	f.cfg, f.listings = cfg, f.listingsOf(cfg, f.listings)
	targets, err := f.connector.Build(cfg.Global, f.accounts())
	if err != nil {
		f.cfg, f.listings = prevCfg, prevListings
		f.accounts() // the counts of the configuration that stays
		f.mu.Unlock()
		return err
	}
	f.mu.Unlock()
	f.apply(targets)
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run lists each business when due, until ctx ends, and applies the
// targets after each listing that changed them.
func (f *Fleet) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-f.wake:
		}
		for {
			l, cfg := f.due()
			if l == nil {
				break
			}
			if changed := f.list(ctx, cfg, l); changed {
				f.applyNow()
			}
			if ctx.Err() != nil {
				return
			}
		}
		timer.Reset(f.untilNext())
	}
}

// due returns a listing that is due, with the configuration it belongs to.
func (f *Fleet) due() (*listing, *config.Config) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	for _, l := range f.listings {
		if !l.next.After(now) {
			l.next = now.Add(time.Hour) // taken; list sets the real next
			return l, f.cfg
		}
	}
	return nil, nil
}

func (f *Fleet) untilNext() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	wait := time.Hour
	now := time.Now()
	for _, l := range f.listings {
		wait = min(wait, max(l.next.Sub(now), 0))
	}
	return wait
}

func (f *Fleet) applyNow() {
	targets, err := f.Targets()
	if err != nil {
		level.Error(f.opts.Logger).Log("msg", "Building the clients of the listed WABAs failed", "err", err)
		return
	}
	f.apply(targets)
}

// list lists one business, and reports whether what it keeps changed.
func (f *Fleet) list(ctx context.Context, cfg *config.Config, l *listing) bool {
	b := &l.business
	logger := log.With(f.opts.Logger, "business", b.Label())
	lister, err := f.connector.Lister(cfg.Global, b)
	var wabas []provider.DiscoveredWABA
	if err == nil {
		wabas, err = lister.ListWABAs(ctx, provider.ListQuery{BusinessID: b.BusinessID, Ownerships: b.Ownerships()})
	}
	if ctx.Err() != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.current(l) {
		return false // a reload replaced the business meanwhile
	}
	now := time.Now()
	if err != nil {
		l.ok, l.failures = false, l.failures+1
		l.next = now.Add(min(retryBase<<min(l.failures-1, 10), b.ListInterval))
		msg := errors.Unwrap(err)
		if msg == nil {
			msg = err
		}
		lg := level.Warn(logger)
		if l.lastErr == err.Error() {
			lg = level.Debug(logger)
		}
		lg.Log("msg", "Listing the business's WABAs failed; keeping the last list", "kept", len(l.wabas), "err", err)
		l.lastErr = err.Error()
		return false
	}
	var kept []provider.DiscoveredWABA
	for _, w := range wabas {
		if b.Wants(w.ID, w.Name) {
			kept = append(kept, w)
		}
	}
	changed := !l.ok && l.lastSuccess.IsZero() || !sameWABAs(l.wabas, kept)
	if l.lastErr != "" {
		level.Info(logger).Log("msg", "Listing the business's WABAs works again")
	}
	if changed {
		level.Info(logger).Log("msg", "Listed the business's WABAs", "listed", len(wabas), "kept", len(kept), "was", len(l.wabas))
	}
	l.wabas, l.listed, l.ok, l.lastSuccess, l.failures, l.lastErr = kept, len(wabas), true, f.opts.Now(), 0, ""
	l.next = now.Add(b.ListInterval)
	return changed
}

// current says l is one of the fleet's listings still. Called with f.mu
// held.
func (f *Fleet) current(l *listing) bool {
	for _, x := range f.listings {
		if x == l {
			return true
		}
	}
	return false
}

// sameWABAs reports whether two listings keep the same WABAs with the same
// names, currencies and time zones.
func sameWABAs(a, b []provider.DiscoveredWABA) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Name != b[i].Name || a[i].Currency != b[i].Currency || a[i].Location.String() != b[i].Location.String() {
			return false
		}
	}
	return true
}

// State is what the fleet reports of itself: each business's listing, and
// this replica's shard and accounts.
func (f *Fleet) State() analytics.Discovery {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := analytics.Discovery{ShardIndex: f.opts.Shard.Index, ShardCount: max(f.opts.Shard.Count, 1),
		Configured: f.configured, Discovered: f.discovered}
	for _, l := range f.listings {
		d.Businesses = append(d.Businesses, analytics.Business{
			Label: l.business.Label(), Provider: l.business.Connection().Provider,
			Listed: l.listed, Kept: len(l.wabas), Success: l.ok, LastSuccess: l.lastSuccess, Listings: !l.lastSuccess.IsZero() || l.failures > 0,
		})
	}
	return d
}

// ListOnce lists every business once, now, and returns the errors of the
// listings that failed (each keeps its last good list, none on a first
// listing): for a one-off run, such as a backfill, that wants the WABAs the
// businesses read today without running the fleet.
func (f *Fleet) ListOnce(ctx context.Context) []error {
	f.mu.Lock()
	listings, cfg := append([]*listing(nil), f.listings...), f.cfg
	f.mu.Unlock()
	var errs []error
	for _, l := range listings {
		f.list(ctx, cfg, l)
		f.mu.Lock()
		if !l.ok {
			errs = append(errs, errors.New("business "+l.business.Label()+": "+l.lastErr))
		}
		f.mu.Unlock()
	}
	return errs
}
