// Package collector serves the accounts' analytics to Prometheus. It turns
// each analytics.Snapshot the scheduler publishes into ready-made const
// metrics, once, and swaps them in atomically, so that a scrape only copies
// pointers: it never waits for, nor triggers, a call to the remote API. It
// knows Prometheus and nothing of the APIs: no rule of theirs, no credential.
package collector

import (
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// Collector is a prometheus.Collector over the latest snapshot of every
// account.
type Collector struct {
	now func() time.Time

	mu sync.RWMutex
	// accounts holds each account's metrics, by WABA ID. They are never
	// changed once stored: Publish replaces them whole.
	accounts map[string]*account
	// order keeps the accounts in the order they were first published.
	order []string
}

// account is one account's metrics: its health, always served, and the data
// of each family, served while the family's last successful refresh is
// younger than maxAge.
type account struct {
	wabaID   string
	health   []prometheus.Metric
	families []familyData
	maxAge   time.Duration
}

type familyData struct {
	family      provider.Family
	lastSuccess time.Time
	data        []prometheus.Metric
}

var _ prometheus.Collector = (*Collector)(nil)

// Options are the collector's collaborators; the zero value is usable.
type Options struct {
	// Now is the clock that the age of the data is measured with (the
	// scheduler's); time.Now when nil.
	Now func() time.Time
}

// New returns a collector with no accounts yet.
func New(opts Options) *Collector {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Collector{now: opts.Now, accounts: map[string]*account{}}
}

// Publish replaces an account's metrics with those of s. It is called by the
// scheduler after each step of a refresh, and may run while Prometheus
// scrapes.
func (c *Collector) Publish(s *analytics.Snapshot) {
	a := render(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, known := c.accounts[s.WABAID]; !known {
		c.order = append(c.order, s.WABAID)
	}
	c.accounts[s.WABAID] = a
}

// Forget drops an account and all its series, for an account that is no
// longer configured.
func (c *Collector) Forget(wabaID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.accounts, wabaID)
	c.order = slices.DeleteFunc(c.order, func(id string) bool { return id == wabaID })
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector. It reads what Publish built, and
// leaves out the values of families whose last successful refresh is too
// old to pass for current: a failed refresh keeps serving the last good
// values, but not forever.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	all := make([]*account, 0, len(c.order))
	for _, id := range c.order {
		all = append(all, c.accounts[id])
	}
	c.mu.RUnlock()
	now := c.now()
	for _, a := range all {
		for _, m := range a.health {
			ch <- m
		}
		for _, f := range a.families {
			if f.lastSuccess.IsZero() {
				continue
			}
			age := now.Sub(f.lastSuccess)
			ch <- prometheus.MustNewConstMetric(dataAgeDesc, prometheus.GaugeValue, max(age.Seconds(), 0), a.wabaID, string(f.family))
			if a.maxAge > 0 && age > a.maxAge {
				continue
			}
			for _, m := range f.data {
				ch <- m
			}
		}
	}
}
