package backfill

import (
	"fmt"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// window is the instants a run writes samples at: every multiple of step
// (since the Unix epoch) from first to last, in Unix seconds.
type window struct {
	first, last, step int64
}

// newWindow is the grid of [start, end).
func newWindow(start, end time.Time, step time.Duration) (window, error) {
	s := int64(step / time.Second)
	if s <= 0 || step%time.Second != 0 {
		return window{}, fmt.Errorf("the sample interval must be a whole number of seconds, not %s", step)
	}
	w := window{first: ceilTo(start.Unix(), s), step: s}
	w.last = ceilTo(end.Unix(), s) - s
	if w.last < w.first {
		return window{}, fmt.Errorf("the window from %s to %s holds no sample at a %s interval", start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), step)
	}
	return w, nil
}

func ceilTo(t, step int64) int64 {
	r := t % step
	if r < 0 {
		r += step
	}
	if r == 0 {
		return t
	}
	return t + step - r
}

// span is a range of instants [first, last] of one kind of series; empty
// when first > last.
type span struct{ first, last int64 }

func (s span) empty() bool { return s.first > s.last }

// familyPlan is what a run writes and fetches of one family of one WABA.
type familyPlan struct {
	f provider.Family
	// spec is the family's own buckets, in the WABA's zone.
	spec bucket.Spec
	// gauges and counters are the instants its gauges and its counters
	// are written at, once clamped to what the API keeps.
	gauges, counters span
	// clamped says the API's history cut the instants asked for.
	clamped bool
	// needs are the ranges of buckets to fetch: the gauges' and the
	// counters' in the family's own buckets, and what only the counters
	// need in days where that gives the same sums.
	needs []need
}

// need is a range (from, to] of buckets of spec.
type need struct {
	interval
	spec bucket.Spec
}

// historyMargin is how much later than the API's limit the oldest bucket
// asked for starts, so that a run (or its resumption) within that time does
// not see its oldest buckets expire.
const historyMargin = 24 * time.Hour

// planFamily plans family f of a WABA: the instants its gauges and
// counters are written at, and the buckets they need.
func planFamily(h *scheduler.History, f provider.Family, w window, gaugesFrom int64, gauges, counters bool, now time.Time) *familyPlan {
	spec := h.Spec(f)
	fp := &familyPlan{f: f, spec: spec, gauges: span{1, 0}, counters: span{1, 0}}
	delay := int64(spec.Delay / time.Second)
	// from is where the lookback of the gauges at t starts: a refresh at
	// t reports the buckets that end after it and by t minus the delay.
	from := func(t int64) int64 {
		return bucket.Start(time.Unix(t-delay, 0).Add(-spec.Lookback), spec.Granularity, spec.Location).Unix()
	}
	var earliest int64 // the oldest start a request may have; 0: any
	if limit := h.History(f); limit > 0 {
		earliest = now.Add(-limit + historyMargin).Unix()
	}
	queryStart := func(t int64) int64 {
		if spec.WholeDays {
			return bucket.Start(time.Unix(t, 0), provider.Day, spec.Location).Unix()
		}
		return t
	}
	if gauges {
		first := max(w.first, ceilTo(gaugesFrom, w.step))
		if earliest > 0 {
			t := max(first, ceilTo(earliest+delay+int64(spec.Lookback/time.Second), w.step))
			for queryStart(from(t)) < earliest {
				t += w.step
			}
			fp.clamped = fp.clamped || t > first
			first = t
		}
		fp.gauges = span{first, w.last}
	}
	if counters && h.Counters(f) {
		first := w.first
		if earliest > 0 {
			month := bucket.Start(time.Unix(earliest, 0), provider.Month, time.UTC)
			if month.Unix() < earliest {
				month = bucket.Next(month, provider.Month, time.UTC)
			}
			t := max(first, ceilTo(month.Unix()+delay, w.step))
			fp.clamped = fp.clamped || t > first
			first = t
		}
		fp.counters = span{first, w.last}
	}
	own := interval{to: w.last - delay}
	if !fp.gauges.empty() {
		own.from = from(fp.gauges.first)
	}
	if !fp.counters.empty() {
		month := bucket.Start(time.Unix(fp.counters.first-delay, 0), provider.Month, time.UTC).Unix()
		if fp.gauges.empty() || month < own.from {
			days, ok := h.DaySpec(f)
			end := own.to
			if !fp.gauges.empty() {
				end = own.from
			}
			if ok {
				fp.needs = append(fp.needs, dayNeeds(interval{month, end}, spec, days)...)
			} else {
				fp.needs = append(fp.needs, need{interval{month, end}, spec})
			}
			if fp.gauges.empty() {
				own = interval{}
			}
		}
	}
	if own.to > own.from {
		fp.needs = append(fp.needs, need{own, spec})
	}
	return fp
}

// dayNeeds splits a range that only the counters need into days, with half
// hours where days do not fit: before the first midnight and after the last
// one of each UTC month (the WABA's local days straddle its start and end),
// and for the last day of each month, so that the month's last value is
// what the exporter showed, bucket for bucket, before it reset.
func dayNeeds(r interval, halfHours, days bucket.Spec) []need {
	var out []need
	for from := r.from; from < r.to; {
		monthEnd := bucket.Next(bucket.Start(time.Unix(from, 0), provider.Month, time.UTC), provider.Month, time.UTC).Unix()
		to := min(monthEnd, r.to)
		head, whole, tail := scheduler.SplitDays(time.Unix(from, 0), time.Unix(to, 0), days.Location)
		if to == monthEnd && whole[1].After(whole[0]) && !tail[1].After(tail[0]) {
			last := bucket.Start(whole[1].Add(-time.Nanosecond), provider.Day, days.Location)
			if last.After(whole[0]) {
				whole[1], tail = last, [2]time.Time{last, whole[1]}
			} else {
				// One day only: all of it in half hours.
				start := whole[0]
				if head[1].After(head[0]) {
					start = head[0]
				}
				head, whole, tail = [2]time.Time{start, whole[1]}, [2]time.Time{}, [2]time.Time{}
			}
		}
		for _, p := range []struct {
			r    [2]time.Time
			spec bucket.Spec
		}{{head, halfHours}, {whole, days}, {tail, halfHours}} {
			if p.r[1].After(p.r[0]) {
				out = append(out, need{interval{p.r[0].Unix(), p.r[1].Unix()}, p.spec})
			}
		}
		from = to
	}
	return out
}
