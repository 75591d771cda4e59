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
	"maps"
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
	// Discovered is what a business's listing said of the WABA (its
	// name, currency and time zone); nil for an account the file lists.
	Discovered *provider.DiscoveredWABA
	// connection fingerprints what the client was built from (URL,
	// version, credentials, timeout), to tell a reload that changed it.
	connection [sha256.Size]byte
}

// Account is an account to build a client for: one the file lists, or one
// a business's listing found (Discovered).
type Account struct {
	Config     config.Account
	Discovered *provider.DiscoveredWABA
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
	// accounts are the accounts' and businesses' ways through the
	// throttle, kept across reloads; listers the businesses' alone.
	accounts, listers map[string]*provider.AccountThrottle
}

// Targets builds the clients of cfg's accounts.
func (c *Connector) Targets(cfg *config.Config) ([]Target, error) {
	accounts := make([]Account, len(cfg.Accounts))
	for i, a := range cfg.Accounts {
		accounts[i] = Account{Config: a}
	}
	return c.Build(cfg.Global, accounts)
}

// Build builds the clients of accounts, under g's process-wide limits.
func (c *Connector) Build(g config.Global, accounts []Account) ([]Target, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limits(g)
	targets := make([]Target, 0, len(accounts))
	throttles := make(map[string]*provider.AccountThrottle, len(accounts)+len(c.listers))
	for _, acct := range accounts {
		a := acct.Config
		source, err := c.newClient(a, a.WABAID, throttles)
		if err != nil {
			return nil, fmt.Errorf("account %s (config line %d): %w", a.WABAID, a.Line(), err)
		}
		targets = append(targets, Target{Account: a.WithoutCredentials(), Source: source, Discovered: acct.Discovered, connection: fingerprint(a)})
	}
	maps.Copy(throttles, c.listers)
	c.accounts = throttles
	return targets, nil
}

// Lister builds the client that lists business b's WABAs: its requests go
// through the same throttle as the accounts', with a way of its own.
func (c *Connector) Lister(g config.Global, b *config.Business) (provider.Lister, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limits(g)
	throttles := map[string]*provider.AccountThrottle{}
	source, err := c.newClient(b.Connection(), "business "+b.Label(), throttles)
	if err != nil {
		return nil, fmt.Errorf("business %s (config line %d): %w", b.Label(), b.Line(), err)
	}
	maps.Copy(c.listers, throttles)
	maps.Copy(c.accounts, throttles)
	lister, ok := source.(provider.Lister)
	if !ok {
		return nil, fmt.Errorf("business %s (config line %d): provider %s cannot list WABAs", b.Label(), b.Line(), b.Connection().Provider)
	}
	return lister, nil
}

// limits sets up the shared transport and throttle for g, keeping them
// across reloads that leave the global limits as they are. Called with c.mu
// held.
func (c *Connector) limits(g config.Global) {
	if c.global != nil && *c.global == g {
		return
	}
	c.global = &g
	c.accounts, c.listers = map[string]*provider.AccountThrottle{}, map[string]*provider.AccountThrottle{}
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

// newClient builds a's client, whose requests take their turns as key (a
// WABA ID, or a business's) through the shared throttle: each keeps its way
// through it across reloads, recorded in throttles. Called with c.mu held.
func (c *Connector) newClient(a config.Account, key string, throttles map[string]*provider.AccountThrottle) (provider.Source, error) {
	p, ok := registry.Lookup(a.Provider)
	if !ok {
		return nil, fmt.Errorf("unknown provider %q", a.Provider)
	}
	id := fmt.Sprintf("%s/%d", key, a.MaxRequestsPerHour)
	throttle := c.accounts[id]
	if throttle == nil {
		throttle = c.throttle.Account(key, a.MaxRequestsPerHour)
	}
	throttles[id] = throttle
	return p.New(registry.Connection{
		BaseURL: a.APIURL, APIVersion: a.APIVersion,
		Token: string(a.AccessToken), AppSecret: string(a.AppSecret),
		APIKey: a.APIKey, APISecret: string(a.APISecret),
		HTTP: c.client, Throttle: throttle, Timeout: a.Timeout,
	})
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
	// when nil. The schedule itself runs on the time package's clock.
	Now func() time.Time
	// MaxConcurrentRefreshes is how many accounts refresh at once; 20
	// when 0. Requests of the refreshes under way still wait for the
	// throttle: this only bounds how many accounts hold a place in it.
	MaxConcurrentRefreshes int
	// RequestsPerSecond is the configured rate, for the cycle estimate
	// in the fleet's figures; 0 when unknown.
	RequestsPerSecond float64
	// refreshed, when set, sees each refresh end and the delay until the
	// account's next one: the tests watch the schedule with it.
	refreshed func(wabaID string, next time.Duration)
}

// DefaultMaxConcurrentRefreshes is Options.MaxConcurrentRefreshes' default.
const DefaultMaxConcurrentRefreshes = 20

// Scheduler refreshes a set of accounts, which Apply may change while it
// runs. It admits one account's refresh at a time as a whole, in the order
// they fall due, and among accounts due at once in their order in the
// targets: so that after a start the first accounts have data within
// seconds, and each later one as soon as those before it are done, rather
// than every account of a large fleet starting together and finishing
// together, late. At most MaxConcurrentRefreshes refresh at once, and
// accounts whose last request got no answer (a hung API) take at most half
// of those places, so that they cannot keep the others waiting.
type Scheduler struct {
	pub  Publisher
	opts Options

	mu sync.Mutex
	// pollers are the accounts, in the order of the targets.
	pollers []*poller
	// due holds the accounts waiting for their next refresh, soonest
	// first; running counts the refreshes under way, and untrusted those
	// of accounts not known to answer; trusted counts the accounts whose
	// last refresh got answers.
	due                         dueQueue
	running, untrusted, trusted int
	// seq numbers the accounts in the order they were added, which
	// breaks ties between accounts due at once.
	seq uint64
	// changed wakes the dispatcher when the queue changes.
	changed chan struct{}
	// run is the context of Run while it runs. wg counts the refreshes
	// under way.
	run context.Context
	wg  sync.WaitGroup
	// cycle measures how long the fleet takes to refresh every account
	// once (cycle.go).
	cycle cycle
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
	if opts.MaxConcurrentRefreshes <= 0 {
		opts.MaxConcurrentRefreshes = DefaultMaxConcurrentRefreshes
	}
	s := &Scheduler{pub: pub, opts: opts, changed: make(chan struct{}, 1)}
	for _, t := range targets {
		s.pollers = append(s.pollers, s.newPoller(t))
	}
	return s
}

func (s *Scheduler) newPoller(t Target) *poller {
	p := newPoller(t, s.pub, s.opts.Logger, s.opts.Now)
	s.seq++
	p.seq = s.seq
	return p
}

// Run refreshes every account on its own schedule until ctx ends, and
// returns once all refreshes have stopped.
func (s *Scheduler) Run(ctx context.Context) {
	s.mu.Lock()
	s.run = ctx
	now := time.Now()
	for _, p := range s.pollers {
		s.schedule(p, now)
	}
	s.cycle.start(now, s.pollers)
	s.mu.Unlock()
	s.dispatch(ctx)
	s.wg.Wait()
}

// dispatch admits the refreshes that are due, in order, as places free up,
// until ctx ends.
func (s *Scheduler) dispatch(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		wait := s.admit(ctx)
		s.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.changed:
		case <-timer.C:
		}
	}
}

// admit starts every refresh that is due and has a place, and returns how
// long until the next one falls due (an hour when none is queued). Called
// with s.mu held.
func (s *Scheduler) admit(ctx context.Context) time.Duration {
	now := time.Now()
	for s.due.Len() > 0 {
		p := s.due.peek()
		if p.at.After(now) {
			return p.at.Sub(now)
		}
		if s.running >= s.opts.MaxConcurrentRefreshes {
			return time.Hour // a refresh that ends signals changed
		}
		if !p.trusted() && s.untrusted >= s.untrustedPlaces() {
			// Accounts not known to answer wait for one another, not
			// for everyone: the next account that answers goes first.
			q := s.due.firstAnswering()
			switch {
			case q == nil:
				return time.Hour // a refresh that ends signals changed
			case q.at.After(now):
				return q.at.Sub(now)
			}
			s.start(ctx, q)
			continue
		}
		s.start(ctx, s.due.pop())
	}
	return time.Hour
}

// untrustedPlaces is how many refreshes of accounts not known to answer
// (new ones, and those whose last request got no answer) may run at once:
// all places while no account is known to answer, and one place fewer for
// each that is, up to half, as the throttle's pool keeps slots (see
// provider's pool). So however many accounts hang, those that answer keep
// their turn.
func (s *Scheduler) untrustedPlaces() int {
	k := s.opts.MaxConcurrentRefreshes
	return max(k-min(s.trusted, k/2), 1)
}

// start runs one refresh of p. Called with s.mu held.
func (s *Scheduler) start(ctx context.Context, p *poller) {
	s.due.remove(p)
	s.running++
	untrusted := !p.trusted()
	if untrusted {
		s.untrusted++
	}
	p.refreshing = make(chan struct{})
	refreshCtx, cancel := context.WithCancel(ctx)
	p.cancel = cancel
	s.wg.Go(func() {
		defer close(p.refreshing)
		defer cancel()
		delay := p.refresh(refreshCtx)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.running--
		if untrusted {
			s.untrusted--
		}
		if p.removed || ctx.Err() != nil {
			return
		}
		s.setTrust(p, refreshCtx.Err() == nil && !p.tally.noAnswer())
		now := time.Now()
		if p.woken {
			p.woken, delay = false, 0
		}
		s.schedule(p, now.Add(delay))
		s.cycle.refreshed(p, now, delay, s.pollers, s.opts)
		if s.opts.refreshed != nil {
			s.opts.refreshed(p.account.WABAID, delay)
		}
		s.signal()
	})
}

// setTrust records whether p's last refresh got answers. Called with s.mu
// held.
func (s *Scheduler) setTrust(p *poller, answered bool) {
	if p.trusted() {
		s.trusted--
	}
	p.known, p.hanging = true, !answered
	if p.trusted() {
		s.trusted++
	}
}

// schedule queues p's next refresh at at. Called with s.mu held.
func (s *Scheduler) schedule(p *poller, at time.Time) {
	p.at = at
	s.due.push(p)
	s.signal()
}

func (s *Scheduler) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// Apply makes targets the set of accounts. An account whose configuration
// is unchanged keeps its poller, and with it its data and month-to-date
// counters; it takes the new client (a reload may have rotated its
// credentials, or changed the process' limits), and refreshes at once if
// what the client was built from changed. A changed account starts afresh;
// a new one starts; a removed one stops, and its series go. The order of
// targets is the order in which accounts due at once refresh.
func (s *Scheduler) Apply(targets []Target) {
	s.mu.Lock()
	old := map[string]*poller{}
	for _, p := range s.pollers {
		old[p.account.WABAID] = p
	}
	var halted []<-chan struct{}
	next := make([]*poller, 0, len(targets))
	now := time.Now()
	for _, t := range targets {
		p := old[t.Account.WABAID]
		delete(old, t.Account.WABAID)
		if p != nil && p.account.Equivalent(t.Account) {
			if p.use(t) {
				s.wake(p, now)
			}
			next = append(next, p)
			continue
		}
		if p != nil {
			halted = append(halted, s.halt(p))
		}
		p = s.newPoller(t)
		if s.run != nil {
			s.schedule(p, now)
			s.cycle.add(p)
		}
		next = append(next, p)
	}
	var forget []string
	for id, p := range old {
		halted = append(halted, s.halt(p))
		forget = append(forget, id)
	}
	s.pollers = next
	s.mu.Unlock()
	// Wait for the refreshes under way of the stopped accounts to end,
	// outside the lock they need to end: nothing of theirs is published
	// after this.
	for _, done := range halted {
		if done != nil {
			<-done
		}
	}
	for _, id := range forget {
		s.pub.Forget(id)
	}
}

// wake makes p refresh now: at once if it is waiting, right after the
// refresh under way otherwise. Called with s.mu held.
func (s *Scheduler) wake(p *poller, now time.Time) {
	if s.run == nil {
		return
	}
	if s.due.contains(p) {
		s.due.remove(p)
		s.schedule(p, now)
		return
	}
	p.woken = true
}

// halt stops p: out of the queue, its refresh under way cancelled. It
// returns what closes once that refresh has ended (nil when none runs).
// Called with s.mu held.
func (s *Scheduler) halt(p *poller) <-chan struct{} {
	if p.trusted() {
		s.trusted--
	}
	p.removed, p.known = true, false
	s.due.remove(p)
	s.cycle.remove(p)
	if p.cancel != nil {
		p.cancel()
	}
	if p.refreshing != nil {
		select {
		case <-p.refreshing:
			return nil
		default:
			return p.refreshing
		}
	}
	return nil
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

// jitter spreads refreshes by ±10% so that accounts started together drift
// apart instead of hitting the API in lockstep.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}
