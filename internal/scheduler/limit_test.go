package scheduler

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// phoneValues is one gauge per phone number and measure, and the counter
// of each, for phones "p00".."p(n-1)".
func phoneValues(n int) *analytics.Refresh {
	r := &analytics.Refresh{Success: true, MonthToDate: &analytics.MonthToDate{}}
	for i := range n {
		d := analytics.Dimensions{PhoneNumber: fmt.Sprintf("p%02d", i)}
		for _, m := range []analytics.Measure{analytics.MessagesSent, analytics.MessagesDelivered} {
			r.Values = append(r.Values, analytics.Value{Measure: m, Dimensions: d, Value: float64(i)})
			r.MonthToDate.Values = append(r.MonthToDate.Values, analytics.Value{Measure: m, Dimensions: d, Value: float64(10 * i)})
		}
	}
	return r
}

func countSeries(families map[provider.Family]*analytics.Refresh) int {
	n := 0
	for _, r := range families {
		n += len(r.Values)
		if r.MonthToDate != nil {
			n += len(r.MonthToDate.Values)
		}
	}
	return n
}

func TestLimitSeries(t *testing.T) {
	messaging := phoneValues(10) // 40 series: 10 phones × 2 measures × gauge and counter
	templates := &analytics.Refresh{Success: true, Values: []analytics.Value{
		{Measure: analytics.TemplateSent, Dimensions: analytics.Dimensions{TemplateID: "1"}, Value: 3},
	}}
	all := map[provider.Family]*analytics.Refresh{provider.Messaging: messaging, provider.Templates: templates}

	for _, c := range []struct {
		name        string
		max         int
		wantKept    int
		wantDropped map[provider.Family]int
	}{
		{name: "under the limit", max: 100, wantKept: 41},
		{name: "exactly at the limit", max: 41, wantKept: 41},
		{name: "one over: the family after the cut loses its series", max: 40, wantKept: 40,
			wantDropped: map[provider.Family]int{provider.Templates: 1}},
		// A gauge and its counter go together: 7 leaves room for one
		// pair less than 8, and the odd one out fits the template gauge.
		{name: "gauge and counter kept together", max: 7, wantKept: 7,
			wantDropped: map[provider.Family]int{provider.Messaging: 34}},
		{name: "no limit", max: 0, wantKept: 41},
	} {
		t.Run(c.name, func(t *testing.T) {
			kept, dropped := limitSeries(all, c.max)
			if got := countSeries(kept); got != c.wantKept {
				t.Errorf("kept %d series, want %d", got, c.wantKept)
			}
			if (len(dropped) > 0 || len(c.wantDropped) > 0) && !reflect.DeepEqual(dropped, c.wantDropped) {
				t.Errorf("dropped = %v, want %v", dropped, c.wantDropped)
			}
			// Every kept gauge has its counter, with the same dimensions.
			for f, r := range kept {
				if r.MonthToDate == nil {
					continue
				}
				gauges, counters := map[series]bool{}, map[series]bool{}
				for _, v := range r.Values {
					gauges[series{v.Measure, v.Dimensions}] = true
				}
				for _, v := range r.MonthToDate.Values {
					counters[series{v.Measure, v.Dimensions}] = true
				}
				if !reflect.DeepEqual(gauges, counters) {
					t.Errorf("%s: gauges %v and counters %v were cut apart", f, gauges, counters)
				}
			}
		})
	}
	// The input is never changed: the last published snapshot shares it.
	if countSeries(all) != 41 || len(messaging.Values) != 20 {
		t.Fatalf("limitSeries changed its input: %d series", countSeries(all))
	}
}

// The same series are kept whatever order the API answered in, so a
// series does not come and go between refreshes.
func TestLimitSeriesStable(t *testing.T) {
	want, _ := limitSeries(map[provider.Family]*analytics.Refresh{provider.Messaging: phoneValues(30)}, 25)
	wantPhones := phonesOf(want[provider.Messaging])
	for i := range 20 {
		shuffled := phoneValues(30)
		rnd := rand.New(rand.NewPCG(uint64(i), 1))
		rnd.Shuffle(len(shuffled.Values), func(a, b int) {
			shuffled.Values[a], shuffled.Values[b] = shuffled.Values[b], shuffled.Values[a]
		})
		rnd.Shuffle(len(shuffled.MonthToDate.Values), func(a, b int) {
			shuffled.MonthToDate.Values[a], shuffled.MonthToDate.Values[b] = shuffled.MonthToDate.Values[b], shuffled.MonthToDate.Values[a]
		})
		got, _ := limitSeries(map[provider.Family]*analytics.Refresh{provider.Messaging: shuffled}, 25)
		if g := phonesOf(got[provider.Messaging]); !reflect.DeepEqual(g, wantPhones) {
			t.Fatalf("shuffle %d kept phones %v, want %v", i, g, wantPhones)
		}
	}
	if len(wantPhones) != 6 { // 25 series leave room for 6 phones of 4
		t.Fatalf("kept phones %v, want 6", wantPhones)
	}
}

func phonesOf(r *analytics.Refresh) []string {
	seen := map[string]bool{}
	var phones []string
	for _, v := range r.Values {
		if !seen[v.Dimensions.PhoneNumber] {
			seen[v.Dimensions.PhoneNumber] = true
			phones = append(phones, v.Dimensions.PhoneNumber)
		}
	}
	return phones
}

// Through the whole path: /metrics holds at most max_series analytics
// series, says how many it dropped, and the log says so once, not at every
// refresh.
func TestMaxSeriesOnMetrics(t *testing.T) {
	now := time.Date(2024, 6, 3, 12, 0, 0, 0, time.UTC)
	_, url := fakeGraph(t, []fakeapi.WABA{testFakeAccount("1001", "tok")}, fakeapi.Options{Now: func() time.Time { return now }})
	const max = 30
	account := testAccount(t, "1001", url, "tok", func(a *config.Account) { a.MaxSeries = max })
	var logs logBuffer
	e := newExporter([]Target{metaTarget(t, account)}, Options{Logger: logs.logger(), Now: func() time.Time { return now }})
	refreshAll(e)
	refreshAll(e)

	text := exposition(t, e, "1001")
	analyticsSeries, dropped := 0, 0.0
	for _, l := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(l, "whatsapp_exporter_series_dropped{"):
			var v float64
			fmt.Sscan(l[strings.LastIndexByte(l, ' ')+1:], &v)
			dropped += v
		case strings.HasPrefix(l, "whatsapp_") && !strings.HasPrefix(l, "whatsapp_exporter_") && !strings.HasPrefix(l, "whatsapp_bucket_"):
			analyticsSeries++
		}
	}
	if analyticsSeries == 0 || analyticsSeries > max {
		t.Errorf("/metrics has %d analytics series, want 1..%d", analyticsSeries, max)
	}
	if dropped == 0 {
		t.Errorf("no series_dropped reported:\n%s", strings.Join(lines(text, "whatsapp_exporter_series_dropped"), "\n"))
	}
	if n := logs.count("more series than max_series"); n != 1 {
		t.Errorf("logged the drop %d times over two refreshes, want once:\n%s", n, logs.String())
	}
}

// Account health counts within max_series: its states come first (an
// account's numbers, then its templates), the analytics take what is left,
// and what does not fit is left out whole and counted, per family and as
// health.
func TestMaxSeriesCountsHealth(t *testing.T) {
	phone := analytics.PhoneHealth{PhoneNumber: "1", Status: "CONNECTED", QualityRating: "GREEN"}
	template := analytics.TemplateHealth{TemplateID: "7", Status: "APPROVED", QualityScore: "GREEN"}
	h := &analytics.Health{Phones: []analytics.PhoneHealth{phone, phone}, Templates: []analytics.TemplateHealth{template, template, template}}
	perPhone, perTemplate := phone.Series(), template.Series()
	for _, tt := range []struct {
		max               int
		phones, templates int
		dropped           int
	}{
		{max: 0, phones: 2, templates: 3},
		{max: 1000, phones: 2, templates: 3},
		{max: 2*perPhone + perTemplate, phones: 2, templates: 1, dropped: 2 * perTemplate},
		{max: perPhone + 1, phones: 1, dropped: perPhone + 3*perTemplate},
	} {
		cut, dropped := limitHealth(h, tt.max)
		if len(cut.Phones) != tt.phones || len(cut.Templates) != tt.templates || dropped != tt.dropped {
			t.Errorf("max %d: kept %d numbers and %d templates, dropped %d; want %d, %d and %d",
				tt.max, len(cut.Phones), len(cut.Templates), dropped, tt.phones, tt.templates, tt.dropped)
		}
		if tt.max > 0 && cut.Series() > tt.max {
			t.Errorf("max %d: %d health series kept", tt.max, cut.Series())
		}
	}
}
