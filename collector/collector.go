// Package collector serves the accounts' analytics to Prometheus. It renders
// each analytics.Snapshot the scheduler publishes into exposition text, once,
// and swaps it in atomically, so that a scrape only copies bytes: it never
// waits for, nor triggers, a call to the remote API, and it encodes nothing
// but the data age of each family. It knows Prometheus and nothing of the
// APIs: no rule of theirs, no credential.
//
// Handler serves /metrics. The Collector is a prometheus.Collector too, for
// tests and for whoever registers it: Collect turns the same snapshots into
// const metrics on demand, through the same walk over each snapshot
// (render.go) that the pre-rendered lines come from. Keeping the snapshots
// for that costs next to nothing, since the scheduler keeps their values
// anyway, and it lets the tests hold the hand-written text against what
// client_golang itself makes of the same series (handler_test.go).
package collector

import (
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// Collector holds the latest snapshot of every account, pre-rendered.
type Collector struct {
	now func() time.Time

	mu sync.RWMutex
	// accounts holds each account, by WABA ID.
	accounts map[string]*account
	// order keeps the accounts in the order they were first published:
	// the order of their lines within each family on /metrics.
	order []string
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

// Publish replaces an account's series with those of s, which must not
// change afterwards. It is called by the scheduler after each step of a
// refresh, and may run while Prometheus scrapes.
func (c *Collector) Publish(s *analytics.Snapshot) {
	a := prerender(s)
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

// published returns the accounts, in the order they were first published.
func (c *Collector) published() []*account {
	c.mu.RLock()
	defer c.mu.RUnlock()
	all := make([]*account, 0, len(c.order))
	for _, id := range c.order {
		all = append(all, c.accounts[id])
	}
	return all
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range allFamilies {
		ch <- f.desc
	}
}

// Collect implements prometheus.Collector: the series /metrics serves, as
// const metrics built now. It leaves out the values of families whose last
// successful refresh is too old to pass for current, as /metrics does.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	for _, a := range c.published() {
		out := metricSender{ch: ch}
		for _, s := range a.successes {
			age := now.Sub(s.at)
			ch <- prometheus.MustNewConstMetric(dataAge.desc, prometheus.GaugeValue, max(age.Seconds(), 0),
				validUTF8(a.snapshot.WABAID), string(provider.Families[s.group]))
			if tooOld(age, a.maxAge) {
				out.hidden |= 1 << s.group
			}
		}
		walk(a.snapshot, &out)
	}
}

// metricSender is the emitter that sends const metrics, but for the data
// of the hidden groups.
type metricSender struct {
	ch     chan<- prometheus.Metric
	hidden uint64
}

func (m *metricSender) series(f *family, group int, value float64, labelValues []string) {
	if group != always && m.hidden&(1<<group) != 0 {
		return
	}
	m.ch <- prometheus.MustNewConstMetric(f.desc, f.valueType(), value, labelValues...)
}
