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
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/registry"
)

// Publisher receives each account's snapshots: a first one when the
// account is added, then one after every step of a refresh; and Forget when
// the account is removed. The collector is one.
type Publisher interface {
	Publish(*analytics.Snapshot)
	Forget(wabaID string)
}

// Target is one configured account and the client of its API. The account
// carries no credentials: those stay inside the client.
type Target struct {
	Account config.Account
	Source  provider.Source
	// connection fingerprints what the client was built from (URL,
	// version, credentials, timeout), to tell a reload that changed it.
	connection [sha256.Size]byte
}

// Targets builds the client of every configured account, for a one-off
// use; a running exporter builds them with a Connector, which keeps the
// throttle across reloads.
func Targets(cfg *config.Config) ([]Target, error) {
	return (&Connector{}).Targets(cfg)
}

// Connector builds the accounts' clients. All share one HTTP transport and
// one throttle, so that the process as a whole keeps to the configured
// limits; both are kept across reloads that leave the global limits as they
// are, and so is each account's way through the throttle: its hourly window
// must outlive a reload, or every reload would reset the ceilings.
type Connector struct {
	// HTTP, when set, is the client to send through; tests pass one that
	// never leaves the process.
	HTTP *http.Client

	mu       sync.Mutex
	global   *config.Global
	client   *http.Client
	throttle *provider.Throttle
	accounts map[string]*provider.AccountThrottle
}

// Targets builds the clients of cfg's accounts.
func (c *Connector) Targets(cfg *config.Config) ([]Target, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := cfg.Global
	if c.global == nil || *c.global != g {
		c.global, c.accounts = &g, map[string]*provider.AccountThrottle{}
		c.client = c.HTTP
		if c.client == nil {
			c.client = &http.Client{
				Transport: &http.Transport{
					Proxy:               http.ProxyFromEnvironment,
					MaxIdleConnsPerHost: g.MaxConcurrentRequests,
					IdleConnTimeout:     90 * time.Second,
					TLSHandshakeTimeout: 10 * time.Second,
				},
				// A redirect could carry the request, and with it the
				// credential, somewhere else: treat it as the error it is
				// for these APIs.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
		}
		c.throttle = provider.NewThrottle(provider.ThrottleOptions{
			RequestsPerSecond: g.RequestsPerSecond, Burst: g.Burst,
			MaxConcurrent: g.MaxConcurrentRequests, MaxPerHour: g.MaxRequestsPerHour,
			MaxBytesInFlight: int64(g.MaxResponseBytesInFlight),
		})
	}
	targets := make([]Target, 0, len(cfg.Accounts))
	accounts := make(map[string]*provider.AccountThrottle, len(cfg.Accounts))
	for _, a := range cfg.Accounts {
		p, ok := registry.Lookup(a.Provider)
		if !ok {
			return nil, fmt.Errorf("account %s (config line %d): unknown provider %q", a.WABAID, a.Line(), a.Provider)
		}
		key := fmt.Sprintf("%s/%d", a.WABAID, a.MaxRequestsPerHour)
		throttle := c.accounts[key]
		if throttle == nil {
			throttle = c.throttle.Account(a.WABAID, a.MaxRequestsPerHour)
		}
		accounts[key] = throttle
		source, err := p.New(registry.Connection{
			BaseURL: a.APIURL, APIVersion: a.APIVersion,
			Token: string(a.AccessToken), AppSecret: string(a.AppSecret),
			APIKey: a.APIKey, APISecret: string(a.APISecret),
			HTTP: c.client, Throttle: throttle, Timeout: a.Timeout,
		})
		if err != nil {
			return nil, fmt.Errorf("account %s (config line %d): %w", a.WABAID, a.Line(), err)
		}
		targets = append(targets, Target{Account: a.WithoutCredentials(), Source: source, connection: fingerprint(a)})
	}
	c.accounts = accounts
	return targets, nil
}

// fingerprint hashes what an account's client is built from. It is only
// ever compared, never shown: the credentials are in it.
func fingerprint(a config.Account) [sha256.Size]byte {
	h := sha256.New()
	for _, v := range []string{a.Provider, a.APIURL, a.APIVersion, string(a.AccessToken), string(a.AppSecret), a.APIKey, string(a.APISecret), a.Timeout.String()} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return [sha256.Size]byte(h.Sum(nil))
}

// Options are the scheduler's collaborators; the zero value is usable.
type Options struct {
	Logger log.Logger
	// Now is the clock that decides which buckets are complete; time.Now
	// when nil.
	Now func() time.Time
	// sleep waits between refreshes; tests replace it to observe backoff.
	sleep func(ctx context.Context, wake <-chan struct{}, d time.Duration) bool
}

// Scheduler refreshes a set of accounts, which Apply may change while it
// runs.
type Scheduler struct {
	pub   Publisher
	opts  Options
	sleep func(ctx context.Context, wake <-chan struct{}, d time.Duration) bool

	mu sync.Mutex
	// pollers are the accounts, in the order of the configuration.
	pollers []*poller
	// run is the context of Run while it runs: Apply starts the loops of
	// new accounts in it. wg counts the loops.
	run context.Context
	wg  sync.WaitGroup
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
	s := &Scheduler{pub: pub, opts: opts, sleep: opts.sleep}
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
	s.mu.Lock()
	s.run = ctx
	for _, p := range s.pollers {
		s.start(p)
	}
	s.mu.Unlock()
	<-ctx.Done()
	s.wg.Wait()
}

// start runs a poller's loop in the context of Run. The first refresh
// starts at once, so that a new exporter has data within seconds; the
// shared throttle spreads a large fleet's first round, and the jitter its
// later ones. Called with s.mu held.
func (s *Scheduler) start(p *poller) {
	ctx, cancel := context.WithCancel(s.run)
	p.stop = cancel
	s.wg.Go(func() {
		defer close(p.done)
		for {
			delay := p.refresh(ctx)
			if ctx.Err() != nil || !s.sleep(ctx, p.wake, delay) {
				return
			}
		}
	})
}

// Apply makes targets the set of accounts. An account whose configuration
// is unchanged keeps its poller, and with it its data and month-to-date
// counters; it takes the new client (a reload may have rotated its
// credentials, or changed the process' limits), and refreshes at once if
// what the client was built from changed. A changed account starts afresh;
// a new one starts; a removed one stops, and its series go.
func (s *Scheduler) Apply(targets []Target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := map[string]*poller{}
	for _, p := range s.pollers {
		old[p.account.WABAID] = p
	}
	next := make([]*poller, 0, len(targets))
	for _, t := range targets {
		p := old[t.Account.WABAID]
		delete(old, t.Account.WABAID)
		if p != nil && p.account.Equivalent(t.Account) {
			p.use(t)
			next = append(next, p)
			continue
		}
		if p != nil {
			s.halt(p)
		}
		p = newPoller(t, s.pub, s.opts.Logger, s.opts.Now)
		if s.run != nil {
			s.start(p)
		}
		next = append(next, p)
	}
	for id, p := range old {
		s.halt(p)
		s.pub.Forget(id)
	}
	s.pollers = next
}

// halt stops a poller and waits until its loop has ended: it publishes
// nothing after that.
func (s *Scheduler) halt(p *poller) {
	if p.stop != nil {
		p.stop()
		<-p.done
	}
}

// RefreshAll refreshes every account once, now, and returns when all are
// done. It is what a one-shot check or a test wants; a running exporter uses
// Run.
func (s *Scheduler) RefreshAll(ctx context.Context) {
	s.mu.Lock()
	pollers := slices.Clone(s.pollers)
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range pollers {
		wg.Go(func() { p.refresh(ctx) })
	}
	wg.Wait()
}

// sleepContext waits d, or less if wake fires (a reload changed the
// account's credentials); it reports false when ctx ends first.
func sleepContext(ctx context.Context, wake <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
		return true
	case <-t.C:
		return true
	}
}

// jitter spreads refreshes by ±10% so that accounts started together drift
// apart instead of hitting the API in lockstep.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}
