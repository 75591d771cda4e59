package scheduler

// Benchmarks. Run them with
//
//	go test -run '^$' -bench . -benchmem ./internal/scheduler/
//
// Each is sized to finish within a few seconds at the default -benchtime.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

func ptr(v float64) *float64 { return &v }

// BenchmarkNewestBucket is the bucket selection of one refresh of one
// family: the conversations of a typical WABA (one phone number, three
// countries, every breakdown, cost), 6h of half-hour buckets.
func BenchmarkNewestBucket(b *testing.B) {
	span := bucket.Calculator{Now: func() time.Time { return testNow }}.Span(bucket.Spec{
		Granularity: provider.HalfHour, Lookback: 6 * time.Hour, Delay: 30 * time.Minute,
	})
	var points []provider.ConversationPoint
	for end := span.From.Add(30 * time.Minute); !end.After(span.Cutoff); end = end.Add(30 * time.Minute) {
		for _, country := range []string{"US", "BR", "IN"} {
			for _, cat := range []string{"AUTHENTICATION", "MARKETING", "SERVICE", "UTILITY"} {
				for _, typ := range []string{"REGULAR", "FREE_TIER", "FREE_ENTRY_POINT"} {
					for _, dir := range []string{"BUSINESS_INITIATED", "USER_INITIATED"} {
						points = append(points, provider.ConversationPoint{Start: end.Add(-30 * time.Minute), End: end,
							PhoneNumber: "16505550111", Country: country, Category: cat, Type: typ, Direction: dir,
							Conversations: ptr(3), Cost: ptr(0.05)})
					}
				}
			}
		}
	}
	b.ReportAllocs()
	var n newest
	for b.Loop() {
		n = newestBucket(conversationSamples(points, config.AllConversationDimensions), span)
	}
	b.ReportMetric(float64(2*len(points)), "samples")
	b.ReportMetric(float64(len(n.values)), "series")
}

// BenchmarkRefresh is one full refresh of the demo's largest WABA (3 phones,
// 4 countries, messaging split by both, 4 templates) against the fake Graph
// API over loopback HTTP, publishing to the collector; the fake's own work
// is included.
func BenchmarkRefresh(b *testing.B) {
	waba := demo.MetaWABAs()[0]
	waba.Token = "bench"
	graph, url := fakeGraph(b, []fakeapi.WABA{waba}, fakeapi.Options{Now: func() time.Time { return testNow }})
	cfg := testAccount(b, waba.WABAID, url, "bench", func(a *config.Account) {
		withConversations(a) // every family, as the figures of docs/operations.md
		a.Messaging.SplitBy = []string{"PHONE", "COUNTRY"}
		for _, c := range waba.Countries {
			a.Messaging.CountryCodes = append(a.Messaging.CountryCodes, c.Code)
		}
	})
	e := newExporter([]Target{metaTarget(b, cfg)}, Options{Now: func() time.Time { return testNow }})
	p := e.pollers[0]
	p.refresh(context.Background()) // warm the connection
	before := graph.Stats(waba.WABAID).Requests
	b.ReportAllocs()
	for b.Loop() {
		p.refresh(context.Background())
	}
	for f, r := range p.families {
		if !r.Success {
			b.Fatalf("%s failed", f)
		}
	}
	b.ReportMetric(float64(graph.Stats(waba.WABAID).Requests-before)/float64(b.N), "requests/op")
	b.ReportMetric(float64(testutil.CollectAndCount(e.Collector)), "series")
}

// BenchmarkMonthStart is the first refresh after a start on the last day of
// a month, when the whole month so far is fetched: the demo's largest WABA,
// every family at half hours, messaging split by phone and country, against
// the fake Graph API (500 data points a page), with the default breakdowns
// of conversations and pricing and with every one (PHONE too). It reports
// the requests and pages that takes; at the default requests a second
// (config.DefaultRequestsPerSecond) the time follows from them.
func BenchmarkMonthStart(b *testing.B) {
	endOfMonth := time.Date(2024, 6, 30, 23, 40, 0, 0, time.UTC)
	waba := demo.MetaWABAs()[0]
	waba.Token = "bench"
	// A WABA's days begin at its local midnight: in Los Angeles, a day
	// straddles the start of the UTC month.
	waba.TimezoneID = "1"
	for _, tc := range []struct {
		name string
		mod  func(*config.Account)
	}{
		{"default-breakdowns", nil},
		{"every-breakdown", func(a *config.Account) {
			a.Conversations.Dimensions = config.AllConversationDimensions
			a.Pricing.Dimensions = config.AllPricingDimensions
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			graph, url := fakeGraph(b, []fakeapi.WABA{waba}, fakeapi.Options{Now: func() time.Time { return endOfMonth }})
			cfg := testAccount(b, waba.WABAID, url, "bench", chain(func(a *config.Account) {
				withConversations(a) // every family, as the figures of docs/operations.md
				a.Messaging.SplitBy = []string{"PHONE", "COUNTRY"}
				for _, c := range waba.Countries {
					a.Messaging.CountryCodes = append(a.Messaging.CountryCodes, c.Code)
				}
			}, tc.mod))
			b.ReportAllocs()
			var requests int
			var ops map[string]int
			for b.Loop() {
				before := graph.Stats(waba.WABAID)
				e := newExporter([]Target{metaTarget(b, cfg)}, Options{Now: func() time.Time { return endOfMonth }})
				e.pollers[0].refresh(context.Background())
				after := graph.Stats(waba.WABAID)
				requests = after.Requests - before.Requests
				ops = map[string]int{}
				for op, n := range after.ByOperation {
					ops[op] = n - before.ByOperation[op]
				}
				for f, r := range e.pollers[0].families {
					if r.MonthToDate == nil {
						b.Fatalf("%s: no month-to-date sums after the first refresh", f)
					}
				}
			}
			b.ReportMetric(float64(requests), "requests")
			b.ReportMetric(float64(requests)/config.DefaultRequestsPerSecond, fmt.Sprintf("s@%drps", config.DefaultRequestsPerSecond))
			for op, n := range ops {
				b.ReportMetric(float64(n), op+"-requests")
			}
		})
	}
}

// BenchmarkSeriesPerWABA counts the series one WABA exports (gauges,
// counters and the exporter's own), with the default configuration and with
// every breakdown turned on, for the demo's retailer (3 numbers, 4
// countries) and for a large WABA (5 numbers sending to 30 countries, with
// traffic in every combination of breakdowns, which real WABAs do not
// have: an upper bound).
func BenchmarkSeriesPerWABA(b *testing.B) {
	large := demo.MetaWABAs()[0]
	large.Volume = 100000 // traffic in every breakdown
	large.Phones = nil
	for i := range 5 {
		large.Phones = append(large.Phones, fakeapi.Phone{Number: fmt.Sprint("1650555010", i), Display: fmt.Sprint("+1 650-555-010", i), Weight: 1})
	}
	large.Countries = nil
	for _, c := range strings.Fields("US BR IN DE GB FR ES IT MX AR CO CL PE NG ZA EG KE TR SA AE ID PH VN TH MY PK BD JP KR AU") {
		large.Countries = append(large.Countries, fakeapi.Country{Code: c, Weight: 1.0 / 30, PriceFactor: 1})
	}
	everything := func(a *config.Account) {
		a.MaxSeries = 1 << 30 // count them all, past the default cap
		a.Conversations.Enabled = enabled
		a.Conversations.Dimensions = config.AllConversationDimensions
		a.Pricing.Dimensions = config.AllPricingDimensions
		a.Messaging.SplitBy = []string{"PHONE", "COUNTRY"}
		for _, c := range large.Countries {
			a.Messaging.CountryCodes = append(a.Messaging.CountryCodes, c.Code)
		}
	}
	for _, tc := range []struct {
		name string
		waba fakeapi.WABA
		mod  func(*config.Account)
	}{
		{"retailer/defaults", demo.MetaWABAs()[0], nil},
		{"retailer/everything", demo.MetaWABAs()[0], everything},
		{"large/defaults", large, nil},
		{"large/everything", large, everything},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tc.waba.Token = "bench"
			_, url := fakeGraph(b, []fakeapi.WABA{tc.waba}, fakeapi.Options{Now: func() time.Time { return earlyInMonth }, PageSize: 100000})
			var series int
			for b.Loop() {
				e := newExporter([]Target{metaTarget(b, testAccount(b, tc.waba.WABAID, url, "bench", tc.mod))}, Options{Now: func() time.Time { return earlyInMonth }})
				refreshAll(e)
				series = testutil.CollectAndCount(e.Collector)
			}
			b.ReportMetric(float64(series), "series")
		})
	}
}
