package scheduler

import (
	"maps"
	"slices"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// series names one series of a family: a measure and its breakdown.
type series struct {
	measure    analytics.Measure
	dimensions analytics.Dimensions
}

// ledger keeps one family's month-to-date sums: the sum, per series, of
// every bucket that started in the current UTC month and ended by the
// cutoff, as the API reports them. Buckets that can still change (the
// recent ones; a template's reads grow for a week) are kept one by one and
// fetched again on every refresh; older ones are folded into a sum and never
// asked for again. Only its poller's goroutine touches it.
type ledger struct {
	g provider.Granularity
	// month is the start of the month summed; zero before the first
	// refresh.
	month time.Time
	// through divides the buckets: those that start before it are final
	// and summed in settled, the later ones are kept in open.
	through time.Time
	// The series the month has had, numbered in the order first seen:
	// keys numbers them, names holds each once. A fleet's ledgers hold
	// most of the exporter's memory, so a bucket keeps its readings in a
	// slice by number, not in a map by name.
	keys  map[string]int32
	names []series
	// buf is where keys are spelled, to look them up without allocating.
	buf []byte
	// settled is the sum of the final buckets, by series number; open
	// the readings of each bucket that can still change, by series
	// number (a series not in a bucket's answer reads zero there).
	settled []float64
	open    map[time.Time][]reading
	// fetched is the cutoff of the last successful fetch of the recent
	// buckets; gaps are the ranges of the month never fetched: the month
	// so far after a start, or the time a failing API kept the exporter
	// from fetching.
	fetched time.Time
	gaps    []gap
	// complete says the month so far has been fetched in full once: from
	// then on the sums are exposed. A gap that opens later (an outage) only
	// adds to them once it is filled.
	complete bool
	// revisions counts downward revisions since the start.
	revisions float64
}

// reading is one series in one bucket: the highest value the API reported,
// which is what counts, and the last one, to tell a new downward revision
// from one already counted.
type reading struct{ high, last float64 }

type gap struct{ from, to time.Time }

func newLedger(g provider.Granularity) *ledger {
	return &ledger{g: g, keys: map[string]int32{}, open: map[time.Time][]reading{}}
}

// number is the series' number, the next one for a series not seen yet.
func (l *ledger) number(k series) int32 {
	l.buf = spell(l.buf[:0], k)
	if n, ok := l.keys[string(l.buf)]; ok {
		return n
	}
	n := int32(len(l.names))
	l.keys[string(l.buf)] = n
	l.names = append(l.names, k)
	l.settled = append(l.settled, 0)
	return n
}

// spell appends a series' name, short: its measure and the dimensions it
// has, each ended by a zero byte, to buf.
func spell(buf []byte, k series) []byte {
	d := &k.dimensions
	buf = append(buf, byte(k.measure))
	for _, v := range [...]string{d.PhoneNumber, d.Country, d.ConversationCategory, d.ConversationType, d.ConversationDirection,
		d.PricingCategory, d.PricingType, d.Tier, d.Direction, d.TemplateID, d.ProductType, d.ButtonType, d.ButtonContent, d.CostType} {
		buf = append(append(buf, v...), 0)
	}
	return buf
}

// startMonth moves the ledger to the month of cutoff. At a month's start the
// sums begin again from nothing; changes to the previous month's buckets
// after that are not counted.
func (l *ledger) startMonth(cutoff time.Time) {
	month := bucket.Start(cutoff, provider.Month, time.UTC)
	switch {
	case l.month.IsZero():
		l.month, l.through = month, month
	case month.After(l.month):
		l.month, l.through = month, month
		// A new month: the series start afresh too, so that one that
		// had traffic last month only is not carried along as 0.
		clear(l.keys)
		l.names, l.settled = nil, nil
		// Every open bucket is of the month before: no bucket of this
		// month had ended by the last cutoff of that one.
		clear(l.open)
		var kept []gap
		for _, g := range l.gaps {
			if g.to.After(month) {
				kept = append(kept, gap{from: later(g.from, month), to: g.to})
			}
		}
		l.gaps = kept
	}
}

// plan records the range a refresh is about to fetch as recent and returns
// the gaps to fetch before it: on the first refresh the month up to the
// recent range, after an outage the buckets between the last fetch and it.
func (l *ledger) plan(recentFrom time.Time) []gap {
	if l.fetched.IsZero() {
		l.addGap(l.month, recentFrom)
	} else {
		l.addGap(bucket.Start(l.fetched, l.g, time.UTC), recentFrom)
	}
	return append([]gap(nil), l.gaps...)
}

func (l *ledger) addGap(from, to time.Time) {
	from = later(from, l.through)
	if !to.After(from) {
		return
	}
	if n := len(l.gaps); n > 0 && !l.gaps[n-1].to.Before(from) {
		l.gaps[n-1].to = later(l.gaps[n-1].to, to)
		return
	}
	l.gaps = append(l.gaps, gap{from, to})
}

// fill removes a fetched range from the gaps, in whatever order the ranges
// come in.
func (l *ledger) fill(from, to time.Time) {
	var kept []gap
	for _, g := range l.gaps {
		if !g.to.After(from) || !to.After(g.from) {
			kept = append(kept, g) // no overlap
			continue
		}
		if g.from.Before(from) {
			kept = append(kept, gap{g.from, from})
		}
		if to.Before(g.to) {
			kept = append(kept, gap{to, g.to})
		}
	}
	l.gaps = kept
}

// absorb takes the samples of a fetch that covered every bucket from from
// until cutoff, in buckets of spec (half hours, or days where the month so
// far is asked for in days): each reading keeps its highest value; a value
// lower than the last one is a downward revision, counted but not followed;
// and a series the API no longer reports in a bucket it still answers for
// reads 0 there, which is such a revision too.
func (l *ledger) absorb(samples []sample, from, cutoff time.Time, spec bucket.Spec) {
	// Rows of one series in one bucket add up first: that happens when a
	// dimension that was not asked for is masked out.
	answered := map[time.Time]map[int32]float64{}
	for _, s := range samples {
		start := bucketStart(s, spec)
		if !s.Measure.Additive() || s.end.IsZero() || s.end.After(cutoff) || start.Before(l.through) || start.Before(from) {
			continue
		}
		if answered[start] == nil {
			answered[start] = map[int32]float64{}
		}
		answered[start][l.number(series{s.Measure, s.Dimensions})] += s.Value.Value
	}
	for start, values := range answered {
		b := l.open[start]
		if n := len(l.names); len(b) < n {
			b = append(b, make([]reading, n-len(b))...)
		}
		for n, v := range values {
			r := &b[n]
			if v < r.last {
				l.revisions++
			}
			r.last, r.high = v, max(r.high, v)
		}
		for n := range b {
			if _, ok := values[int32(n)]; !ok && b[n].last > 0 {
				l.revisions++
				b[n].last = 0
			}
		}
		l.open[start] = b
	}
}

// settle folds the open buckets that start before before into the sums:
// they are final and will not be fetched again.
func (l *ledger) settle(before time.Time) {
	if len(l.gaps) > 0 && l.gaps[0].from.Before(before) {
		before = l.gaps[0].from
	}
	if !before.After(l.through) {
		return
	}
	// In time order, as monthToDate adds: floating-point sums then come
	// out the same whatever refreshes the buckets were settled in.
	settled := 0
	for _, start := range l.starts() {
		if start.Before(before) {
			for n, r := range l.open[start] {
				l.settled[n] += r.high
			}
			delete(l.open, start)
			settled++
		}
	}
	if settled > 2*len(l.open) {
		// A map keeps the room it once needed (maps.Clone too): after a
		// month of half hours (a start's) only a few hours' stay open.
		open := make(map[time.Time][]reading, len(l.open))
		maps.Copy(open, l.open)
		l.open = open
	}
	l.through = before
}

// monthToDate is the sums, once the month so far has been fetched in full.
func (l *ledger) monthToDate() *analytics.MonthToDate {
	if !l.complete {
		return nil
	}
	sums := slices.Clone(l.settled)
	for _, start := range l.starts() {
		for n, r := range l.open[start] {
			sums[n] += r.high
		}
	}
	m := &analytics.MonthToDate{Month: l.month, DownwardRevisions: l.revisions, Values: make([]analytics.Value, len(sums))}
	for n, v := range sums {
		k := l.names[n]
		m.Values[n] = analytics.Value{Measure: k.measure, Dimensions: k.dimensions, Value: v}
	}
	return m
}

// starts lists the open buckets' starts in time order.
func (l *ledger) starts() []time.Time {
	return slices.SortedFunc(maps.Keys(l.open), time.Time.Compare)
}

// bucketStart is when a sample's bucket of spec starts; an API that left
// the start out is trusted for the end alone.
func bucketStart(s sample, spec bucket.Spec) time.Time {
	if !s.start.IsZero() {
		return s.start
	}
	return bucket.Start(s.end.Add(-time.Nanosecond), spec.Granularity, spec.Location).UTC()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
