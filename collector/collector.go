// Package collector serves the accounts' analytics to Prometheus. It turns
// each analytics.Snapshot the scheduler publishes into ready-made const
// metrics, once, and swaps them in atomically, so that a scrape only copies
// pointers: it never waits for, nor triggers, a call to the remote API. It
// knows Prometheus and nothing of the APIs: no rule of theirs, no credential.
package collector

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
)

// Collector is a prometheus.Collector over the latest snapshot of every
// account.
type Collector struct {
	mu sync.RWMutex
	// metrics holds each account's metrics, by WABA ID. A slice is never
	// changed once stored: Publish replaces it whole.
	metrics map[string][]prometheus.Metric
	// order keeps the accounts in the order they were first published.
	order []string
}

var _ prometheus.Collector = (*Collector)(nil)

// New returns a collector with no accounts yet.
func New() *Collector {
	return &Collector{metrics: map[string][]prometheus.Metric{}}
}

// Publish replaces an account's metrics with those of s. It is called by the
// scheduler after each refresh, and may run while Prometheus scrapes.
func (c *Collector) Publish(s *analytics.Snapshot) {
	metrics := render(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, known := c.metrics[s.WABAID]; !known {
		c.order = append(c.order, s.WABAID)
	}
	c.metrics[s.WABAID] = metrics
}

// Forget drops an account and all its series, for an account that is no
// longer configured.
func (c *Collector) Forget(wabaID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.metrics, wabaID)
	c.order = slices.DeleteFunc(c.order, func(id string) bool { return id == wabaID })
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector. It only reads what Publish built.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	all := make([][]prometheus.Metric, 0, len(c.order))
	for _, id := range c.order {
		all = append(all, c.metrics[id])
	}
	c.mu.RUnlock()
	for _, metrics := range all {
		for _, m := range metrics {
			ch <- m
		}
	}
}
