package fakeapi

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// span is one aggregation interval of an answer.
type span struct{ start, end time.Time }

// buckets lists the complete buckets of granularity g that start in
// [start, end), days and months beginning at midnight in loc. The fake
// knows a bucket only once it has ended: a real API fills buckets in late,
// and the exporter must cope with the newest ones missing. The Graph API's
// spellings (DAY, MONTH) are taken too.
func buckets(start, end, now time.Time, g string, loc *time.Location) []span {
	gran := granularity(g)
	var out []span
	for b := bucket.Start(start, gran, loc); b.Before(end); {
		next := bucket.Next(b, gran, loc)
		if next.After(now) {
			break
		}
		out = append(out, span{b, next})
		b = next
	}
	return out
}

func granularity(g string) provider.Granularity {
	switch g {
	case "DAY", "DAILY":
		return provider.Day
	case "MONTH", "MONTHLY":
		return provider.Month
	}
	return provider.HalfHour
}

// day is the UTC day that holds t.
func day(t time.Time) time.Time { return bucket.Start(t, provider.Day, time.UTC) }

// halfHours calls f for every half hour of b.
func (b span) halfHours(f func(time.Time)) {
	for t := b.start; t.Before(b.end); t = t.Add(halfHour) {
		f(t)
	}
}

// dataPoint is one entry of a data_points array. Keys a request did not ask
// for are left out, as the API leaves them out.
type dataPoint map[string]any

// aggregate sums values by a key of masked breakdown values and returns one
// data point per key with a non-zero count, in a stable order.
type aggregate struct {
	keys   map[string][]string // key -> the breakdown values
	counts map[string]float64
	costs  map[string]float64
}

func newAggregate() *aggregate {
	return &aggregate{keys: map[string][]string{}, counts: map[string]float64{}, costs: map[string]float64{}}
}

func (a *aggregate) add(values []string, count, cost float64) {
	if count == 0 {
		return
	}
	k := strings.Join(values, "\x00")
	if _, ok := a.keys[k]; !ok {
		a.keys[k] = append([]string(nil), values...)
	}
	a.counts[k] += count
	a.costs[k] += cost
}

func (a *aggregate) each(f func(values []string, count, cost float64)) {
	keys := make([]string, 0, len(a.keys))
	for k := range a.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f(a.keys[k], a.counts[k], math.Round(a.costs[k]*10000)/10000)
	}
}

// mask keeps a breakdown value only when its dimension was asked for.
func mask(dims []string, dim, v string) string {
	if contains(dims, dim) {
		return v
	}
	return ""
}
