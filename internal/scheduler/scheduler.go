// Package scheduler keeps every configured account's analytics fresh. Each
// account refreshes on its own schedule, in its own goroutine: it plans the
// queries of each enabled family (splits, discovery, the window of buckets,
// the cost fallback), sends them through the account's provider client, picks
// the newest complete bucket, and publishes an analytics.Snapshot. It backs
// off when the API says to slow down or fails for a while.
//
// The scheduler knows the APIs' rules (through each provider's Capabilities)
// and nothing of Prometheus; the collector knows Prometheus and nothing of
// the APIs.
package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/go-kit/log"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/registry"
)

// Publisher receives each account's snapshots: a first one when the
// scheduler is built, then one after every refresh. The collector is one.
type Publisher interface {
	Publish(*analytics.Snapshot)
}

// Target is one configured account and the client of its API. The account
// carries no credentials: those stay inside the client.
type Target struct {
	Account config.Account
	Source  provider.Source
}

// Targets builds the client of every configured account. All clients share
// one HTTP transport and one throttle, so that the process as a whole keeps
// to the configured request rate, ceilings and bytes in flight; each account
// goes through the throttle under its own name, for its fair share of slots
// and its own hourly ceiling.
func Targets(cfg *config.Config) ([]Target, error) {
	g := cfg.Global
	return targets(cfg, &http.Client{
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: g.MaxConcurrentRequests,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		},
		// A redirect could carry the request, and with it the credential,
		// somewhere else: treat it as the error it is for these APIs.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	})
}

// targets builds the clients on an HTTP client of the caller's; tests pass
// one that never leaves the process.
func targets(cfg *config.Config, client *http.Client) ([]Target, error) {
	g := cfg.Global
	throttle := provider.NewThrottle(provider.ThrottleOptions{
		RequestsPerSecond: g.RequestsPerSecond, Burst: g.Burst,
		MaxConcurrent: g.MaxConcurrentRequests, MaxPerHour: g.MaxRequestsPerHour,
		MaxBytesInFlight: int64(g.MaxResponseBytesInFlight),
	})
	targets := make([]Target, 0, len(cfg.Accounts))
	for _, a := range cfg.Accounts {
		p, ok := registry.Lookup(a.Provider)
		if !ok {
			return nil, fmt.Errorf("account %s (config line %d): unknown provider %q", a.WABAID, a.Line(), a.Provider)
		}
		source, err := p.New(registry.Connection{
			BaseURL: a.APIURL, APIVersion: a.APIVersion,
			Token: string(a.AccessToken), AppSecret: string(a.AppSecret),
			APIKey: a.APIKey, APISecret: string(a.APISecret),
			HTTP: client, Throttle: throttle.Account(a.WABAID, a.MaxRequestsPerHour), Timeout: a.Timeout,
		})
		if err != nil {
			return nil, fmt.Errorf("account %s (config line %d): %w", a.WABAID, a.Line(), err)
		}
		targets = append(targets, Target{Account: a.WithoutCredentials(), Source: source})
	}
	return targets, nil
}

// Options are the scheduler's collaborators; the zero value is usable.
type Options struct {
	Logger log.Logger
	// Now is the clock that decides which buckets are complete; time.Now
	// when nil.
	Now func() time.Time
	// sleep waits between refreshes; tests replace it to observe backoff.
	sleep func(context.Context, time.Duration) bool
}

// Scheduler refreshes a fixed set of accounts.
type Scheduler struct {
	pollers []*poller
	sleep   func(context.Context, time.Duration) bool
}

// New returns a scheduler for targets that publishes to pub. Every account
// is published once at once, without data; nothing is fetched until Run or
// RefreshAll.
func New(targets []Target, pub Publisher, opts Options) *Scheduler {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Scheduler{sleep: opts.sleep}
	if s.sleep == nil {
		s.sleep = sleepContext
	}
	for _, t := range targets {
		s.pollers = append(s.pollers, newPoller(t, pub, opts.Logger, opts.Now))
	}
	return s
}

// Run refreshes every account on its own schedule until ctx ends, and
// returns once all refreshes have stopped.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range s.pollers {
		wg.Go(func() {
			// The first refresh starts at once, so that a new exporter has
			// data within seconds; the shared throttle spreads a large
			// fleet's first round, and the jitter below its later ones.
			for {
				delay := p.refresh(ctx)
				if ctx.Err() != nil || !s.sleep(ctx, delay) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// RefreshAll refreshes every account once, now, and returns when all are
// done. It is what a one-shot check or a test wants; a running exporter uses
// Run.
func (s *Scheduler) RefreshAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range s.pollers {
		wg.Go(func() { p.refresh(ctx) })
	}
	wg.Wait()
}

func sleepContext(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// jitter spreads refreshes by ±10% so that accounts started together drift
// apart instead of hitting the API in lockstep.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}
