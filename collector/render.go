package collector

import (
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// render builds the metrics of one snapshot: the account's health (the
// account, each family's refresh, its phone numbers' and templates' states,
// the API requests and rate-limit usage), and each family's data (its
// newest bucket, its month-to-date counters).
func render(s *analytics.Snapshot) *account {
	id := s.WABAID
	a := &account{wabaID: id, maxAge: s.MaxDataAge}
	a.health = []prometheus.Metric{
		prometheus.MustNewConstMetric(accountInfoDesc, prometheus.GaugeValue, 1, id, s.Name, s.Provider, s.Currency),
	}
	a.health = append(a.health, renderVersion(s)...)
	gauge := func(out *[]prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
		*out = append(*out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{id}, labels...)...))
	}
	for _, f := range provider.Families {
		r := s.Families[f]
		if r == nil {
			continue
		}
		success := 0.0
		if r.Success {
			success = 1
		}
		gauge(&a.health, refreshSuccessDesc, success, string(f))
		gauge(&a.health, familyAvailableDesc, available(r), string(f), r.Unavailable)
		gauge(&a.health, refreshDurationDesc, r.Duration.Seconds(), string(f))
		if r.LastSuccess.IsZero() {
			continue // no data yet
		}
		gauge(&a.health, refreshLastSuccessDesc, float64(r.LastSuccess.UnixNano())/1e9, string(f))
		fd := familyData{family: f, lastSuccess: r.LastSuccess}
		if !r.BucketEnd.IsZero() {
			gauge(&fd.data, bucketEndDesc, float64(r.BucketEnd.Unix()), string(f))
		}
		for _, v := range r.Values {
			m := measures[v.Measure]
			gauge(&fd.data, m.newest, v.Value, m.labels(v.Dimensions)...)
		}
		if mtd := r.MonthToDate; mtd != nil {
			for _, v := range mtd.Values {
				if m := measures[v.Measure]; m.total != nil {
					fd.data = append(fd.data, prometheus.MustNewConstMetric(m.total, prometheus.CounterValue, v.Value,
						append([]string{id}, m.labels(v.Dimensions)...)...))
				}
			}
			a.health = append(a.health, prometheus.MustNewConstMetric(revisionsDesc, prometheus.CounterValue, mtd.DownwardRevisions, id, string(f)))
		}
		a.families = append(a.families, fd)
	}
	a.health = append(a.health, renderHealth(s)...)
	for _, counts := range []struct {
		desc   *prometheus.Desc
		counts map[analytics.Outcome]float64
	}{{requestsDesc, s.Requests}, {errorsDesc, s.Errors}} {
		// Sorted, so that the output does not change with map order.
		for _, o := range slices.SortedFunc(maps.Keys(counts.counts), compareOutcomes) {
			a.health = append(a.health, prometheus.MustNewConstMetric(counts.desc, prometheus.CounterValue, counts.counts[o], id, string(o.Family), o.Code))
		}
	}
	for _, f := range provider.Families {
		if _, ok := s.DroppedSeries[f]; ok || s.Families[f] != nil {
			gauge(&a.health, droppedDesc, float64(s.DroppedSeries[f]), string(f))
		}
	}
	for _, u := range s.Usage {
		for _, r := range []struct {
			resource string
			percent  float64
		}{{"call_count", u.CallCount}, {"total_cputime", u.TotalCPUTime}, {"total_time", u.TotalTime}} {
			if r.percent >= 0 { // negative: not reported
				gauge(&a.health, usageDesc, r.percent/100, u.Type, r.resource)
			}
		}
		gauge(&a.health, regainAccessDesc, u.RegainAccess.Seconds(), u.Type)
	}
	return a
}

func compareOutcomes(a, b analytics.Outcome) int {
	if c := strings.Compare(string(a.Family), string(b.Family)); c != 0 {
		return c
	}
	return strings.Compare(a.Code, b.Code)
}

// available is 1 for a family the API serves, 0 for one it says it does not.
func available(r *analytics.Refresh) float64 {
	if r.Unavailable != "" {
		return 0
	}
	return 1
}
