// Package bucket is the exporter's one place for time arithmetic: where the
// analytics buckets of each granularity start and end, and which range of
// them one refresh asks for. The scheduler, the config validation, the
// provider clients and the fake APIs all use it, so they cannot disagree
// about where a day or a month begins.
package bucket

import (
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// Start returns the start of the bucket of granularity g that holds t: the
// half hour, the day from midnight, or the month from the 1st, in loc (UTC
// when loc is nil).
func Start(t time.Time, g provider.Granularity, loc *time.Location) time.Time {
	t = t.In(zone(loc))
	switch g {
	case provider.Day:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	case provider.Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
	}
	return t.Truncate(30 * time.Minute)
}

// Next returns the start of the bucket that follows the one starting at start.
func Next(start time.Time, g provider.Granularity, loc *time.Location) time.Time {
	start = start.In(zone(loc))
	switch g {
	case provider.Day:
		return start.AddDate(0, 0, 1)
	case provider.Month:
		return start.AddDate(0, 1, 0)
	}
	return start.Add(30 * time.Minute)
}

// Longest is the longest a bucket of g lasts: how far, at worst, Start moves
// a time back. A month is 31 days; where days begin at a local midnight
// (zoned), a day and a month can be an hour longer, across a change to
// winter time.
func Longest(g provider.Granularity, zoned bool) time.Duration {
	dst := time.Duration(0)
	if zoned {
		dst = time.Hour
	}
	switch g {
	case provider.Day:
		return 24*time.Hour + dst
	case provider.Month:
		return 31*24*time.Hour + dst
	}
	return 30 * time.Minute
}

// Spec is what one family asks of its API on every refresh.
type Spec struct {
	Granularity provider.Granularity
	// Lookback is how far before the cutoff the refresh looks for data.
	Lookback time.Duration
	// Delay holds back the buckets that ended less than Delay ago: the API
	// fills them in late.
	Delay time.Duration
	// WholeDays is for APIs that take dates, not instants: the query then
	// starts at midnight and ends at a midnight.
	WholeDays bool
	// Location is where days and months begin; UTC when nil.
	Location *time.Location
	// Zoned says that days and months begin at the local midnight of a
	// zone that may not be known yet (the WABA's): for the worst case, a
	// day counts as 25 hours.
	Zoned bool
}

// Span is the range one refresh covers.
type Span struct {
	// From is the start of the oldest bucket reported: Lookback before
	// Cutoff, moved back to the start of its bucket so that it is whole.
	From time.Time
	// Cutoff is Delay before now: buckets that end after it are not
	// reported yet.
	Cutoff time.Time
	// Query is what is asked of the API: From to Cutoff, widened to whole
	// days where the API takes dates. An answer may hold buckets before
	// From (a whole-day query's first hours): they are not reported.
	Query provider.Window
}

// Calculator computes spans from its clock, so that every test can set the
// time.
type Calculator struct {
	Now func() time.Time
}

// Span is the range a refresh at the calculator's now covers.
func (c Calculator) Span(s Spec) Span {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	cutoff := now().Add(-s.Delay)
	from := Start(cutoff.Add(-s.Lookback), s.Granularity, s.Location)
	return Span{From: from.UTC(), Cutoff: cutoff.UTC(), Query: chunk(from, time.Time{}, cutoff, s).Query}
}

// Reach is how far back from now a query of s can start, at worst: Lookback
// and Delay, plus one bucket for moving the start back to its beginning (a
// day where the API takes whole days and the buckets are shorter). It is
// what must fit within the history an API keeps.
func Reach(s Spec) time.Duration {
	return s.Lookback + s.Delay + Longest(Alignment(s), s.zoned())
}

// Alignment is the unit a query's start is moved back to: the bucket, or the
// day where the API takes whole days and the buckets are shorter.
func Alignment(s Spec) provider.Granularity {
	if s.WholeDays && s.Granularity == provider.HalfHour {
		return provider.Day
	}
	return s.Granularity
}

// zoned says whether days may be other than 24 hours long.
func (s Spec) zoned() bool {
	return s.Zoned || (s.Location != nil && s.Location != time.UTC)
}

func zone(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

func utc(w provider.Window) provider.Window {
	w.Start, w.End = w.Start.UTC(), w.End.UTC()
	return w
}

// Chunk is one request of a longer range. It owns the buckets that end in
// (From, To]: owning by end time keeps a bucket from being counted twice
// when an API answers a little more than was asked (a whole day, or an end
// read as inclusive).
type Chunk struct {
	From, To time.Time
	Query    provider.Window
}

// Owns reports whether a bucket that ends at end belongs to the chunk.
func (c Chunk) Owns(end time.Time) bool {
	return end.After(c.From) && !end.After(c.To)
}

// Chunks splits the range from..to of s's buckets into requests that each
// span at most longest (no limit when longest is 0), so that a long range
// (a month of half hours) does not need more pages than a client follows.
// The range's start is moved back to its bucket's; on an API that takes
// whole days every split falls on a midnight.
func Chunks(from, to time.Time, s Spec, longest time.Duration) []Chunk {
	from = Start(from, s.Granularity, s.Location)
	unit := Alignment(s)
	var chunks []Chunk
	for start := from; ; {
		end := start.Add(longest)
		if longest <= 0 || !end.Before(to) {
			return append(chunks, chunk(start, to, to, s))
		}
		// Split on a bucket boundary, or a midnight for whole days.
		if aligned := Start(end, unit, s.Location); aligned.After(start) {
			end = aligned
		}
		chunks = append(chunks, chunk(start, end, end, s))
		start = end
	}
}

// chunk is the request for the buckets from start until end; queryEnd is
// where the request stops.
func chunk(start, end, queryEnd time.Time, s Spec) Chunk {
	q := provider.Window{Start: start, End: queryEnd, Granularity: s.Granularity}
	if s.WholeDays {
		q.Start = Start(start, provider.Day, s.Location)
		q.End = Start(queryEnd, provider.Day, s.Location)
		if q.End.Before(queryEnd) || !q.End.After(q.Start) {
			q.End = Next(q.End, provider.Day, s.Location)
		}
	}
	// The first bucket of the chunk starts at start: it ends after it.
	return Chunk{From: start, To: end, Query: utc(q)}
}

// Halve splits a chunk in two at a bucket boundary (a midnight for whole
// days) near its middle, for a request whose answer was too long; false
// when the chunk is one bucket (or day) already.
func Halve(c Chunk, s Spec) (Chunk, Chunk, bool) {
	mid := Start(c.From.Add(c.To.Sub(c.From)/2), Alignment(s), s.Location)
	if !mid.After(c.From) || !mid.Before(c.To) {
		return Chunk{}, Chunk{}, false
	}
	return chunk(c.From, mid, mid, s), chunk(mid, c.To, c.To, s), true
}
