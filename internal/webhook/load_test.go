package webhook

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	wt "github.com/whatsapp-exporter/whatsapp_exporter/internal/webhook/webhooktest"
)

// sums adds up each webhook counter (statuses by status; histograms by
// count) over all its series.
func sums(t *testing.T, r *Receiver) map[string]float64 {
	t.Helper()
	families, err := registryOf(r).Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" || l.GetName() == "reason" {
					key += "/" + l.GetValue()
				}
			}
			switch {
			case m.GetCounter() != nil:
				out[key] += m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				out[key] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// TestLoad: 50,000 statuses (25,000 messages, sent and delivered) in 500
// signed POSTs from 16 concurrent senders, over loopback HTTP, are each
// counted exactly once; the same 500 POSTs again count nothing more. It
// reports the POSTs' latency and the rate, which it does not assert (they
// depend on the machine; docs/webhooks.md has the figures):
//
//	go test -run TestLoad -v ./internal/webhook/
func TestLoad(t *testing.T) {
	const posts, perPost, senders, messages = 500, 100, 16, 500 * 100 / 2
	r := New(&config.Webhooks{Path: "/webhooks", DedupWindow: config.DefaultWebhookDedupWindow,
		MaxSeries: config.DefaultWebhookMaxSeries, AppSecrets: []config.Secret{secretOne}}, Options{})
	srv := httptest.NewServer(r)
	defer srv.Close()
	bodies := wt.LoadBodies(posts, perPost, time.Unix(1750857384, 0))

	runtime.GC()
	start := time.Now()
	latencies, err := wt.Load(context.Background(), srv.URL+"/webhooks", secretOne, senders, bodies)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"whatsapp_webhook_statuses_total/sent": messages, "whatsapp_webhook_statuses_total/delivered": messages,
		"whatsapp_webhook_priced_messages_total":          messages,
		"whatsapp_webhook_sent_to_delivered_seconds":      messages,
		"whatsapp_exporter_webhook_duplicates_total/sent": 0, "whatsapp_exporter_webhook_duplicates_total/delivered": 0,
		"whatsapp_exporter_webhook_requests_total": posts,
	}
	check := func(when string) {
		got := sums(t, r)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", when, k, got[k], v)
			}
		}
		for _, reason := range skipReasons {
			if n := got["whatsapp_exporter_webhook_skipped_total/"+reason]; n != 0 {
				t.Errorf("%s: %v skipped as %s", when, n, reason)
			}
		}
	}
	check("after the load")
	t.Logf("%d statuses in %d POSTs from %d senders over loopback: %s, %.0f statuses/s; POST latency p50 %s, p99 %s, max %s",
		posts*perPost, posts, senders, took.Round(time.Millisecond), float64(posts*perPost)/took.Seconds(),
		wt.Quantile(latencies, 0.5), wt.Quantile(latencies, 0.99), wt.Quantile(latencies, 1))

	// Meta sends everything again: all duplicates.
	if _, err := wt.Load(context.Background(), srv.URL+"/webhooks", secretOne, senders, bodies); err != nil {
		t.Fatal(err)
	}
	want["whatsapp_exporter_webhook_duplicates_total/sent"] = messages
	want["whatsapp_exporter_webhook_duplicates_total/delivered"] = messages
	want["whatsapp_exporter_webhook_requests_total"] = 2 * posts
	check("after the same load again")
}

// benchBodies are n bodies of perPost statuses, none of whose messages
// another body has.
func benchBodies(n, perPost int, round int) [][]byte {
	bodies := make([][]byte, n)
	for i := range bodies {
		statuses := make([]wt.Status, perPost)
		for j := range statuses {
			statuses[j] = wt.Status{ID: fmt.Sprintf("wamid.bench.%d.%d.%d", round, i, j), Status: "delivered", Timestamp: 1750857384,
				RecipientID: "5511955550113", PricingCategory: "marketing", PricingType: "regular"}
		}
		bodies[i] = wt.Body(change(statuses...))
	}
	return bodies
}

// BenchmarkPost100 is one POST of 100 statuses, as the endpoint handles it:
// signature check, decode, country lookup, counting, answer.
func BenchmarkPost100(b *testing.B) {
	const batch = 200
	r, _ := newReceiver(b, func(c *config.Webhooks) {
		c.DedupWindow, c.MaxSeries = config.DefaultWebhookDedupWindow, config.DefaultWebhookMaxSeries
	})
	var bodies [][]byte
	var signatures []string
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%batch == 0 {
			// Fresh messages, so that every status counts rather than
			// being a duplicate.
			b.StopTimer()
			bodies, signatures = benchBodies(batch, 100, i), nil
			for _, body := range bodies {
				signatures = append(signatures, Sign(secretOne, body))
			}
			b.StartTimer()
		}
		rec := post(r, bodies[i%batch], map[string]string{SignatureHeader: signatures[i%batch]})
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
	b.ReportMetric(100*float64(b.N)/b.Elapsed().Seconds(), "statuses/s")
}

// BenchmarkDecode100 is the decoding alone of a body of 100 statuses.
func BenchmarkDecode100(b *testing.B) {
	body := benchBodies(1, 100, 0)[0]
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if batch, err := Decode(body); err != nil || len(batch.Statuses) != 100 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(100*float64(b.N)/b.Elapsed().Seconds(), "statuses/s")
}

// BenchmarkDedupWindow measures the heap a full window of the default size
// takes, per message remembered.
func BenchmarkDedupWindow(b *testing.B) {
	const size = config.DefaultWebhookDedupWindow
	var perEntry float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		w := newWindow(size)
		for i := range size {
			w.put(uint64(i)*0x9e3779b97f4a7c15, record{sent: 1, seen: seenSent})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEntry = float64(after.HeapAlloc-before.HeapAlloc) / size
		runtime.KeepAlive(w)
	}
	b.ReportMetric(perEntry, "bytes/message")
}
