package scheduler

import (
	"sync"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/collector"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// watcher notes, for each family, how many requests the fake had seen when
// the family's newest bucket was first published.
type watcher struct {
	*collector.Collector
	mu       sync.Mutex
	requests func() int
	at       map[provider.Family]int
}

func (w *watcher) Publish(s *analytics.Snapshot) {
	w.mu.Lock()
	for f, r := range s.Families {
		if _, seen := w.at[f]; !seen && (r.Success || r.Duration > 0) {
			w.at[f] = w.requests()
		}
	}
	w.mu.Unlock()
	w.Collector.Publish(s)
}

// An API that pages a field forever: the page cap ends that family's fetch
// with a counted error, once, without splitting the window to start again;
// the families answered in the same request are published before that
// family's pages, and keep their data.
func TestEndlessPagesBounded(t *testing.T) {
	clk := newClock(earlyInMonth)
	graph, url := fakeGraph(t, []fakeapi.WABA{testFakeAccount(faultyWABA, "t")}, fakeapi.Options{Now: clk.Now, PageSize: 5})
	account := testAccount(t, faultyWABA, url, "t", onlyFamilies("messaging", "pricing"))
	// One refresh, then every further page of pricing links on forever.
	w := &watcher{Collector: collector.New(collector.Options{Now: clk.Now}), at: map[provider.Family]int{},
		requests: func() int { return graph.Stats(faultyWABA).Requests }}
	s := New([]Target{metaTarget(t, account)}, w, Options{Now: clk.Now})
	e := &exporter{Scheduler: s, Collector: w.Collector}
	refreshAll(e)
	clk.Add(time.Hour)
	graph.Inject(faultyWABA, fakeapi.Fault{Kind: fakeapi.EndlessPages, Op: "pricing_analytics"})
	before := graph.Stats(faultyWABA)
	w.mu.Lock()
	clear(w.at)
	w.mu.Unlock()
	refreshAll(e)
	after := graph.Stats(faultyWABA)

	pricingPages := after.ByOperation["pricing_analytics"] - before.ByOperation["pricing_analytics"]
	if want := 200 - 1; pricingPages != want {
		t.Errorf("pricing's further pages: %d requests, want %d (the page cap, less the shared answer's page), and no window split to start again", pricingPages, want)
	}
	text := exposition(t, e, faultyWABA)
	for _, want := range []string{
		`whatsapp_exporter_api_errors_total{error_code="too_many_pages",family="pricing",waba_id="` + faultyWABA + `"} 1`,
		`whatsapp_exporter_refresh_success{family="messaging",waba_id="` + faultyWABA + `"} 1`,
		`whatsapp_exporter_refresh_success{family="pricing",waba_id="` + faultyWABA + `"} 0`,
	} {
		if len(lines(text, want)) != 1 {
			t.Errorf("want %s", want)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if got := w.at[provider.Messaging] - before.Requests; got != 1 {
		t.Errorf("messaging was published after %d requests of the refresh, want 1: it waited for pricing's pages", got)
	}
}
