package collector

// Benchmarks. Run them with
//
//	go test -run '^$' -bench . -benchmem ./collector/
//
// Each is sized to finish within a few seconds at the default -benchtime.

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// profile is the shape of a typical WABA for the benchmarks: one phone
// number sending to three countries, five templates, every breakdown
// dimension, six hours of half-hour buckets.
var profile = struct {
	phones, countries, templates []string
	buckets                      int
}{
	phones:    []string{"16505550111"},
	countries: []string{"US", "BR", "IN"},
	templates: []string{"1421988012088524", "2632273056924580", "954638012257287", "969725530748535", "1924084211297547"},
	buckets:   12,
}

var (
	convCategories = []string{"AUTHENTICATION", "MARKETING", "SERVICE", "UTILITY"}
	convTypes      = []string{"REGULAR", "FREE_TIER", "FREE_ENTRY_POINT"}
	convDirections = []string{"BUSINESS_INITIATED", "USER_INITIATED"}
	priceTypes     = []string{"REGULAR", "FREE_CUSTOMER_SERVICE", "FREE_ENTRY_POINT"}
)

func ptr(v float64) *float64 { return &v }

// profileSamples are one refresh's samples of every family of a profile
// WABA, built through the same conversions the refresh uses.
func profileSamples() map[provider.Family][]sample {
	end := testNow.Truncate(30 * time.Minute)
	out := map[provider.Family][]sample{}
	var conv []provider.ConversationPoint
	var pricing []provider.PricingPoint
	for b := 0; b < profile.buckets; b++ {
		e := end.Add(-time.Duration(b) * 30 * time.Minute)
		s := e.Add(-30 * time.Minute)
		for _, phone := range profile.phones {
			for _, country := range profile.countries {
				out[provider.Messaging] = messagingSamples(out[provider.Messaging],
					[]provider.MessagingPoint{{Start: s, End: e, Sent: ptr(100), Delivered: ptr(97)}}, phone, country)
				for _, cat := range convCategories {
					for _, typ := range convTypes {
						for _, dir := range convDirections {
							conv = append(conv, provider.ConversationPoint{Start: s, End: e, PhoneNumber: phone, Country: country,
								Category: cat, Type: typ, Direction: dir, Conversations: ptr(3), Cost: ptr(0.05)})
						}
						pricing = append(pricing, provider.PricingPoint{Start: s, End: e, PhoneNumber: phone, Country: country,
							Category: cat, Type: typ, Tier: "0:750000", Volume: ptr(7), Cost: ptr(0.1)})
					}
				}
			}
		}
	}
	out[provider.Conversations] = conversationSamples(conv, config.AllConversationDimensions)
	out[provider.Pricing] = pricingSamples(pricing, config.AllPricingDimensions)
	var tpl []provider.TemplatePoint
	for d := 1; d <= 3; d++ {
		s := time.Date(2024, 6, d, 0, 0, 0, 0, time.UTC)
		for _, id := range profile.templates {
			tpl = append(tpl, provider.TemplatePoint{TemplateID: id, Start: s, End: s.AddDate(0, 0, 1),
				Sent: ptr(1000), Delivered: ptr(970), Read: ptr(600),
				Clicked: []provider.ButtonClicks{{Type: "url_button", Content: "Track order", Count: 40}},
				Cost:    []provider.TemplateCost{{Type: "amount_spent", Value: 3.88}, {Type: "cost_per_delivered", Value: 0.004}, {Type: "cost_per_url_button_click", Value: 0.097}},
			})
		}
	}
	out[provider.Templates] = templateSamples(tpl)
	return out
}

// benchCollector is a collector of n profile WABAs whose snapshots hold one
// successful refresh each; nothing in it ever calls an API.
func benchCollector(b *testing.B, n int) (*Collector, int) {
	b.Helper()
	samples := profileSamples()
	var targets []Target
	for i := 0; i < n; i++ {
		a := testAccount(b, fmt.Sprint(100000000000000+i), "http://127.0.0.1:1", "t", nil)
		targets = append(targets, Target{Config: a})
	}
	c := New(targets, Options{})
	series := 0
	for _, a := range c.accounts {
		s := a.snapshot.Load().next()
		for f, fs := range samples {
			_, cutoff := window(a.familyConfig(f), testNow)
			s.families[f] = familyStatus{attempted: true, success: true, lastSuccess: testNow, duration: time.Second,
				data: newestBucket(a.cfg.WABAID, fs, cutoff)}
		}
		s.build(a.cfg)
		a.snapshot.Store(s)
		series += len(s.metrics)
	}
	return c, series
}

// drain runs one Collect and counts what it sent, the way a registry reads it.
func drain(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 1024)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	n := 0
	for range ch {
		n++
	}
	return n
}

// BenchmarkCollect is the exporter's side of a scrape: handing the cached
// const metrics to the registry. Gather adds what client_golang does with
// them (sorting, checking, encoding into protobuf), the rest of a scrape's
// CPU short of writing the text.
func BenchmarkCollect(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		c, series := benchCollector(b, n)
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		heapPerSeries := float64(ms1.HeapAlloc-ms0.HeapAlloc) / float64(series)

		b.Run(fmt.Sprintf("wabas=%d/collect", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got := drain(c); got < series {
					b.Fatalf("collected %d metrics, want %d", got, series)
				}
			}
			b.ReportMetric(float64(series), "series")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(series), "ns/series")
			b.ReportMetric(heapPerSeries, "heapB/series")
		})
		b.Run(fmt.Sprintf("wabas=%d/gather", n), func(b *testing.B) {
			reg := prometheus.NewRegistry()
			reg.MustRegister(c)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reg.Gather(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(series), "ns/series")
		})
		runtime.KeepAlive(c)
	}
}

// BenchmarkNewestBucket is the bucket selection and const-metric building of
// one refresh of one family: the conversations of a profile WABA (6h of
// half-hour buckets, 72 label sets with cost).
func BenchmarkNewestBucket(b *testing.B) {
	samples := profileSamples()[provider.Conversations]
	cutoff := testNow.Add(-30 * time.Minute)
	b.ReportAllocs()
	var f family
	for b.Loop() {
		f = newestBucket("102290129340398", samples, cutoff)
	}
	b.ReportMetric(float64(len(samples)), "samples")
	b.ReportMetric(float64(len(f.metrics)), "series")
}

// BenchmarkSnapshotBuild is publishing one WABA's snapshot after a refresh.
func BenchmarkSnapshotBuild(b *testing.B) {
	c, series := benchCollector(b, 1)
	a := c.accounts[0]
	cur := a.snapshot.Load()
	b.ReportAllocs()
	for b.Loop() {
		s := cur.next()
		s.build(a.cfg)
	}
	b.ReportMetric(float64(series), "series")
}

// BenchmarkRefresh is one full refresh of the demo's largest WABA (3 phones,
// 4 countries, messaging split by both, 4 templates) against the fake Graph
// API over loopback HTTP; the fake's own work is included.
func BenchmarkRefresh(b *testing.B) {
	acct := fakeapi.DemoAccounts()[0]
	acct.Token = "bench"
	graph, url := fakeGraph(b, []fakeapi.Account{acct}, fakeapi.Options{Now: func() time.Time { return testNow }})
	cfg := testAccount(b, acct.WABAID, url, "bench", func(a *config.Account) {
		a.Messaging.SplitBy = []string{"PHONE", "COUNTRY"}
		for _, c := range acct.Countries {
			a.Messaging.CountryCodes = append(a.Messaging.CountryCodes, c.Code)
		}
	})
	c := New([]Target{metaTarget(b, cfg)}, Options{Now: func() time.Time { return testNow }})
	a := c.accounts[0]
	c.refresh(context.Background(), a) // warm the connection
	before := graph.Stats(acct.WABAID).Requests
	b.ReportAllocs()
	for b.Loop() {
		c.refresh(context.Background(), a)
	}
	for _, st := range a.snapshot.Load().families {
		if !st.success {
			b.Fatal("a family failed")
		}
	}
	b.ReportMetric(float64(graph.Stats(acct.WABAID).Requests-before)/float64(b.N), "requests/op")
	b.ReportMetric(float64(len(a.snapshot.Load().metrics)), "series")
}
