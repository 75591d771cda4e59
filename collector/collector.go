// Package collector refreshes WhatsApp analytics in the background and serves
// the latest results to Prometheus.
//
// Each account (WABA) refreshes on its own schedule in its own goroutine.
// After every refresh it swaps in a new immutable snapshot holding ready-made
// const metrics, so that a scrape only copies pointers: it never waits for,
// nor triggers, a call to the remote API.
package collector

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// Options are the collector's collaborators; the zero value is usable.
type Options struct {
	Logger log.Logger
	// Now is the clock that decides which buckets are complete; time.Now
	// when nil.
	Now func() time.Time
	// sleep waits between refreshes; tests replace it to observe backoff.
	sleep func(context.Context, time.Duration) bool
}

// Collector is a prometheus.Collector over the accounts' snapshots, and the
// scheduler that keeps those snapshots fresh.
type Collector struct {
	accounts []*account
	self     *selfMetrics
	logger   log.Logger
	now      func() time.Time
	sleep    func(context.Context, time.Duration) bool
}

var _ prometheus.Collector = (*Collector)(nil)

// New returns a collector for targets. Nothing is fetched until Run or
// RefreshAll.
func New(targets []Target, opts Options) *Collector {
	c := &Collector{
		self:   newSelfMetrics(),
		logger: opts.Logger,
		now:    opts.Now,
		sleep:  opts.sleep,
	}
	if c.logger == nil {
		c.logger = log.NewNopLogger()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	for _, t := range targets {
		c.accounts = append(c.accounts, newAccount(t, c.logger, c.self))
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
	for _, m := range c.self.collectors() {
		m.Describe(ch)
	}
}

// Collect implements prometheus.Collector. It only reads snapshots.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, a := range c.accounts {
		for _, m := range a.snapshot.Load().metrics {
			ch <- m
		}
	}
	for _, m := range c.self.collectors() {
		m.Collect(ch)
	}
}

// Run refreshes every account on its own schedule until ctx ends, and
// returns once all refreshes have stopped.
func (c *Collector) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, a := range c.accounts {
		wg.Go(func() {
			// The first refresh starts at once, so that a new exporter has
			// data within seconds; the shared throttle spreads a large
			// fleet's first round, and the jitter below its later ones.
			for {
				delay := c.refresh(ctx, a)
				if ctx.Err() != nil || !c.sleep(ctx, delay) {
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
func (c *Collector) RefreshAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, a := range c.accounts {
		wg.Go(func() { c.refresh(ctx, a) })
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

// snapshot is everything one account exports, built after each refresh and
// never modified afterwards.
type snapshot struct {
	families map[provider.Family]familyStatus
	metrics  []prometheus.Metric
}

type familyStatus struct {
	attempted   bool
	success     bool
	lastSuccess time.Time
	duration    time.Duration
	data        family
}

type atomicSnapshot = atomic.Pointer[snapshot]

func newSnapshot(cfg config.Account) *snapshot {
	s := &snapshot{families: map[provider.Family]familyStatus{}}
	s.build(cfg)
	return s
}

// next returns a copy to build the following snapshot in.
func (s *snapshot) next() *snapshot {
	n := &snapshot{families: make(map[provider.Family]familyStatus, len(s.families))}
	for f, st := range s.families {
		n.families[f] = st
	}
	return n
}

func (s *snapshot) build(cfg config.Account) {
	id := cfg.WABAID
	metrics := []prometheus.Metric{
		prometheus.MustNewConstMetric(accountInfoDesc, prometheus.GaugeValue, 1, id, labelValue(cfg.Name), cfg.Provider),
	}
	for _, f := range provider.Families {
		st, ok := s.families[f]
		if !ok || !st.attempted {
			continue
		}
		success := 0.0
		if st.success {
			success = 1
		}
		metrics = append(metrics,
			prometheus.MustNewConstMetric(refreshSuccessDesc, prometheus.GaugeValue, success, id, string(f)),
			prometheus.MustNewConstMetric(refreshDurationDesc, prometheus.GaugeValue, st.duration.Seconds(), id, string(f)),
		)
		if !st.lastSuccess.IsZero() {
			metrics = append(metrics, prometheus.MustNewConstMetric(refreshLastSuccessDesc, prometheus.GaugeValue,
				float64(st.lastSuccess.UnixNano())/1e9, id, string(f)))
		}
		if !st.data.bucketEnd.IsZero() {
			metrics = append(metrics, prometheus.MustNewConstMetric(bucketEndDesc, prometheus.GaugeValue,
				float64(st.data.bucketEnd.Unix()), id, string(f)))
		}
		metrics = append(metrics, st.data.metrics...)
	}
	s.metrics = metrics
}
