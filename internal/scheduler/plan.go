package scheduler

import (
	"slices"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// What a refresh fetches of a family, and in which requests. A family is
// fetched in segments: first its recent one, the buckets the newest-bucket
// gauges need and those that can still change; then, where its
// month-to-date sums still lack some of the month (after a start, after an
// outage), its backlog. Planning them for every family first lets the
// families share requests: on an API that takes several fields in one
// request (Capabilities.CombinedFields), the families' recent segments go
// in one request, and their backlog segments in as few more.
//
// The backlog is asked for in the largest buckets that give the same sums:
// whole days for the days of the month that have settled, half hours only
// where a day would cross the start of the UTC month (the WABA's local day
// that straddles it) and for the day under way, up to the recent segment. A
// family whose answers are never paged (messaging and calls, which answer
// totals per bucket) takes the whole month in half hours in its recent
// request instead: one answer either way, and no straddling day to ask for
// apart.

// segment is one range of one family's buckets, asked for at one
// granularity.
type segment struct {
	from, to time.Time
	spec     bucket.Spec
}

// familyPlan is one family's share of a refresh.
type familyPlan struct {
	f    provider.Family
	spec bucket.Spec
	span bucket.Span
	// l keeps the family's month-to-date sums; nil where its buckets do
	// not fit in UTC months.
	l *ledger
	// recentFrom is where the buckets that can still change begin: the
	// ledger settles what is older once the backlog is in.
	recentFrom time.Time
	// recent is the first request's range: the gauges' span and the
	// changing buckets, and whatever of the backlog fits in the same
	// answer.
	recent segment
	// backlog is what of the month is still missing besides, in the
	// order it is fetched.
	backlog []bucket.Chunk
	// backlogSpec is the spec of each backlog chunk (days or half hours).
	backlogSpec []bucket.Spec
	// cells are the requests a split family makes for each range: one
	// per phone number, country or direction it is split by; a single
	// cell where it is not.
	cells []cell

	// What the refresh got: the recent segment's samples (the gauges
	// are picked from them), and why the family failed, if it did.
	samples []sample
	err     error
	// started is when the family's refresh began.
	started time.Time
}

// cell is one request of a split family: the phone number, country and
// direction it is filtered to ("" where it is not split by it).
type cell struct{ phone, country, direction string }

// maxBacklogRows bounds the rows one backlog request is expected to answer
// (days times the family's breakdowns seen in its recent answer), so that a
// month of a WABA with many breakdowns does not run into the page cap:
// 10,000 rows are 100 pages of 100, half the cap. Real data only: a WABA
// with few breakdowns asks for its whole month in one request.
const maxBacklogRows = 10000

// planFamily plans family f's segments: the recent one, widened over the
// backlog where the same answer can carry it, and the rest of the backlog.
func (p *poller) planFamily(f provider.Family) *familyPlan {
	spec := p.spec(f)
	span := p.windows.Span(spec)
	fp := &familyPlan{f: f, spec: spec, span: span, l: p.ledgers[f]}
	fp.recent = segment{from: span.From, to: span.Cutoff, spec: spec}
	if fp.l == nil {
		return fp
	}
	l := fp.l
	l.startMonth(span.Cutoff)
	// The buckets that may still change are fetched again each time: the
	// lookback's, and a week's for templates, whose figures grow for that
	// long.
	mutable := max(span.Cutoff.Sub(span.From), p.caps.Family(f).Matures+bucket.Longest(spec.Granularity, spec.Zoned))
	fp.recentFrom = earlier(span.From, later(bucket.Start(span.Cutoff.Add(-mutable), spec.Granularity, time.UTC), l.month))
	fp.recent.from = fp.recentFrom
	gaps := l.plan(fp.recentFrom)
	if len(gaps) == 0 {
		return fp
	}
	if p.caps.Family(f).OneAnswer || spec.Granularity != provider.HalfHour {
		// One answer whatever its length (messaging, calls), or buckets
		// of a day already: the recent request reaches back over the
		// whole backlog; already-fetched buckets in between come again
		// and change nothing.
		fp.recent.from = earlier(fp.recent.from, gaps[0].from)
	}
	return fp
}

// planBacklog plans what of the month family fp's counters still lack once
// its recent segment is in: whole days where the family takes them, half
// hours for the rest, in requests sized by the breakdowns its recent answer
// showed.
func (p *poller) planBacklog(fp *familyPlan) {
	days, ok := p.dayBuckets(fp.f, fp.spec)
	for _, g := range fp.l.gaps {
		if !ok {
			fp.addBacklog(g.from, g.to, fp.spec, chunkLength(fp.spec))
			continue
		}
		// The half hours before the first midnight and after the last,
		// a day of them a request at most; the whole days between.
		head, whole, tail := splitDays(g.from, g.to, days.Location)
		for _, s := range []segment{head, tail} {
			if s.to.After(s.from) {
				fp.addBacklog(s.from, s.to, fp.spec, chunkLength(fp.spec))
			}
		}
		if whole.to.After(whole.from) {
			fp.addBacklog(whole.from, whole.to, days, p.backlogLength(fp))
		}
	}
}

// chunkLength is the longest range of half hours one backlog request asks
// for: a day, so that a paged family's answer stays within the page cap;
// no limit for longer buckets.
func chunkLength(spec bucket.Spec) time.Duration {
	if spec.Granularity == provider.HalfHour {
		return 24 * time.Hour
	}
	return 0
}

func (fp *familyPlan) addBacklog(from, to time.Time, spec bucket.Spec, longest time.Duration) {
	for _, c := range bucket.Chunks(from, to, spec, longest) {
		fp.backlog = append(fp.backlog, c)
		fp.backlogSpec = append(fp.backlogSpec, spec)
	}
}

// dayBuckets returns the spec of family f's day buckets, and whether its
// backlog is better asked for in days than in its own buckets: where its
// own are half hours, its answers are paged (a row per breakdown and
// bucket), and the API's days line up with half hours (they begin at a
// known midnight on a half hour: Asia/Kathmandu's does not).
func (p *poller) dayBuckets(f provider.Family, spec bucket.Spec) (bucket.Spec, bool) {
	fc := p.caps.Family(f)
	if spec.Granularity != provider.HalfHour || fc.OneAnswer || !slices.Contains(fc.Granularities, provider.Day) || p.halfHoursOnly {
		return bucket.Spec{}, false
	}
	loc := time.UTC
	if fc.LocalDays {
		if p.location == nil {
			return bucket.Spec{}, false // where the WABA's days begin is not known yet
		}
		loc = p.location
	}
	days := bucket.Spec{Granularity: provider.Day, WholeDays: spec.WholeDays, Location: loc, Zoned: fc.LocalDays}
	return days, true
}

// splitDays splits from..to into the half hours before the first midnight
// in loc (head), the whole days (whole) and the half hours after the last
// midnight (tail). Where a midnight is not on a half hour, or no whole day
// fits, head is the whole range.
func splitDays(from, to time.Time, loc *time.Location) (head, whole, tail segment) {
	first := bucket.Start(from, provider.Day, loc)
	if first.Before(from) {
		first = bucket.Next(first, provider.Day, loc)
	}
	last := bucket.Start(to, provider.Day, loc)
	if !first.Before(last) || !onHalfHour(first) || !onHalfHour(last) {
		return segment{from: from, to: to}, segment{}, segment{}
	}
	return segment{from: from, to: first.UTC()}, segment{from: first.UTC(), to: last.UTC()}, segment{from: last.UTC(), to: to}
}

func onHalfHour(t time.Time) bool { return t.Truncate(30 * time.Minute).Equal(t) }

// backlogLength is how many days one backlog request of fp asks for: the
// whole backlog, unless the breakdowns its recent answer showed, times the
// days, would run past maxBacklogRows; shorter again where such a request
// ran into the page cap before.
func (p *poller) backlogLength(fp *familyPlan) time.Duration {
	rows := max(p.breakdowns[fp.f], 1)
	days := max(maxBacklogRows/rows, 1)
	if d := p.backlogDays[fp.f]; d > 0 {
		days = min(days, d)
	}
	return time.Duration(days) * 24 * time.Hour
}

// cells lists the requests of one range of family f: messaging and calls
// answer totals only, so a per-phone, per-country or per-direction figure
// takes one request filtered to it.
func (p *poller) cells(f provider.Family) ([]cell, error) {
	one := []cell{{}}
	switch f {
	case provider.Messaging:
		m := p.account.Messaging
		phones, err := p.splitPhones(m.SplitBy, m.PhoneNumbers)
		if err != nil {
			return nil, err
		}
		return crossCells(phones, splitValues(m.SplitBy, "COUNTRY", m.CountryCodes), []string{""}), nil
	case provider.Calls:
		c := p.account.Calls
		phones, err := p.splitPhones(c.SplitBy, c.PhoneNumbers)
		if err != nil {
			return nil, err
		}
		directions := c.Directions
		if len(directions) == 0 {
			directions = config.CallDirections
		}
		return crossCells(phones, splitValues(c.SplitBy, "COUNTRY", c.CountryCodes), splitValues(c.SplitBy, "DIRECTION", directions)), nil
	}
	return one, nil
}

// splitValues is the values a split by dimension asks for: each of values,
// or one unsplit request ("").
func splitValues(splitBy []string, dimension string, values []string) []string {
	if slices.Contains(splitBy, dimension) {
		return values
	}
	return []string{""}
}

func crossCells(phones, countries, directions []string) []cell {
	var out []cell
	for _, ph := range phones {
		for _, c := range countries {
			for _, d := range directions {
				out = append(out, cell{ph, c, d})
			}
		}
	}
	return out
}

// countBreakdowns notes how many breakdowns (rows per bucket) family f's
// recent answer had, for sizing its backlog requests.
func (p *poller) countBreakdowns(f provider.Family, samples []sample) {
	seen := map[analytics.Dimensions]bool{}
	for _, s := range samples {
		seen[s.Dimensions] = true
	}
	p.breakdowns[f] = len(seen)
}
