package collector

// Benchmarks. Run them with
//
//	go test -run '^$' -bench . -benchmem ./collector/
//
// Each is sized to finish within a few seconds at the default -benchtime.

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// profileSnapshot is a typical WABA after a successful refresh of every
// family: one phone number sending to three countries, every breakdown
// dimension with cost, five templates with a button and three cost figures.
func profileSnapshot(wabaID string) *analytics.Snapshot {
	now := time.Date(2024, 6, 3, 12, 10, 0, 0, time.UTC)
	refresh := func(values []analytics.Value) *analytics.Refresh {
		return &analytics.Refresh{Success: true, LastSuccess: now, Duration: time.Second,
			BucketStart: now.Add(-70 * time.Minute), BucketEnd: now.Add(-40 * time.Minute), Values: values}
	}
	value := func(m analytics.Measure, v float64, d analytics.Dimensions) analytics.Value {
		return analytics.Value{Measure: m, Dimensions: d, Value: v}
	}
	var messaging, conversations, pricing, templates []analytics.Value
	for _, country := range []string{"US", "BR", "IN"} {
		d := analytics.Dimensions{PhoneNumber: "16505550111", Country: country}
		messaging = append(messaging, value(analytics.MessagesSent, 100, d), value(analytics.MessagesDelivered, 97, d))
		for _, cat := range []string{"AUTHENTICATION", "MARKETING", "SERVICE", "UTILITY"} {
			for _, typ := range []string{"REGULAR", "FREE_TIER", "FREE_ENTRY_POINT"} {
				for _, dir := range []string{"BUSINESS_INITIATED", "USER_INITIATED"} {
					c := d
					c.ConversationCategory, c.ConversationType, c.ConversationDirection = cat, typ, dir
					conversations = append(conversations, value(analytics.Conversations, 3, c), value(analytics.ConversationCost, 0.05, c))
				}
				p := d
				p.PricingCategory, p.PricingType, p.Tier = cat, typ, "0:750000"
				pricing = append(pricing, value(analytics.PricingVolume, 7, p), value(analytics.PricingCost, 0.1, p))
			}
		}
	}
	for _, id := range []string{"1421988012088524", "2632273056924580", "954638012257287", "969725530748535", "1924084211297547"} {
		d := analytics.Dimensions{TemplateID: id}
		templates = append(templates, value(analytics.TemplateSent, 1000, d), value(analytics.TemplateDelivered, 970, d), value(analytics.TemplateRead, 600, d))
		click := d
		click.ButtonType, click.ButtonContent = "url_button", "Track order"
		templates = append(templates, value(analytics.TemplateClicked, 40, click))
		templates = append(templates, value(analytics.TemplateAmountSpent, 3.88, d))
		for _, cost := range []struct {
			kind  string
			value float64
		}{{"cost_per_delivered", 0.004}, {"cost_per_url_button_click", 0.097}} {
			c := d
			c.CostType = cost.kind
			templates = append(templates, value(analytics.TemplateUnitCost, cost.value, c))
		}
	}
	return &analytics.Snapshot{
		WABAID: wabaID, Name: "Acme " + wabaID, Provider: "meta",
		Families: map[provider.Family]*analytics.Refresh{
			provider.Messaging: refresh(messaging), provider.Conversations: refresh(conversations),
			provider.Pricing: refresh(pricing), provider.Templates: refresh(templates),
		},
		Requests: map[analytics.Outcome]float64{
			{Family: provider.Messaging, Code: "200"}: 30, {Family: provider.Conversations, Code: "200"}: 10,
			{Family: provider.Pricing, Code: "200"}: 10, {Family: provider.Templates, Code: "200"}: 20,
		},
	}
}

// benchCollector is a collector of n profile WABAs; nothing in it ever
// calls an API. It returns the snapshots too: the scheduler keeps the last
// one of each account, so they are part of the exporter's memory.
func benchCollector(n int) (*Collector, []*analytics.Snapshot, int) {
	c := New(Options{})
	var snapshots []*analytics.Snapshot
	for i := range n {
		s := profileSnapshot(fmt.Sprint(100000000000000 + i))
		snapshots = append(snapshots, s)
		c.Publish(s)
	}
	return c, snapshots, drain(c)
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
		c, snapshots, series := benchCollector(n)
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		// The cached metrics and the snapshots they were built from.
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
		runtime.KeepAlive(snapshots)
	}
}

// BenchmarkPublish is turning one WABA's snapshot into its metrics, which
// the scheduler does after each family it refreshes.
func BenchmarkPublish(b *testing.B) {
	c := New(Options{})
	s := profileSnapshot("102290129340398")
	b.ReportAllocs()
	for b.Loop() {
		c.Publish(s)
	}
	b.ReportMetric(float64(drain(c)), "series")
}
