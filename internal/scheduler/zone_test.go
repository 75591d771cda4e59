package scheduler

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// A WABA in Los Angeles (timezone_id 1): Meta's daily buckets of pricing
// analytics begin at its local midnight, so a refresh asks from a local
// midnight and reports the local day, 25 hours long when the clocks go back
// and 23 when they go forward. Its daily buckets do not fit in UTC months:
// no month-to-date counter. Templates stay on UTC days.
func TestWABATimeZone(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		now      time.Time
		from     time.Time // the local midnight the request starts at
		day      time.Time // the newest complete local day
		dayHours int
	}{
		{"the clocks go back (3 November 2024)", time.Date(2024, 11, 4, 12, 0, 0, 0, time.UTC),
			time.Date(2024, 11, 1, 0, 0, 0, 0, la), time.Date(2024, 11, 3, 0, 0, 0, 0, la), 25},
		{"the clocks go forward (10 March 2024)", time.Date(2024, 3, 11, 12, 0, 0, 0, time.UTC),
			time.Date(2024, 3, 8, 0, 0, 0, 0, la), time.Date(2024, 3, 10, 0, 0, 0, 0, la), 23},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := testFakeAccount(healthyWABA, "t")
			fake.TimezoneID = "1"
			g := fakeapi.NewGraph([]fakeapi.WABA{fake}, fakeapi.Options{Now: func() time.Time { return tc.now }})
			var mu sync.Mutex
			var asked []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if f := r.URL.Query().Get("fields"); strings.HasPrefix(f, "pricing_analytics") {
					mu.Lock()
					asked = append(asked, f)
					mu.Unlock()
				}
				g.ServeHTTP(w, r)
			}))
			defer srv.Close()
			e := newExporter([]Target{metaTarget(t, testAccount(t, healthyWABA, srv.URL, "t", chain(onlyFamilies("pricing", "templates"), func(a *config.Account) {
				a.Pricing.Granularity = "DAILY"
			})))}, Options{Now: func() time.Time { return tc.now }})
			refreshAll(e)

			mu.Lock()
			if want := fmt.Sprintf("pricing_analytics.start(%d)", tc.from.Unix()); len(asked) != 1 || !strings.HasPrefix(asked[0], want) {
				t.Errorf("asked for %q, want one request from the local midnight, %s", asked, want)
			}
			mu.Unlock()
			end := tc.day.AddDate(0, 0, 1)
			if end.Sub(tc.day) != time.Duration(tc.dayHours)*time.Hour {
				t.Fatalf("the test's day is %s long", end.Sub(tc.day))
			}
			text := exposition(t, e, healthyWABA)
			if got := lines(text, `whatsapp_bucket_end_timestamp_seconds{family="pricing"`); len(got) != 1 || !strings.HasSuffix(got[0], fmt.Sprintf(" %g", float64(end.Unix()))) {
				t.Errorf("pricing bucket end %q, want the end of the local day, %s (%d)", got, end.UTC(), end.Unix())
			}
			// The gauges hold that whole local day: the fake's own sum of it.
			points, err := e.pollers[0].source.Pricing(context.Background(), provider.PricingQuery{WABAID: healthyWABA,
				Window: provider.Window{Start: tc.day, End: end, Granularity: provider.Day}, Dimensions: []string{"COUNTRY"}})
			if err != nil || len(points) == 0 {
				t.Fatalf("the fake's day: %d points, %v", len(points), err)
			}
			var want float64
			for _, p := range points {
				if p.End.Equal(end) {
					want += *p.Volume
				}
			}
			var got float64
			for _, l := range lines(text, "whatsapp_pricing_volume_newest{") {
				var v float64
				fmt.Sscanf(l[strings.LastIndexByte(l, ' ')+1:], "%g", &v)
				got += v
			}
			if got != want || want == 0 {
				t.Errorf("the newest day's volume adds up to %g, want the fake's %d-hour day, %g", got, tc.dayHours, want)
			}
			if n := len(lines(text, "whatsapp_pricing_volume_total{")); n != 0 {
				t.Errorf("%d pricing counters from local days, which do not fit in UTC months", n)
			}
			if got := lines(text, `whatsapp_bucket_end_timestamp_seconds{family="templates"`); len(got) != 1 || !strings.HasSuffix(got[0], fmt.Sprintf(" %g", float64(time.Date(tc.now.Year(), tc.now.Month(), tc.now.Day(), 0, 0, 0, 0, time.UTC).Unix()))) {
				t.Errorf("templates bucket end %q, want UTC midnight", got)
			}
			if n := len(lines(text, "whatsapp_template_sent_total{")); n == 0 {
				t.Error("no template counters: template days are UTC's")
			}
		})
	}
}
