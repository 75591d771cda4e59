package fakeapi

import (
	"math"
	"sort"
	"strings"
	"time"
)

// bucket is one aggregation interval of an answer.
type bucket struct{ start, end time.Time }

// buckets lists the complete buckets of granularity g that start in
// [start, end). The fake knows a bucket only once it has ended: a real API
// fills buckets in late, and the exporter must cope with the newest ones
// missing.
func buckets(start, end, now time.Time, g string) []bucket {
	var out []bucket
	b := alignDown(start, g)
	for b.Before(end) {
		next := advance(b, g)
		if next.After(now) {
			break
		}
		out = append(out, bucket{b, next})
		b = next
	}
	return out
}

func alignDown(t time.Time, g string) time.Time {
	t = t.UTC()
	switch g {
	case "DAY", "DAILY":
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case "MONTH", "MONTHLY":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return t.Truncate(halfHour)
}

func advance(t time.Time, g string) time.Time {
	switch g {
	case "DAY", "DAILY":
		return t.AddDate(0, 0, 1)
	case "MONTH", "MONTHLY":
		return t.AddDate(0, 1, 0)
	}
	return t.Add(halfHour)
}

// halfHours calls f for every half hour of b.
func (b bucket) halfHours(f func(time.Time)) {
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
