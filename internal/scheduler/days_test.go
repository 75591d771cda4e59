package scheduler

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// The month so far in whole days: the first refresh of a start on a
// month's last day asks for the month's settled local days in day buckets,
// and for half hours only where a local day crosses the start of the UTC
// month and for today. On the fake, whose days are the sums of their half
// hours as Meta's should be, its counters are those of a refresh that asks
// for half hours only, in far fewer calls: for a WABA on UTC's days (Accra), one whose
// days begin before UTC's (Kolkata) and one whose days begin after (New
// York), with every family on.
func TestMonthSoFarInDays(t *testing.T) {
	now := time.Date(2024, 6, 30, 20, 10, 0, 0, time.UTC)
	for _, zone := range []struct{ name, id string }{{"Africa/Accra", "59"}, {"Asia/Kolkata", "71"}, {"America/New_York", "7"}} {
		t.Run(zone.name, func(t *testing.T) {
			fake := testFakeAccount(healthyWABA, "token")
			fake.TimezoneID = zone.id
			graph, url := fakeGraph(t, []fakeapi.WABA{fake}, fakeapi.Options{Now: func() time.Time { return now }})
			account := testAccount(t, healthyWABA, url, "token", chain(withConversations, func(a *config.Account) {
				a.Calls.Enabled = enabled
				// Every breakdown, so that the answers are long.
				a.Conversations.Dimensions = config.AllConversationDimensions
				a.Pricing.Dimensions = config.AllPricingDimensions
			}))
			run := func(halfHours bool) (string, int) {
				before := graph.Stats(healthyWABA).Requests
				e := newExporter([]Target{metaTarget(t, account)}, Options{Now: func() time.Time { return now }})
				e.pollers[0].halfHoursOnly = halfHours
				refreshAll(e)
				return exposition(t, e, healthyWABA), graph.Stats(healthyWABA).Requests - before
			}
			days, dayCalls := run(false)
			halves, halfCalls := run(true)
			got, want := totals(days), totals(halves)
			if len(want) == 0 {
				t.Fatal("no counters from the half hours; the test is wrong")
			}
			for series, v := range want {
				g, ok := got[series]
				if !ok || math.Abs(g-v) > 1e-9*max(1, math.Abs(v)) {
					t.Errorf("%s = %g in days, %g in half hours", series, g, v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d counters in days, %d in half hours", len(got), len(want))
			}
			if dayCalls >= halfCalls {
				t.Errorf("%d calls in days, %d in half hours: want fewer", dayCalls, halfCalls)
			}
			t.Logf("%d counters; the month so far took %d calls in days, %d in half hours", len(want), dayCalls, halfCalls)
		})
	}
}

// totals are the month-to-date counters of an exposition, by series.
func totals(text string) map[string]float64 {
	out := map[string]float64{}
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, "whatsapp_") || strings.HasPrefix(l, "whatsapp_exporter_") {
			continue
		}
		series, value, ok := strings.Cut(l, " ")
		name, _, _ := strings.Cut(series, "{")
		if !ok || !strings.HasSuffix(name, "_total") {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(value, &v); err == nil {
			out[series] = v
		}
	}
	return out
}
