package collector

import (
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// render builds the metrics of one snapshot: the account, then for each
// family tried its health and its newest bucket's values, then the API
// requests and rate-limit usage.
func render(s *analytics.Snapshot) []prometheus.Metric {
	id := s.WABAID
	out := []prometheus.Metric{
		prometheus.MustNewConstMetric(accountInfoDesc, prometheus.GaugeValue, 1, id, s.Name, s.Provider, s.Currency),
	}
	out = append(out, renderVersion(s)...)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{id}, labels...)...))
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
		gauge(refreshSuccessDesc, success, string(f))
		gauge(familyAvailableDesc, available(r), string(f), r.Unavailable)
		gauge(refreshDurationDesc, r.Duration.Seconds(), string(f))
		if !r.LastSuccess.IsZero() {
			gauge(refreshLastSuccessDesc, float64(r.LastSuccess.UnixNano())/1e9, string(f))
		}
		if !r.BucketEnd.IsZero() {
			gauge(bucketEndDesc, float64(r.BucketEnd.Unix()), string(f))
		}
		for _, v := range r.Values {
			m := measures[v.Measure]
			gauge(m.newest, v.Value, m.labels(v.Dimensions)...)
		}
		if mtd := r.MonthToDate; mtd != nil {
			for _, v := range mtd.Values {
				if m := measures[v.Measure]; m.total != nil {
					out = append(out, prometheus.MustNewConstMetric(m.total, prometheus.CounterValue, v.Value,
						append([]string{id}, m.labels(v.Dimensions)...)...))
				}
			}
			out = append(out, prometheus.MustNewConstMetric(revisionsDesc, prometheus.CounterValue, mtd.DownwardRevisions, id, string(f)))
		}
	}
	for _, counts := range []struct {
		desc   *prometheus.Desc
		counts map[analytics.Outcome]float64
	}{{requestsDesc, s.Requests}, {errorsDesc, s.Errors}} {
		// Sorted, so that the output does not change with map order.
		for _, o := range slices.SortedFunc(maps.Keys(counts.counts), compareOutcomes) {
			out = append(out, prometheus.MustNewConstMetric(counts.desc, prometheus.CounterValue, counts.counts[o], id, string(o.Family), o.Code))
		}
	}
	for _, u := range s.Usage {
		for _, r := range []struct {
			resource string
			percent  float64
		}{{"call_count", u.CallCount}, {"total_cputime", u.TotalCPUTime}, {"total_time", u.TotalTime}} {
			if r.percent >= 0 { // negative: not reported
				gauge(usageDesc, r.percent/100, u.Type, r.resource)
			}
		}
		gauge(regainAccessDesc, u.RegainAccess.Seconds(), u.Type)
	}
	return out
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
