package backfill

import (
	"bufio"
	"cmp"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// The live semantics are the specification (docs/metrics.md, and the
// scheduler's newest.go and monthtodate.go): at an instant t, a family's
// gauges show the newest bucket that ended at or before t minus its delay
// and after the start of its lookback, with the series seen in the lookback
// but absent from that bucket at 0; its counters show, per series, the sum
// of every bucket that started in the UTC month of t minus the delay and
// ended by then, added in time order. Between two instants at which a bucket
// ends or leaves the lookback, nothing changes: the renderer evaluates the
// semantics at those instants only, and repeats the values at every sample
// instant in between.

// accountLabels are what whatsapp_exporter_account_info says of a WABA.
type accountLabels struct{ wabaID, name, provider, currency string }

// outSeries is one series of the output and its values: each held from an
// instant until the next one (excluded).
type outSeries struct {
	fam    *family
	labels string
	segs   []segment
}

type segment struct {
	from, to int64
	value    float64
}

// renderer collects one WABA's series.
type renderer struct {
	sch   *schema
	acct  accountLabels
	w     window
	extra string // the --label pairs, rendered
	// series by family and key: a measure's series ID, or a family's
	// bucket end.
	series map[*family]map[seriesRef]*outSeries
	keys   []seriesKey
}

type seriesRef struct {
	id     int32
	family provider.Family
}

func newRenderer(sch *schema, acct accountLabels, w window, extra string, keys []seriesKey) *renderer {
	return &renderer{sch: sch, acct: acct, w: w, extra: extra, keys: keys, series: map[*family]map[seriesRef]*outSeries{}}
}

// set makes the series hold v from instant from until to.
func (r *renderer) set(fam *family, ref seriesRef, labels func() string, from, to int64, v float64) {
	bySeries := r.series[fam]
	if bySeries == nil {
		bySeries = map[seriesRef]*outSeries{}
		r.series[fam] = bySeries
	}
	s := bySeries[ref]
	if s == nil {
		s = &outSeries{fam: fam, labels: labels()}
		bySeries[ref] = s
	}
	if n := len(s.segs); n > 0 && s.segs[n-1].to == from && math.Float64bits(s.segs[n-1].value) == math.Float64bits(v) {
		s.segs[n-1].to = to
		return
	}
	s.segs = append(s.segs, segment{from, to, v})
}

// labelText renders a series' labels: waba_id, the family's own, and the
// --label pairs.
func (r *renderer) labelText(names []string, values []string) string {
	var b strings.Builder
	b.WriteString(`{waba_id="`)
	b.WriteString(escapeLabel(r.acct.wabaID))
	b.WriteByte('"')
	for i, n := range names {
		b.WriteByte(',')
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(escapeLabel(values[i]))
		b.WriteByte('"')
	}
	b.WriteString(r.extra)
	b.WriteByte('}')
	return b.String()
}

func (r *renderer) measureLabels(fam *family, id int32) func() string {
	return func() string {
		d := r.keys[id].dimensions
		values := make([]string, len(fam.fields))
		for i, f := range fam.fields {
			values[i] = dimension(&d, f)
		}
		return r.labelText(fam.labels, values)
	}
}

// account writes whatsapp_exporter_account_info over the whole window.
func (r *renderer) account() {
	fam := r.sch.accountInfo
	r.set(fam, seriesRef{}, func() string {
		return r.labelText(fam.labels, []string{r.acct.currency, r.acct.name, r.acct.provider})
	}, r.w.first, r.w.last+r.w.step, 1)
}

// family renders one family's gauges, bucket end and counters.
func (r *renderer) family(fp *familyPlan, fs *familyStore) {
	if fs == nil {
		fs = &familyStore{covered: map[provider.Granularity][]interval{}}
	}
	var own, all []storedBucket
	for _, b := range fs.buckets {
		all = append(all, b)
		if b.granularity == fp.spec.Granularity {
			own = append(own, b)
		}
	}
	byEnd := func(a, b storedBucket) int { return cmp.Compare(a.end, b.end) }
	slices.SortStableFunc(own, byEnd)
	slices.SortStableFunc(all, byEnd)
	var missing []interval
	for _, n := range fp.needs {
		missing = append(missing, fs.missing(n.spec.Granularity, n.interval)...)
	}
	delay := int64(fp.spec.Delay / time.Second)
	lookback := int64(fp.spec.Lookback / time.Second)
	from := func(t int64) int64 {
		return bucket.Start(time.Unix(t-delay, 0).Add(-fp.spec.Lookback), fp.spec.Granularity, fp.spec.Location).Unix()
	}

	// The instants at which something may change.
	var events []int64
	add := func(e int64, s span) {
		if s.empty() {
			return
		}
		if g := ceilTo(e, r.w.step); g >= s.first && g <= s.last {
			events = append(events, g)
		}
	}
	add(fp.gauges.first, fp.gauges)
	for _, b := range own {
		add(b.end+delay, fp.gauges)
		add(b.end+delay+lookback, fp.gauges)
	}
	add(fp.counters.first, fp.counters)
	for _, b := range all {
		add(b.end+delay, fp.counters)
	}
	if !fp.counters.empty() {
		for m := bucket.Start(time.Unix(fp.counters.first-delay, 0), provider.Month, time.UTC); m.Unix()+delay <= fp.counters.last; m = bucket.Next(m, provider.Month, time.UTC) {
			add(m.Unix()+delay, fp.counters)
		}
	}
	for _, m := range missing {
		add(m.from+delay, fp.gauges)
		add(m.to+delay+lookback, fp.gauges)
		add(m.from+delay, fp.counters)
	}
	slices.Sort(events)
	events = slices.Compact(events)

	overlaps := func(a, b int64) bool { // (a, b] meets a missing range
		for _, m := range missing {
			if m.from < b && m.to > a {
				return true
			}
		}
		return false
	}
	var month int64 = math.MinInt64
	next := 0
	sums := map[int32]float64{}
	seen := map[int32]bool{}
	for i, t := range events {
		until := r.w.last + r.w.step
		if i+1 < len(events) {
			until = events[i+1]
		}
		cutoff := t - delay
		if !fp.gauges.empty() && t >= fp.gauges.first {
			lo, hi := from(t), cutoff
			first := sort.Search(len(own), func(j int) bool { return own[j].end > lo })
			last := sort.Search(len(own), func(j int) bool { return own[j].end > hi })
			if first < last && !overlaps(lo, hi) {
				newest := own[last-1]
				values := map[int32]float64{}
				for _, b := range own[first:last] {
					for _, p := range b.points {
						values[p.id] += 0
					}
				}
				for _, p := range newest.points {
					values[p.id] += p.value
				}
				for _, id := range slices.Sorted(maps.Keys(values)) {
					fam := r.sch.newest[r.keys[id].measure]
					r.set(fam, seriesRef{id: id}, r.measureLabels(fam, id), t, until, values[id])
				}
				fam := r.sch.bucketEnd
				r.set(fam, seriesRef{id: -1, family: fp.f}, func() string { return r.labelText(fam.labels, []string{string(fp.f)}) },
					t, until, float64(newest.end))
			}
		}
		if !fp.counters.empty() && t >= fp.counters.first {
			if m := bucket.Start(time.Unix(cutoff, 0), provider.Month, time.UTC).Unix(); m != month {
				month = m
				clear(sums)
				clear(seen)
			}
			for ; next < len(all) && all[next].end <= cutoff; next++ {
				if all[next].start < month {
					continue
				}
				for _, p := range all[next].points {
					if r.keys[p.id].measure.Additive() {
						sums[p.id] += p.value
						seen[p.id] = true
					}
				}
			}
			if !overlaps(month, cutoff) {
				for _, id := range slices.Sorted(maps.Keys(seen)) {
					fam := r.sch.total[r.keys[id].measure]
					r.set(fam, seriesRef{id: id}, r.measureLabels(fam, id), t, until, sums[id])
				}
			}
		}
	}
}

// write writes the series, family by family in the schema's order, each
// family's series in the order of their labels, and returns the length of
// each family's section.
func (r *renderer) write(out io.Writer) ([]int64, error) {
	bw := bufio.NewWriterSize(out, 1<<20)
	sections := make([]int64, len(r.sch.order))
	var line []byte
	for i, fam := range r.sch.order {
		series := slices.Collect(maps.Values(r.series[fam]))
		slices.SortFunc(series, func(a, b *outSeries) int { return strings.Compare(a.labels, b.labels) })
		name := fam.sampleName()
		for _, s := range series {
			for _, sg := range s.segs {
				for t := sg.from; t < sg.to; t += r.w.step {
					line = append(line[:0], name...)
					line = append(line, s.labels...)
					line = append(line, ' ')
					line = strconv.AppendFloat(line, sg.value, 'g', -1, 64)
					line = append(line, ' ')
					line = strconv.AppendInt(line, t, 10)
					line = append(line, '\n')
					n, err := bw.Write(line)
					if err != nil {
						return nil, err
					}
					sections[i] += int64(n)
				}
			}
		}
	}
	return sections, bw.Flush()
}

// escapeLabel escapes a label value for OpenMetrics: backslash, double
// quote and line feed.
func escapeLabel(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
