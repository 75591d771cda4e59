package collector

import (
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// emitter receives the series of a snapshot as walk finds them. The
// pre-renderer (exposition.go) writes them out as text, once per Publish;
// Collect turns them into const metrics. Both see the same series, which is
// what keeps /metrics and the prometheus.Collector alike.
type emitter interface {
	// series is one series: its family, the index in provider.Families of
	// the family whose data it is (always for the account's health), its
	// value, and its label values in the family's label order. The
	// emitter must not keep labelValues: walk reuses it.
	series(f *family, group int, value float64, labelValues []string)
}

// always is the group of the series served whatever the age of the data:
// the account's health, its refreshes', its requests'. The analytics of a
// family are in the family's group, which max_data_age may hold back.
const always = -1

// walker hands a snapshot's series to an emitter, waba_id first.
type walker struct {
	out    emitter
	id     string
	group  int
	labels []string
}

func (w *walker) add(f *family, v float64, labels ...string) {
	w.labels = append(w.labels[:0], w.id)
	for _, l := range labels {
		w.labels = append(w.labels, validUTF8(l))
	}
	w.out.series(f, w.group, v, w.labels)
}

// validUTF8 replaces what is not UTF-8 in a label value. client_golang
// refuses such a value (MustNewConstMetric panics); the scheduler already
// cleans what the APIs send the same way, so this is a second line only.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// walk finds the series of one snapshot: the account's health (the
// account, each family's refresh, its phone numbers' and templates' states,
// the API requests and rate-limit usage), and each family's data (its
// newest bucket, its month-to-date counters). The data age is not among
// them: it is measured when /metrics is read.
func walk(s *analytics.Snapshot, out emitter) {
	id := validUTF8(s.WABAID)
	w := &walker{out: out, id: id, group: always, labels: make([]string, 0, 8)}
	w.add(accountInfo, 1, s.Name, s.Provider, s.Currency)
	w.version(s)
	for group, f := range provider.Families {
		r := s.Families[f]
		if r == nil {
			continue
		}
		w.group = always
		success := 0.0
		if r.Success {
			success = 1
		}
		w.add(refreshSuccess, success, string(f))
		w.add(familyAvailable, available(r), string(f), r.Unavailable)
		w.add(refreshDuration, r.Duration.Seconds(), string(f))
		if r.LastSuccess.IsZero() {
			continue // no data yet
		}
		w.add(refreshLastSuccess, float64(r.LastSuccess.UnixNano())/1e9, string(f))
		w.group = group
		if !r.BucketEnd.IsZero() {
			w.add(bucketEndTimestamp, float64(r.BucketEnd.Unix()), string(f))
		}
		for _, v := range r.Values {
			m := measures[v.Measure]
			w.add(m.newest, v.Value, m.labels(v.Dimensions)...)
		}
		if mtd := r.MonthToDate; mtd != nil {
			for _, v := range mtd.Values {
				if m := measures[v.Measure]; m.total != nil {
					w.add(m.total, v.Value, m.labels(v.Dimensions)...)
				}
			}
			w.group = always
			w.add(downwardRevisions, mtd.DownwardRevisions, string(f))
		}
	}
	w.group = always
	w.health(s)
	for _, counts := range []struct {
		family *family
		counts map[analytics.Outcome]float64
	}{{apiRequests, s.Requests}, {apiErrors, s.Errors}} {
		// Sorted, so that the output does not change with map order.
		for _, o := range slices.SortedFunc(maps.Keys(counts.counts), compareOutcomes) {
			w.add(counts.family, counts.counts[o], string(o.Family), o.Code)
		}
	}
	for _, f := range append(provider.Families[:len(provider.Families):len(provider.Families)], analytics.HealthFamily) {
		if _, ok := s.DroppedSeries[f]; ok || s.Families[f] != nil || f == analytics.HealthFamily && s.Health != nil {
			w.add(seriesDropped, float64(s.DroppedSeries[f]), string(f))
		}
	}
	for _, u := range s.Usage {
		for _, r := range []struct {
			resource string
			percent  float64
		}{{"call_count", u.CallCount}, {"total_cputime", u.TotalCPUTime}, {"total_time", u.TotalTime}} {
			if r.percent >= 0 { // negative: not reported
				w.add(rateLimitUsage, r.percent/100, u.Type, r.resource)
			}
		}
		w.add(regainAccess, u.RegainAccess.Seconds(), u.Type)
	}
}

// familySuccess is when a family with data last refreshed successfully.
type familySuccess struct {
	group int
	at    time.Time
}

// lastSuccesses lists the families of a snapshot that have data, in
// provider.Families' order: those that have a data age.
func lastSuccesses(s *analytics.Snapshot) []familySuccess {
	var out []familySuccess
	for group, f := range provider.Families {
		if r := s.Families[f]; r != nil && !r.LastSuccess.IsZero() {
			out = append(out, familySuccess{group: group, at: r.LastSuccess})
		}
	}
	return out
}

// tooOld reports whether data that last refreshed age ago no longer passes
// for current: a failed refresh keeps serving the last good values, but not
// forever. maxAge 0 is no limit.
func tooOld(age, maxAge time.Duration) bool { return maxAge > 0 && age > maxAge }

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
