package bucket_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/vonage"
)

func at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2024, month, day, hour, minute, 0, 0, time.UTC)
}

func TestStartAndNext(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	for _, tc := range []struct {
		t           time.Time
		g           provider.Granularity
		loc         *time.Location
		start, next time.Time
	}{
		{at(6, 3, 12, 10), provider.HalfHour, nil, at(6, 3, 12, 0), at(6, 3, 12, 30)},
		{at(6, 3, 12, 30), provider.HalfHour, nil, at(6, 3, 12, 30), at(6, 3, 13, 0)},
		{at(6, 3, 23, 59), provider.Day, nil, at(6, 3, 0, 0), at(6, 4, 0, 0)},
		{at(6, 30, 0, 0), provider.Day, nil, at(6, 30, 0, 0), at(7, 1, 0, 0)},
		{at(2, 29, 23, 0), provider.Month, nil, at(2, 1, 0, 0), at(3, 1, 0, 0)},
		{at(12, 31, 23, 0), provider.Month, time.UTC, at(12, 1, 0, 0), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		// Days and months begin at local midnight elsewhere: a day
		// across the change to summer time lasts 23 hours.
		{at(3, 31, 12, 0), provider.Day, berlin, at(3, 30, 23, 0), at(3, 31, 22, 0)},
		{at(3, 31, 12, 0), provider.Month, berlin, at(2, 29, 23, 0), at(3, 31, 22, 0)},
	} {
		t.Run(fmt.Sprintf("%s %s in %s", tc.g, tc.t.Format(time.RFC3339), tc.loc), func(t *testing.T) {
			start := bucket.Start(tc.t, tc.g, tc.loc)
			if !start.Equal(tc.start) {
				t.Errorf("Start = %s, want %s", start.UTC(), tc.start)
			}
			if next := bucket.Next(start, tc.g, tc.loc); !next.Equal(tc.next) {
				t.Errorf("Next = %s, want %s", next.UTC(), tc.next)
			}
		})
	}
}

// The span of a refresh for every granularity, on an API that takes
// instants (Meta) and one that takes whole days (Vonage), at 12:10 UTC on
// June 3.
func TestSpan(t *testing.T) {
	now := at(6, 3, 12, 10)
	calc := bucket.Calculator{Now: func() time.Time { return now }}
	type want struct{ from, cutoff, qStart, qEnd time.Time }
	for _, tc := range []struct {
		caps     provider.Capabilities
		g        provider.Granularity
		lookback time.Duration
		delay    time.Duration
		want     want
	}{
		// Half hours: 11:40 less 6h is 05:40, moved back to 05:30.
		{meta.Capabilities, provider.HalfHour, 6 * time.Hour, 30 * time.Minute,
			want{at(6, 3, 5, 30), at(6, 3, 11, 40), at(6, 3, 5, 30), at(6, 3, 11, 40)}},
		// Vonage asks from midnight to the next midnight.
		{vonage.Capabilities, provider.HalfHour, 6 * time.Hour, 30 * time.Minute,
			want{at(6, 3, 5, 30), at(6, 3, 11, 40), at(6, 3, 0, 0), at(6, 4, 0, 0)}},
		// Days: 10:10 less 72h is May 31 10:10, moved back to midnight.
		{meta.Capabilities, provider.Day, 72 * time.Hour, 2 * time.Hour,
			want{at(5, 31, 0, 0), at(6, 3, 10, 10), at(5, 31, 0, 0), at(6, 3, 10, 10)}},
		{vonage.Capabilities, provider.Day, 72 * time.Hour, 2 * time.Hour,
			want{at(5, 31, 0, 0), at(6, 3, 10, 10), at(5, 31, 0, 0), at(6, 4, 0, 0)}},
		// Months: 62 days before June 3 10:10 is April 2, moved back to
		// April 1.
		{meta.Capabilities, provider.Month, 62 * 24 * time.Hour, 2 * time.Hour,
			want{at(4, 1, 0, 0), at(6, 3, 10, 10), at(4, 1, 0, 0), at(6, 3, 10, 10)}},
		{vonage.Capabilities, provider.Month, 58 * 24 * time.Hour, 2 * time.Hour,
			want{at(4, 1, 0, 0), at(6, 3, 10, 10), at(4, 1, 0, 0), at(6, 4, 0, 0)}},
		// A cutoff at midnight: whole days end there, and start a day
		// earlier even with no lookback.
		{vonage.Capabilities, provider.Day, 0, 12*time.Hour + 10*time.Minute,
			want{at(6, 3, 0, 0), at(6, 3, 0, 0), at(6, 3, 0, 0), at(6, 4, 0, 0)}},
	} {
		t.Run(fmt.Sprintf("%s %s lookback %s", tc.caps.Name, tc.g, tc.lookback), func(t *testing.T) {
			s := calc.Span(bucket.Spec{Granularity: tc.g, Lookback: tc.lookback, Delay: tc.delay, WholeDays: tc.caps.WholeDays})
			got := want{s.From, s.Cutoff, s.Query.Start, s.Query.End}
			if got != tc.want {
				t.Errorf("span\n got from %s cutoff %s query %s..%s\nwant from %s cutoff %s query %s..%s",
					got.from, got.cutoff, got.qStart, got.qEnd, tc.want.from, tc.want.cutoff, tc.want.qStart, tc.want.qEnd)
			}
			if s.Query.Granularity != tc.g {
				t.Errorf("query granularity %s, want %s", s.Query.Granularity, tc.g)
			}
			// What the config validation holds against an API's
			// history: the query's start is never further back.
			if reach := bucket.Reach(bucket.Spec{Granularity: tc.g, Lookback: tc.lookback, Delay: tc.delay, WholeDays: tc.caps.WholeDays}); now.Sub(s.Query.Start) > reach {
				t.Errorf("the query starts %s before now, more than Reach %s", now.Sub(s.Query.Start), reach)
			}
		})
	}
}

// Reach is the worst case: for every minute of a day and every day of a
// year, no span starts further back than it.
func TestReachIsTheWorstCase(t *testing.T) {
	for _, wholeDays := range []bool{false, true} {
		for _, g := range provider.AllGranularities {
			spec := bucket.Spec{Granularity: g, Lookback: 6 * time.Hour, Delay: 30 * time.Minute, WholeDays: wholeDays}
			reach := bucket.Reach(spec)
			var worst time.Duration
			for now := at(1, 1, 0, 0); now.Before(at(12, 31, 0, 0)); now = now.Add(7*time.Hour + 13*time.Minute) {
				s := bucket.Calculator{Now: func() time.Time { return now }}.Span(spec)
				worst = max(worst, now.Sub(s.Query.Start))
			}
			if worst > reach {
				t.Errorf("%s whole days %v: a query started %s back, more than Reach %s", g, wholeDays, worst, reach)
			}
		}
	}
}
