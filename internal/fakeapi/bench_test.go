package fakeapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// The exporter's default breakdowns (config.DefaultConversationDimensions
// and config.DefaultPricingDimensions), spelled as it sends them.
const (
	conversationDims = `.metric_types(["CONVERSATION","COST"]).dimensions(["CONVERSATION_CATEGORY","CONVERSATION_TYPE","CONVERSATION_DIRECTION","COUNTRY"])`
	pricingDims      = `.metric_types(["VOLUME","COST"]).dimensions(["PRICING_CATEGORY","PRICING_TYPE","COUNTRY","TIER"])`
)

// combinedFields asks for the four analytics fields of [start, end) in one
// request, as the exporter asks a WABA's recent half hours.
func combinedFields(start, end time.Time, granularity string) string {
	window := func(g string) string {
		return fmt.Sprintf(".start(%d).end(%d).granularity(%s)", start.Unix(), end.Unix(), g)
	}
	return "analytics" + window(granularity) +
		",conversation_analytics" + window(granularity) + conversationDims +
		",pricing_analytics" + window(granularity) + pricingDims +
		",call_analytics" + window(granularity)
}

// fleetWABA is a typical WABA of a generated fleet: 3 numbers messaging 3
// countries, billed directly (so with cost).
func fleetWABA() fakeapi.WABA {
	wabas, _ := fakeapi.Fleet(50, fakeapi.FleetOptions{})
	for _, a := range wabas {
		if len(a.Countries) == 3 && !a.PartnerBilled {
			return a
		}
	}
	panic("no typical WABA in the fleet")
}

// BenchmarkRequest measures the fake's CPU per request, in process (no
// network), for the requests a load test sends most: a WABA's recent six
// hours of half hours, all four analytics fields at once, and the settled
// days of a month of pricing with the default breakdowns. The fake must not
// be what a load test of the exporter measures. The demo's retail WABA (3
// numbers, 4 countries) has more series than a typical fleet WABA.
func BenchmarkRequest(b *testing.B) {
	now := time.Date(2024, 6, 30, 12, 10, 0, 0, time.UTC)
	wabas := map[string]fakeapi.WABA{"demo retail": retailWABA(), "fleet": fleetWABA()}
	for name, a := range wabas {
		g := fakeapi.NewGraph([]fakeapi.WABA{a}, fakeapi.Options{Now: func() time.Time { return now }})
		monthStart := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		for _, rq := range []struct{ name, fields string }{
			{"combined 6h of half hours", combinedFields(now.Add(-6*time.Hour), now, "HALF_HOUR")},
			{"month of DAILY pricing", "pricing_analytics" + fmt.Sprintf(".start(%d).end(%d).granularity(DAILY)", monthStart.Unix(), now.Unix()) + pricingDims},
		} {
			b.Run(name+"/"+rq.name, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, "/v25.0/"+a.WABAID+"?"+url.Values{"fields": {rq.fields}}.Encode(), nil)
				req.Header.Set("Authorization", "Bearer "+a.Token)
				size := 0
				cpu := cpuTime()
				for b.Loop() {
					w := httptest.NewRecorder()
					g.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
					size = w.Body.Len()
				}
				if used := cpuTime() - cpu; used > 0 {
					b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
				}
				b.ReportMetric(float64(size), "bytes/answer")
			})
		}
	}
}
