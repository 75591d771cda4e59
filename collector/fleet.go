package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
)

// The exporter's fleet: the businesses it lists, this replica's shard and
// accounts, and whether the fleet fits its interval. Every replica lists
// every business, so the discovery figures repeat on each: take their max
// across replicas, never their sum; the accounts and the cycle are each
// replica's own.
var (
	discoveryWABAsDesc = newDesc("exporter_discovery_wabas",
		"WABAs the business's last successful listing found that the filters keep, before sharding (the same on every replica).",
		"business", "provider")
	discoveryListedDesc = newDesc("exporter_discovery_listed_wabas",
		"WABAs the business's last successful listing found, before the filters.", "business", "provider")
	discoverySuccessDesc = newDesc("exporter_discovery_success",
		"Whether the business's last listing succeeded (1) or failed (0: its last good list is kept).", "business", "provider")
	discoveryLastSuccessDesc = newDesc("exporter_discovery_last_success_timestamp_seconds",
		"When the business's WABAs were last listed successfully, as a Unix timestamp.", "business", "provider")
	accountsDesc = newDesc("exporter_accounts",
		"Accounts this replica exports: listed in the configuration, or discovered from a business, in its shard.", "source")
	shardDesc = newDesc("exporter_shard_info",
		"This replica's shard of the WABAs: the shard-th of total_shards; always 1.", "shard", "total_shards")
	refreshesWaitingDesc = newDesc("exporter_refreshes_waiting",
		"Accounts whose refresh is due and waits for a place: more than a few for long means the fleet does not fit the rate.")
	refreshesRunningDesc = newDesc("exporter_refreshes_running", "Accounts refreshing now.")
	cycleDurationDesc    = newDesc("exporter_cycle_duration_seconds",
		"How long the last cycle of refreshing every account once took; the first after a start is how long until every account had data.")
	cycleIntervalDesc = newDesc("exporter_cycle_interval_seconds",
		"The longest interval of the accounts: what a cycle must fit within to refresh every account on time.")
	cycleElapsedDesc = newDesc("exporter_cycle_elapsed_seconds",
		"How long the cycle under way has run: a cycle that does not fit its interval shows here before it ends.")
	cycleRequestsDesc = newDesc("exporter_cycle_requests",
		"API requests of the last cycle, of every account.")
	cyclesDesc = newDesc("exporter_cycles_total", "Cycles of refreshing every account once, since the start.")
)

// newDesc describes one of the fleet's metrics. They are few, read at
// scrape time: registered as a plain prometheus.Collector, not pre-rendered
// as the accounts' series are.
func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

// Fleet is a prometheus.Collector of the fleet's figures, read at scrape
// time from the fleet and the scheduler (a few series, however large the
// fleet).
type Fleet struct {
	discovery func() analytics.Discovery
	schedule  func() analytics.Fleet
}

var _ prometheus.Collector = (*Fleet)(nil)

// NewFleet returns the collector of the figures discovery and schedule
// report.
func NewFleet(discovery func() analytics.Discovery, schedule func() analytics.Fleet) *Fleet {
	return &Fleet{discovery: discovery, schedule: schedule}
}

// Describe implements prometheus.Collector.
func (f *Fleet) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		discoveryWABAsDesc, discoveryListedDesc, discoverySuccessDesc, discoveryLastSuccessDesc, accountsDesc, shardDesc,
		refreshesWaitingDesc, refreshesRunningDesc, cycleDurationDesc, cycleIntervalDesc, cycleElapsedDesc, cycleRequestsDesc, cyclesDesc,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (f *Fleet) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	d := f.discovery()
	for _, b := range d.Businesses {
		if !b.Listings {
			continue // not listed yet: nothing known
		}
		success := 0.0
		if b.Success {
			success = 1
		}
		gauge(discoverySuccessDesc, success, b.Label, b.Provider)
		if b.LastSuccess.IsZero() {
			continue
		}
		gauge(discoveryWABAsDesc, float64(b.Kept), b.Label, b.Provider)
		gauge(discoveryListedDesc, float64(b.Listed), b.Label, b.Provider)
		gauge(discoveryLastSuccessDesc, float64(b.LastSuccess.UnixNano())/1e9, b.Label, b.Provider)
	}
	gauge(accountsDesc, float64(d.Configured), "configured")
	gauge(accountsDesc, float64(d.Discovered), "discovered")
	gauge(shardDesc, 1, strconv.Itoa(d.ShardIndex), strconv.Itoa(max(d.ShardCount, 1)))

	s := f.schedule()
	gauge(refreshesWaitingDesc, float64(s.Waiting))
	gauge(refreshesRunningDesc, float64(s.Refreshing))
	ch <- prometheus.MustNewConstMetric(cyclesDesc, prometheus.CounterValue, float64(s.Cycles))
	if s.CycleInterval > 0 {
		gauge(cycleIntervalDesc, s.CycleInterval.Seconds())
		gauge(cycleElapsedDesc, s.CycleElapsed.Seconds())
	}
	if s.Cycles > 0 {
		gauge(cycleDurationDesc, s.CycleDuration.Seconds())
		gauge(cycleRequestsDesc, s.CycleRequests)
	}
}
