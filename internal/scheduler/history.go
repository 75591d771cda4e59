package scheduler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-kit/log"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// History fetches an account's past buckets with the live exporter's own
// requests, for the backfill command: the same splits, filters and
// dimensions, the same cost fallback and template products, the same
// combined requests where the API takes several fields at once, and the same
// conversion of answers into values. So a backfilled series is the series
// the live exporter would have shown, label for label. Only one goroutine
// may use a History at a time.
type History struct{ p *poller }

// HistoryRequest is one range of one family's buckets.
type HistoryRequest struct {
	Family provider.Family
	Chunk  bucket.Chunk
	// Spec is the buckets asked for: the family's own (Spec), or days
	// (DaySpec).
	Spec bucket.Spec
}

// HistoryBucket is one bucket of one family as the API reported it: the
// values of every series, rows of one series in the bucket added up.
type HistoryBucket struct {
	Start, End time.Time
	Values     []analytics.Value
}

// HistoryResult is the answer to one HistoryRequest: every bucket the chunk
// owns, oldest first, or why the request failed (then none).
type HistoryResult struct {
	Buckets []HistoryBucket
	Err     error
}

// NewHistory returns the history of target's account; now is the clock of
// the cost and template probes.
func NewHistory(t Target, logger log.Logger, now func() time.Time) *History {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	if now == nil {
		now = time.Now
	}
	return &History{p: newPoller(t, nowhere{}, logger, now)}
}

// nowhere publishes nothing: a History has no collector.
type nowhere struct{}

func (nowhere) Publish(*analytics.Snapshot) {}
func (nowhere) Forget(string)               {}

// Prepare reads what the requests depend on, as a refresh does first: the
// WABA's currency and time zone (where its days begin), and its phone
// numbers and templates where the analytics need the lists. Unlike a
// refresh, it says when the WABA's fields could not be read: history in
// UTC days, or without a currency, would not be what the exporter shows.
func (h *History) Prepare(ctx context.Context) error {
	p := h.p
	p.tally.startRefresh()
	defer p.tally.endRefresh(true)
	var errs []error
	if p.caps.WABAFields && !p.listed {
		waba, err := p.source.WABA(provider.WithObserver(ctx, observer{t: p.tally, family: analytics.AccountFamily}), p.account.WABAID)
		if err != nil {
			errs = append(errs, fmt.Errorf("read the WABA's currency and time zone: %w", err))
		} else {
			if p.caps.Cost {
				p.currency = clean(waba.Currency)
			}
			p.location = waba.Location
		}
	}
	p.listInventory(ctx, newRound())
	errs = append(errs, p.inventory.phonesErr, p.inventory.templatesErr)
	return errors.Join(errs...)
}

// WABAID is the account's.
func (h *History) WABAID() string { return h.p.account.WABAID }

// Name, Currency and Provider are what whatsapp_exporter_account_info says
// of the account.
func (h *History) Name() string     { return cmp.Or(h.p.account.Name, h.p.name) }
func (h *History) Currency() string { return h.p.currency }
func (h *History) Provider() string { return h.p.account.Provider }

// Families lists the account's enabled families, in refresh order.
func (h *History) Families() []provider.Family {
	var out []provider.Family
	for _, f := range provider.Families {
		if h.p.account.Family(f).IsEnabled() {
			out = append(out, f)
		}
	}
	return out
}

// Spec is what a refresh of family f asks for, in the WABA's time zone
// where its days begin there (known once Prepare has read it).
func (h *History) Spec(f provider.Family) bucket.Spec { return h.p.spec(f) }

// Counters says whether the exporter keeps month-to-date counters of family
// f: its buckets fit in UTC months.
func (h *History) Counters(f provider.Family) bool { return h.p.ledgers[f] != nil }

// History is how far back the API answers family f; 0 when it documents
// no limit.
func (h *History) History(f provider.Family) time.Duration { return h.p.caps.Family(f).History }

// DaySpec returns the day buckets of family f, and whether a range that
// only the month-to-date sums need is better asked for in them than in the
// family's own buckets: as the exporter asks for the month so far after a
// start.
func (h *History) DaySpec(f provider.Family) (bucket.Spec, bool) {
	return h.p.dayBuckets(f, h.p.spec(f))
}

// DaysPerRequest is how many days one request of family f's day buckets
// asks for: as many as keep the answer's rows (days times the breakdowns
// seen so far) within what one request is expected to carry.
func (h *History) DaysPerRequest(f provider.Family) int {
	return max(maxBacklogRows/max(h.p.breakdowns[f], 1), 1)
}

// ChunkLength is the longest range one request of family f's buckets of
// spec asks for (0: any): a day of half hours where the answers are paged,
// so that one stays within the page cap, as for the month so far; a month of
// them where the API answers totals, unpaged; DaysPerRequest of days.
func (h *History) ChunkLength(f provider.Family, spec bucket.Spec) time.Duration {
	switch spec.Granularity {
	case provider.HalfHour:
		if h.p.caps.Family(f).OneAnswer {
			return 31 * 24 * time.Hour
		}
		return chunkLength(spec)
	case provider.Day:
		return time.Duration(h.DaysPerRequest(f)) * 24 * time.Hour
	}
	return 0
}

// SplitDays splits from..to into the part before the first midnight in loc,
// the whole days, and the part after the last midnight; where a midnight is
// not on a half hour, or no whole day fits, the first part is all of it.
// Each part is [2]time.Time{from, to}, empty when from equals to.
func SplitDays(from, to time.Time, loc *time.Location) (head, whole, tail [2]time.Time) {
	h, w, t := splitDays(from, to, loc)
	return [2]time.Time{h.from, h.to}, [2]time.Time{w.from, w.to}, [2]time.Time{t.from, t.to}
}

// Fetch asks for every request, in as few API requests as the API takes:
// the first cell of each family that can share one goes in one request
// where the API takes several fields at once, as a refresh's are. Once the
// API says to slow down (a rate limit, usage headers at the limit), the
// requests not yet sent fail with an error that wraps ErrNotAsked.
func (h *History) Fetch(ctx context.Context, reqs []HistoryRequest) []HistoryResult {
	p := h.p
	p.tally.startRefresh()
	defer p.tally.endRefresh(true)
	// Every template request asks for every template: a template quiet in
	// one range may have sent in another.
	p.templateSends = templateSends{}
	r := newRound()
	parts := make([]*part, len(reqs))
	var asked []*part
	for i, q := range reqs {
		cells, err := p.cells(q.Family)
		parts[i] = &part{fp: &familyPlan{f: q.Family, spec: q.Spec, cells: cells}, c: q.Chunk, spec: q.Spec, err: err}
		if len(cells) > 0 || err != nil {
			asked = append(asked, parts[i])
		}
		// A split over no phone numbers (a WABA without any) asks nothing:
		// it has no buckets.
	}
	p.shareParts(ctx, r, asked, nil)
	p.settleSolo(parts)
	out := make([]HistoryResult, len(reqs))
	for i, pt := range parts {
		// A shared request answered the first cell of a split family;
		// its other cells are asked alone.
		cells := pt.fp.cells
		if pt.done {
			cells = cells[1:]
		}
		if pt.err == nil && len(cells) > 0 {
			var samples []sample
			if pt.err = p.hold(r); pt.err == nil {
				samples, pt.err = p.fetch(ctx, pt.fp, pt.c, cells)
				r.note(pt.fp.f, pt.err)
			}
			pt.samples = append(pt.samples, samples...)
		}
		if pt.err != nil {
			out[i].Err = fmt.Errorf("fetch %s from %s to %s: %w", pt.fp.f, pt.c.From.Format(time.RFC3339), pt.c.To.Format(time.RFC3339), pt.err)
			continue
		}
		if pt.spec.Granularity == p.spec(pt.fp.f).Granularity {
			p.countBreakdowns(pt.fp.f, pt.samples)
		}
		out[i].Buckets = historyBuckets(pt.samples, pt.spec)
	}
	return out
}

// ErrNotAsked is wrapped by the error of a request Fetch did not send,
// because the API had said to slow down.
var ErrNotAsked = errNotAsked

// historyBuckets groups samples into buckets, oldest first.
func historyBuckets(samples []sample, spec bucket.Spec) []HistoryBucket {
	type key struct{ start, end int64 }
	index := map[key]int{}
	var out []HistoryBucket
	sums := []map[series]int{}
	for _, s := range samples {
		if s.end.IsZero() {
			continue // belongs to no bucket
		}
		start := bucketStart(s, spec)
		k := key{start.UnixNano(), s.end.UnixNano()}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, HistoryBucket{Start: start.UTC(), End: s.end.UTC()})
			sums = append(sums, map[series]int{})
		}
		sk := series{s.Measure, s.Dimensions}
		if j, ok := sums[i][sk]; ok {
			out[i].Values[j].Value += s.Value.Value
			continue
		}
		sums[i][sk] = len(out[i].Values)
		out[i].Values = append(out[i].Values, s.Value)
	}
	slices.SortFunc(out, func(a, b HistoryBucket) int { return a.End.Compare(b.End) })
	return out
}

// Usage is what the API's usage headers said during the last Fetch: the
// highest share of the account's own budget used, in percent (0 when none
// said), and how long it asked to wait (0: not at all).
func (h *History) Usage() (pressure float64, wait time.Duration) {
	return h.p.tally.pressure(), h.p.tally.throttledFor()
}

// Requests is how many API requests the account has sent.
func (h *History) Requests() float64 { return h.p.tally.requestsSent() }
