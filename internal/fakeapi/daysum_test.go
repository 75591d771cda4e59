package fakeapi_test

import (
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// cells sums an answer's data points per breakdown cell: the values of
// counts (and cost) by the point's other fields, its dimensions. It also
// returns the distinct buckets the points fall in.
func cells(t *testing.T, pts []point, counts []string) (map[string]map[string]float64, map[[2]int64]bool) {
	t.Helper()
	out := map[string]map[string]float64{}
	buckets := map[[2]int64]bool{}
	for _, p := range pts {
		buckets[[2]int64{p.Start, p.End}] = true
		var dims []string
		for k, v := range p.Raw {
			if s, ok := v.(string); ok {
				dims = append(dims, k+"="+s)
			}
		}
		sort.Strings(dims)
		key := strings.Join(dims, ",")
		if out[key] == nil {
			out[key] = map[string]float64{}
		}
		for _, c := range append(slices.Clone(counts), "cost") {
			if v, ok := p.Raw[c].(float64); ok {
				out[key][c] += v
			}
		}
	}
	return out, buckets
}

// same reports whether two sums agree: exactly, or to 1e-9 of their size,
// as sums of the same decimals taken in another order may.
func same(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*max(math.Abs(a), math.Abs(b))
}

// TestDayIsTheSumOfItsHalfHours: an exporter that reads the settled days of
// a month as DAY/DAILY buckets and recent time as half hours must find the
// same month to date as from half hours alone. So in every family, for
// every breakdown cell, cost included, a day is the sum of its half hours,
// in UTC, west and east of it (with half an hour), and on the days the
// clocks change (46 and 50 half hours).
func TestDayIsTheSumOfItsHalfHours(t *testing.T) {
	families := []struct {
		field, day string
		counts     []string
		extra      string
	}{
		{"analytics", "DAY", []string{"sent", "delivered"}, ""},
		{"conversation_analytics", "DAILY", []string{"conversation"},
			`.metric_types(["CONVERSATION","COST"]).dimensions(["CONVERSATION_CATEGORY","CONVERSATION_TYPE","CONVERSATION_DIRECTION","COUNTRY","PHONE"])`},
		{"pricing_analytics", "DAILY", []string{"volume"},
			`.metric_types(["VOLUME","COST"]).dimensions(["PRICING_CATEGORY","PRICING_TYPE","COUNTRY","PHONE","TIER"])`},
		{"call_analytics", "DAILY", []string{"count"}, ""},
	}
	zones := []struct {
		id, name string
	}{{"0", "UTC"}, {"7", "America/New_York"}, {"71", "Asia/Kolkata"}}
	days := []struct {
		name      string
		y, m, d   int
		halfHours map[string]int // by zone, where not 48
	}{
		{"an ordinary day", 2024, 6, 12, nil},
		{"clocks go forward", 2024, 3, 10, map[string]int{"America/New_York": 46}},
		{"clocks go back", 2024, 11, 3, map[string]int{"America/New_York": 50}},
		// Per-message pricing and its categories begin on this day.
		{"per-message pricing begins", 2025, 7, 1, nil},
	}
	for _, z := range zones {
		loc, err := time.LoadLocation(z.name)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range days {
			start := time.Date(d.y, time.Month(d.m), d.d, 0, 0, 0, 0, loc)
			end := start.AddDate(0, 0, 1)
			wantHalfHours := 48
			if n, ok := d.halfHours[z.name]; ok {
				wantHalfHours = n
			}
			a := retailWABA()
			a.TimezoneID = z.id
			clock := func() time.Time { return end.Add(24 * time.Hour) }
			_, srv := serve(t, fakeapi.Options{Now: clock, PageSize: 1 << 20}, a)
			for _, f := range families {
				t.Run(z.name+"/"+d.name+"/"+f.field, func(t *testing.T) {
					ask := func(granularity string) []point {
						u := fieldURL(srv.URL, f.field, start, end, granularity, f.extra)
						pts, _ := points(t, get(t, u, token), f.field)
						return pts
					}
					day, dayBuckets := cells(t, ask(f.day), f.counts)
					halves, halfBuckets := cells(t, ask("HALF_HOUR"), f.counts)
					if !dayBuckets[[2]int64{start.Unix(), end.Unix()}] || len(dayBuckets) != 1 {
						t.Fatalf("day buckets %v, want one from %s to %s", dayBuckets, start, end)
					}
					if len(halfBuckets) != wantHalfHours {
						t.Errorf("%d half hours with data, want %d", len(halfBuckets), wantHalfHours)
					}
					if len(day) == 0 || len(day) != len(halves) {
						t.Fatalf("%d cells by the day, %d by the half hour", len(day), len(halves))
					}
					for cell, values := range day {
						for name, v := range values {
							if h := halves[cell][name]; !same(v, h) {
								t.Errorf("cell {%s}: %s is %v by the day, %v summed over its half hours", cell, name, v, h)
							}
						}
					}
				})
			}
		}
	}
}

// TestMonthIsTheSumOfItsDays: a MONTH/MONTHLY bucket is the sum of its days
// (which are the sums of their half hours), in a zone with a change of
// clocks in the month.
func TestMonthIsTheSumOfItsDays(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, loc)
	end := start.AddDate(0, 1, 0)
	a := retailWABA()
	a.TimezoneID = "7"
	_, srv := serve(t, fakeapi.Options{Now: func() time.Time { return end.Add(time.Hour) }, PageSize: 1 << 20}, a)
	for _, f := range []struct{ field, day, month, extra string }{
		{"analytics", "DAY", "MONTH", ""},
		{"conversation_analytics", "DAILY", "MONTHLY", `.dimensions(["CONVERSATION_CATEGORY","COUNTRY"])`},
		{"pricing_analytics", "DAILY", "MONTHLY", `.dimensions(["PRICING_CATEGORY","TIER"])`},
		{"call_analytics", "DAILY", "MONTHLY", ""},
	} {
		t.Run(f.field, func(t *testing.T) {
			counts := []string{"sent", "delivered", "conversation", "volume", "count"}
			ask := func(g string) []point {
				pts, _ := points(t, get(t, fieldURL(srv.URL, f.field, start, end, g, f.extra), token), f.field)
				return pts
			}
			month, monthBuckets := cells(t, ask(f.month), counts)
			days, dayBuckets := cells(t, ask(f.day), counts)
			if len(monthBuckets) != 1 || len(dayBuckets) != 31 {
				t.Fatalf("%d month buckets and %d days, want 1 and 31", len(monthBuckets), len(dayBuckets))
			}
			for cell, values := range month {
				for name, v := range values {
					if d := days[cell][name]; !same(v, d) {
						t.Errorf("cell {%s}: %s is %v for the month, %v summed over its days", cell, name, v, d)
					}
				}
			}
		})
	}
}

// The mean length of calls is a mean, not a sum: a day's is the mean of
// its half hours' weighted by their calls, to the second it is rounded to.
func TestCallDurationOfADayIsTheMeanOfItsHalfHours(t *testing.T) {
	day := time.Date(2024, 6, 12, 0, 0, 0, 0, time.UTC)
	_, srv := serve(t, fakeapi.Options{Now: func() time.Time { return day.AddDate(0, 0, 2) }})
	ask := func(g string) []point {
		pts, _ := points(t, get(t, fieldURL(srv.URL, "call_analytics", day, day.AddDate(0, 0, 1), g, ""), token), "call_analytics")
		return pts
	}
	var calls, seconds float64
	for _, p := range ask("HALF_HOUR") {
		calls += p.Raw["count"].(float64)
		seconds += p.Raw["count"].(float64) * p.Raw["average_duration"].(float64)
	}
	daily := ask("DAILY")
	if len(daily) != 1 || calls == 0 {
		t.Fatalf("%d daily points, %v calls", len(daily), calls)
	}
	if got, want := daily[0].Raw["average_duration"].(float64), seconds/calls; math.Abs(got-want) > 0.5 {
		t.Errorf("a day's mean call lasts %vs, its half hours' %.2fs", got, want)
	}
}
