package scheduler

import (
	"time"

	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
)

// cycle measures whether the fleet fits its interval: how long it takes to
// refresh every account once. A cycle starts with the accounts on their
// regular schedule (not those backing off on purpose, whose next refresh is
// further off) and ends when each has finished a refresh; the next begins
// then. The first cycle after a start is every account's first refresh, all
// due at once: its length is the time until every account has data. Later
// cycles last about the longest interval when the fleet fits (each account
// refreshes once an interval), and longer when it does not: when the
// requests of every refresh take longer at the configured rate than the
// interval allows, refreshes wait for one another and fall behind. It is
// guarded by the scheduler's mutex.
type cycle struct {
	started time.Time
	members map[*poller]bool
	// base is what each account had sent when the cycle started (or when
	// it joined), and gone what the accounts removed since sent within
	// the cycle: so that an account replaced or removed mid-cycle neither
	// takes its requests away from the cycle's nor adds its earlier ones.
	base map[*poller]float64
	gone float64
	// The last completed cycle: its length, the longest interval of its
	// accounts, and the requests the fleet sent in it.
	last     time.Duration
	interval time.Duration
	sent     float64
	count    int
	// behind says the last cycle did not fit, as last logged.
	behind bool
}

// slack is how much longer than the interval a cycle may take and still
// fit: the ±10% jitter and a refresh's own length.
const slack = 1.25

func (c *cycle) start(now time.Time, pollers []*poller) {
	c.started, c.members, c.base, c.gone = now, map[*poller]bool{}, map[*poller]float64{}, 0
	for _, p := range pollers {
		c.base[p] = p.tally.requestsSent()
		if p.at.IsZero() || !p.at.After(now.Add(time.Duration(float64(p.account.Interval)*slack))) {
			c.members[p] = true
		}
	}
}

// add makes a new account part of the cycle under way.
func (c *cycle) add(p *poller) {
	if c.members != nil {
		c.members[p] = true
		c.base[p] = p.tally.requestsSent()
	}
}

// remove takes an account out of the cycle, keeping what it sent in it.
func (c *cycle) remove(p *poller) {
	delete(c.members, p)
	if base, ok := c.base[p]; ok {
		c.gone += p.tally.requestsSent() - base
		delete(c.base, p)
	}
}

// refreshed notes the end of p's refresh, and of the cycle with it when p
// was the last to go.
func (c *cycle) refreshed(p *poller, now time.Time, _ time.Duration, pollers []*poller, opts Options) {
	if c.members == nil {
		return
	}
	delete(c.members, p)
	if len(c.members) > 0 {
		return
	}
	c.last, c.count = now.Sub(c.started), c.count+1
	c.interval = 0
	sent := c.gone
	for _, q := range pollers {
		c.interval = max(c.interval, q.account.Interval)
		sent += q.tally.requestsSent() - c.base[q]
	}
	c.sent = sent
	c.report(len(pollers), opts)
	c.start(now, pollers)
}

// report logs when the fleet starts or stops fitting its interval, once.
func (c *cycle) report(accounts int, opts Options) {
	behind := c.count > 1 && float64(c.last) > float64(c.interval)*slack ||
		c.count == 1 && c.last > c.interval
	if behind == c.behind {
		return
	}
	c.behind = behind
	need := "unknown"
	if opts.RequestsPerSecond > 0 {
		need = (time.Duration(c.sent/opts.RequestsPerSecond) * time.Second).String()
	}
	if behind {
		level.Warn(opts.Logger).Log("msg", "The fleet does not fit its interval: refreshing every account once took longer than the interval; raise requests_per_second, lengthen the interval, shard over more replicas or trim splits",
			"accounts", accounts, "cycle", c.last.Round(time.Second), "interval", c.interval, "requests", c.sent, "requests_at_configured_rate", need)
		return
	}
	level.Info(opts.Logger).Log("msg", "The fleet fits its interval again", "accounts", accounts, "cycle", c.last.Round(time.Second), "interval", c.interval)
}

// Fleet is the fleet's figures as the scheduler last measured them: how
// many accounts it refreshes, how many wait for their turn now, and how
// long the last cycle over all of them took.
func (s *Scheduler) Fleet() analytics.Fleet {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	f := analytics.Fleet{
		Accounts:      len(s.pollers),
		Waiting:       s.due.waiting(now),
		Refreshing:    s.running,
		Cycles:        s.cycle.count,
		CycleDuration: s.cycle.last,
		CycleRequests: s.cycle.sent,
	}
	for _, p := range s.pollers {
		f.CycleInterval = max(f.CycleInterval, p.account.Interval)
	}
	if !s.cycle.started.IsZero() {
		f.CycleElapsed = now.Sub(s.cycle.started)
	}
	return f
}
