package collector

// Benchmarks. Run them with
//
//	go test -run '^$' -bench . -benchmem ./collector/
//
// Each is sized to finish within a few seconds at the default -benchtime,
// but BenchmarkScrape, whose client_golang baseline takes about a second a
// scrape: about half a minute.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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

// fleetSnapshot is a WABA as the default configuration exports it, with
// account health: messaging unsplit, pricing by category, type and country
// where there was traffic (16 cells), six templates sent through the Cloud
// API, three with a URL button, and three phone numbers. About 380 series:
// BenchmarkSeriesPerWABA (internal/scheduler) counts 191 for the demo's
// retailer on the defaults without health, and health adds 33 per number
// and 18 per template; a fleet user measured 366 per WABA.
func fleetSnapshot(wabaID string) *analytics.Snapshot {
	now := time.Date(2024, 6, 3, 12, 10, 0, 0, time.UTC)
	var messaging, pricing, templates, mtdMessaging, mtdPricing, mtdTemplates []analytics.Value
	value := func(out *[]analytics.Value, m analytics.Measure, v float64, d analytics.Dimensions) {
		*out = append(*out, analytics.Value{Measure: m, Dimensions: d, Value: v})
	}
	value(&messaging, analytics.MessagesSent, 412, analytics.Dimensions{})
	value(&messaging, analytics.MessagesDelivered, 398, analytics.Dimensions{})
	value(&mtdMessaging, analytics.MessagesSent, 18734, analytics.Dimensions{})
	value(&mtdMessaging, analytics.MessagesDelivered, 18102, analytics.Dimensions{})
	cells := 0
	for _, country := range []string{"US", "BR", "IN", "MX"} {
		for _, cat := range []string{"AUTHENTICATION", "MARKETING", "SERVICE", "UTILITY"} {
			for _, typ := range []string{"REGULAR", "FREE_CUSTOMER_SERVICE"} {
				if cells++; cells%2 == 0 {
					continue // no traffic in every cell
				}
				d := analytics.Dimensions{Country: country, PricingCategory: cat, PricingType: typ}
				value(&pricing, analytics.PricingVolume, float64(7*cells), d)
				value(&pricing, analytics.PricingCost, 0.0125*float64(cells), d)
				value(&mtdPricing, analytics.PricingVolume, float64(311*cells), d)
				value(&mtdPricing, analytics.PricingCost, 3.8875*float64(cells), d)
			}
		}
	}
	health := &analytics.Health{Refresh: analytics.Refresh{Success: true, LastSuccess: now, Duration: 400 * time.Millisecond}}
	limit := 10000.0
	for i := range 3 {
		number := fmt.Sprint("1650555011", i)
		health.Phones = append(health.Phones, analytics.PhoneHealth{PhoneNumber: number, ID: fmt.Sprint("10654035224292", i),
			DisplayPhoneNumber: fmt.Sprint("+1 650-555-011", i), VerifiedName: "Acme Retail", Status: "CONNECTED", QualityRating: "GREEN",
			NameStatus: "APPROVED", ThroughputLevel: "STANDARD", MessagingLimit: "TIER_10K", MessagingLimitRecipients: &limit, CanSendMessage: "AVAILABLE"})
	}
	for i := range 6 {
		id := fmt.Sprint(1421988012088520 + i)
		health.Templates = append(health.Templates, analytics.TemplateHealth{TemplateID: id, Name: fmt.Sprint("order_update_", i),
			Language: "en_US", Status: "APPROVED", Category: "UTILITY", QualityScore: "GREEN"})
		d := analytics.Dimensions{TemplateID: id, ProductType: "cloud_api"}
		for _, m := range []analytics.Measure{analytics.TemplateSent, analytics.TemplateDelivered, analytics.TemplateRead} {
			value(&templates, m, float64(1000-100*int(m)+i), d)
			value(&mtdTemplates, m, float64(3000-100*int(m)+i), d)
		}
		value(&templates, analytics.TemplateAmountSpent, 3.88+float64(i), d)
		value(&mtdTemplates, analytics.TemplateAmountSpent, 11.64+float64(i), d)
		for _, cost := range []string{"cost_per_delivered", "cost_per_url_button_click"} {
			c := d
			c.CostType = cost
			value(&templates, analytics.TemplateUnitCost, 0.004+float64(i)/1000, c)
		}
		if i%2 == 0 {
			click := d
			click.ButtonType, click.ButtonContent = "url_button", "Track order"
			value(&templates, analytics.TemplateClicked, float64(40+i), click)
			value(&mtdTemplates, analytics.TemplateClicked, float64(120+i), click)
			unique := d
			unique.ButtonContent = "Track order"
			value(&templates, analytics.TemplateUniqueClicks, float64(31+i), unique)
		}
	}
	refresh := func(values, mtd []analytics.Value, bucket time.Duration) *analytics.Refresh {
		return &analytics.Refresh{Success: true, LastSuccess: now, Duration: 800 * time.Millisecond,
			BucketStart: now.Add(-40 * time.Minute).Add(-bucket), BucketEnd: now.Add(-40 * time.Minute), Values: values,
			MonthToDate: &analytics.MonthToDate{Month: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), Values: mtd}}
	}
	return &analytics.Snapshot{
		WABAID: wabaID, Name: "Acme " + wabaID, Provider: "meta", Currency: "USD", MaxDataAge: time.Hour,
		Families: map[provider.Family]*analytics.Refresh{
			provider.Messaging: refresh(messaging, mtdMessaging, 30*time.Minute),
			provider.Pricing:   refresh(pricing, mtdPricing, 30*time.Minute),
			provider.Templates: refresh(templates, mtdTemplates, 24*time.Hour),
		},
		Requests: map[analytics.Outcome]float64{
			{Family: analytics.AccountFamily, Code: "200"}: 1, {Family: analytics.HealthFamily, Code: "200"}: 8,
			{Family: provider.Messaging, Code: "200"}: 96, {Family: provider.Pricing, Code: "200"}: 96, {Family: provider.Templates, Code: "200"}: 16,
		},
		Health:     health,
		APIVersion: &analytics.APIVersion{Configured: "v25.0", Served: "v25.0", Expires: time.Date(2028, 7, 1, 0, 0, 0, 0, time.UTC)},
	}
}

// fleet returns the snapshots of n WABAs of a profile.
func fleet(n int, profile func(string) *analytics.Snapshot) []*analytics.Snapshot {
	snapshots := make([]*analytics.Snapshot, n)
	for i := range snapshots {
		snapshots[i] = profile(fmt.Sprint(100000000000000 + i))
	}
	return snapshots
}

// heapAfter returns how much more heap is live after f than before.
func heapAfter(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return after.HeapAlloc - before.HeapAlloc
}

// cached is a prometheus.Collector of const metrics built once: what the
// collector kept before it pre-rendered, and the baseline of the scrape
// benchmarks, client_golang alone on the same series.
type cached []prometheus.Metric

func (c cached) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c cached) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}

// collect returns what c sends on one Collect.
func collect(c prometheus.Collector) cached {
	ch := make(chan prometheus.Metric, 1024)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	var out cached
	for m := range ch {
		out = append(out, m)
	}
	return out
}

// counter is a ResponseWriter that counts what is written and keeps none of it.
type counter struct {
	header http.Header
	n      int
}

func (c *counter) Header() http.Header         { return c.header }
func (c *counter) WriteHeader(int)             {}
func (c *counter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// BenchmarkScrape is a scrape of 1,000 WABAs of the fleet profile (about
// 380,000 series) through the collector's handler, and through
// client_golang's promhttp over the same series as const metrics built
// once (what the collector used to keep), in both formats, plain and
// gzipped. heapB/series is the heap each keeps for a series: the
// pre-rendered accounts (the snapshots are the scheduler's either way), or
// the const metrics.
func BenchmarkScrape(b *testing.B) {
	snapshots := fleet(1000, fleetSnapshot)
	c := New(Options{Now: func() time.Time { return snapshots[0].Families[provider.Messaging].LastSuccess }})
	prerendered := heapAfter(func() {
		for _, s := range snapshots {
			c.Publish(s)
		}
	})
	var metrics cached
	constMetrics := heapAfter(func() { metrics = collect(c) })
	series := len(metrics)
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)
	for _, h := range []struct {
		name    string
		handler http.Handler
		heap    uint64
	}{
		{"prerendered", c.Handler(prometheus.NewRegistry(), HandlerOpts{}), prerendered},
		{"client_golang", promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}), constMetrics},
	} {
		for _, format := range []struct{ name, accept string }{{"openmetrics", "application/openmetrics-text;version=1.0.0"}, {"text", "text/plain;version=0.0.4"}} {
			for _, encoding := range []string{"identity", "gzip"} {
				b.Run(fmt.Sprintf("%s/%s/%s", h.name, format.name, encoding), func(b *testing.B) {
					req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
					req.Header.Set("Accept", format.accept)
					req.Header.Set("Accept-Encoding", encoding)
					w := &counter{}
					b.ReportAllocs()
					for b.Loop() {
						w.header, w.n = http.Header{}, 0
						h.handler.ServeHTTP(w, req)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(series), "ns/series")
					b.ReportMetric(float64(w.n), "B/scrape")
					b.ReportMetric(float64(series), "series")
					b.ReportMetric(float64(h.heap)/float64(series), "heapB/series")
				})
			}
		}
	}
	runtime.KeepAlive(snapshots)
}

// BenchmarkPublish is rendering one WABA's snapshot, which the scheduler
// does after each step of a refresh.
func BenchmarkPublish(b *testing.B) {
	for _, profile := range []struct {
		name     string
		snapshot func(string) *analytics.Snapshot
	}{{"fleet", fleetSnapshot}, {"profile", profileSnapshot}} {
		b.Run(profile.name, func(b *testing.B) {
			s := profile.snapshot("102290129340398")
			c := New(Options{Now: func() time.Time { return s.Families[provider.Messaging].LastSuccess }})
			series := len(collect(func() *Collector { c.Publish(s); return c }()))
			b.ReportAllocs()
			for b.Loop() {
				c.Publish(s)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(series), "ns/series")
			b.ReportMetric(float64(series), "series")
		})
	}
}
