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
// a time back. A month is 31 days.
func Longest(g provider.Granularity) time.Duration {
	switch g {
	case provider.Day:
		return 24 * time.Hour
	case provider.Month:
		return 31 * 24 * time.Hour
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
	q := provider.Window{Start: from, End: cutoff, Granularity: s.Granularity}
	if s.WholeDays {
		q.Start = Start(from, provider.Day, s.Location)
		q.End = Start(cutoff, provider.Day, s.Location)
		if q.End.Before(cutoff) || !q.End.After(q.Start) {
			q.End = Next(q.End, provider.Day, s.Location)
		}
	}
	return Span{From: from.UTC(), Cutoff: cutoff.UTC(), Query: utc(q)}
}

// Reach is how far back from now a query of s can start, at worst: Lookback
// and Delay, plus one bucket for moving the start back to its beginning (a
// day where the API takes whole days and the buckets are shorter). It is
// what must fit within the history an API keeps.
func Reach(s Spec) time.Duration {
	return s.Lookback + s.Delay + Longest(Alignment(s))
}

// Alignment is the unit a query's start is moved back to: the bucket, or the
// day where the API takes whole days and the buckets are shorter.
func Alignment(s Spec) provider.Granularity {
	if s.WholeDays && s.Granularity == provider.HalfHour {
		return provider.Day
	}
	return s.Granularity
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
