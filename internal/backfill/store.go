package backfill

import (
	"slices"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// store is what was fetched of one WABA: each family's buckets, and the
// ranges fetched in full. Series are interned, so that a half year of
// buckets holds a number per value rather than a copy of its labels.
type store struct {
	keys     []seriesKey
	ids      map[seriesKey]int32
	families map[provider.Family]*familyStore
}

type seriesKey struct {
	measure    analytics.Measure
	dimensions analytics.Dimensions
}

// familyStore is one family's buckets and the ranges fetched.
type familyStore struct {
	buckets []storedBucket
	// covered are the ranges fetched in full, by the granularity of
	// their buckets: each a chunk's (From, To].
	covered map[provider.Granularity][]interval
}

// storedBucket is one bucket, in Unix seconds.
type storedBucket struct {
	start, end  int64
	granularity provider.Granularity
	points      []point
}

type point struct {
	id    int32
	value float64
}

// interval is the range (from, to], in Unix seconds.
type interval struct{ from, to int64 }

func newStore() *store {
	return &store{ids: map[seriesKey]int32{}, families: map[provider.Family]*familyStore{}}
}

func (s *store) family(f provider.Family) *familyStore {
	fs := s.families[f]
	if fs == nil {
		fs = &familyStore{covered: map[provider.Granularity][]interval{}}
		s.families[f] = fs
	}
	return fs
}

func (s *store) id(k seriesKey) int32 {
	id, ok := s.ids[k]
	if !ok {
		id = int32(len(s.keys))
		s.keys = append(s.keys, k)
		s.ids[k] = id
	}
	return id
}

// add keeps the answer to one chunk of family f in buckets of g.
func (s *store) add(f provider.Family, g provider.Granularity, from, to time.Time, buckets []scheduler.HistoryBucket) {
	fs := s.family(f)
	fs.covered[g] = append(fs.covered[g], interval{from.Unix(), to.Unix()})
	for _, b := range buckets {
		sb := storedBucket{start: b.Start.Unix(), end: b.End.Unix(), granularity: g, points: make([]point, len(b.Values))}
		for i, v := range b.Values {
			sb.points[i] = point{s.id(seriesKey{v.Measure, v.Dimensions}), v.Value}
		}
		fs.buckets = append(fs.buckets, sb)
	}
}

// missing returns what of need (in buckets of g) no chunk covered yet, in
// order.
func (fs *familyStore) missing(g provider.Granularity, need interval) []interval {
	covered := slices.Clone(fs.covered[g])
	slices.SortFunc(covered, func(a, b interval) int { return int(a.from - b.from) })
	out := []interval{need}
	for _, c := range covered {
		var next []interval
		for _, m := range out {
			if c.to <= m.from || c.from >= m.to {
				next = append(next, m)
				continue
			}
			if m.from < c.from {
				next = append(next, interval{m.from, c.from})
			}
			if c.to < m.to {
				next = append(next, interval{c.to, m.to})
			}
		}
		out = next
	}
	return out
}
