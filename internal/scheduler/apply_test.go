package scheduler

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// Apply keeps the data and counters of the accounts a reload leaves alone,
// starts the ones it adds, stops the ones it removes (their series go), and
// starts afresh the ones it changes.
func TestApply(t *testing.T) {
	const kept, removed, added, changed = "3001", "3002", "3003", "3004"
	clk := newClock(earlyInMonth)
	var wabas []fakeapi.WABA
	for _, id := range []string{kept, removed, added, changed} {
		wabas = append(wabas, testFakeAccount(id, "token-"+id))
	}
	graph, url := fakeGraph(t, wabas, fakeapi.Options{Now: clk.Now})
	target := func(id string, mod func(*config.Account)) Target {
		return metaTarget(t, testAccount(t, id, url, "token-"+id, chain(onlyFamilies("messaging"), mod)))
	}
	e := newExporter([]Target{target(kept, nil), target(removed, nil), target(changed, nil)}, Options{Now: clk.Now})
	refreshAll(e)
	before := dataOf(t, e, kept)
	if !strings.Contains(before, "whatsapp_messages_sent_total{") {
		t.Fatalf("no counters before the reload:\n%s", before)
	}
	keptRequests := graph.Stats(kept).Requests

	e.Apply([]Target{
		target(kept, nil),
		target(added, nil),
		target(changed, func(a *config.Account) { a.Messaging.SplitBy = []string{"PHONE"} }),
	})
	if got := dataOf(t, e, kept); got != before {
		t.Errorf("the unchanged account's series changed with the reload:\n got: %s\nwant: %s", got, before)
	}
	if got := exposition(t, e, removed); got != "" {
		t.Errorf("the removed account still exports:\n%s", got)
	}
	if got := lines(exposition(t, e, added), "whatsapp_exporter_account_info{"); len(got) != 1 {
		t.Errorf("the added account is not exported: %q", got)
	}
	if got := lines(dataOf(t, e, changed), "whatsapp_messages_sent_newest{"); len(got) != 0 {
		t.Errorf("the changed account kept the series of its old configuration: %q", got)
	}
	if graph.Stats(kept).Requests != keptRequests {
		t.Error("the reload itself sent requests for the unchanged account")
	}

	refreshAll(e)
	if got := lines(dataOf(t, e, changed), "whatsapp_messages_sent_newest{"); len(got) != 2 {
		t.Errorf("the changed account, split by phone now, exports %d messaging series, want 2: %q", len(got), got)
	}
	if got := lines(dataOf(t, e, added), "whatsapp_messages_sent_total{"); len(got) != 1 {
		t.Errorf("the added account has no counters after a refresh: %q", got)
	}
	if graph.Stats(removed).Requests == 0 {
		t.Fatal("the removed account was never refreshed; the test is wrong")
	}
	removedRequests := graph.Stats(removed).Requests
	refreshAll(e)
	if graph.Stats(removed).Requests != removedRequests {
		t.Error("the removed account is still refreshed")
	}
}

// While Run runs, Apply stops the loops of removed accounts and starts those
// of new ones; a rotated credential reaches the account's next refresh at
// once, without losing its data.
func TestApplyWhileRunning(t *testing.T) {
	const waba, other = "3101", "3102"
	clk := newClock(earlyInMonth)
	fake := testFakeAccount(waba, "old-token")
	graph, url := fakeGraph(t, []fakeapi.WABA{fake, testFakeAccount(other, "other-token")}, fakeapi.Options{Now: clk.Now})
	target := func(id, token string) Target {
		return metaTarget(t, testAccount(t, id, url, token, onlyFamilies("messaging")))
	}
	var mu sync.Mutex
	refreshes := map[string]int{}
	// The interval is 15 minutes: only the start and a wake make the
	// account refresh during the test.
	e := newExporter([]Target{target(waba, "old-token")}, Options{Now: clk.Now,
		refreshed: func(id string, _ time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			refreshes[id]++
		}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx)
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if cond() {
				return
			}
		}
		t.Fatalf("timed out waiting until %s", what)
	}
	waitFor("the first refresh", func() bool { return strings.Contains(dataOf(t, e, waba), "whatsapp_messages_sent_total{") })
	before := dataOf(t, e, waba)

	// The token rotates: the API takes only the new one from now on.
	requests := graph.Stats(waba).Requests
	graph.SetToken(waba, "new-token")
	e.Apply([]Target{target(waba, "new-token"), target(other, "other-token")})
	waitFor("the other account's first refresh", func() bool {
		return strings.Contains(dataOf(t, e, other), "whatsapp_messages_sent_total{")
	})
	waitFor("a refresh with the new token", func() bool {
		return graph.Stats(waba).Requests > requests &&
			strings.Contains(exposition(t, e, waba), `whatsapp_exporter_refresh_success{family="messaging",waba_id="`+waba+`"} 1`)
	})
	if errs := lines(exposition(t, e, waba), "whatsapp_exporter_api_errors_total{"); len(errs) != 0 {
		t.Errorf("the refresh after the rotation failed: %q", errs)
	}
	if got := dataOf(t, e, waba); got != before {
		t.Errorf("the rotated account's data changed: the data of one clock, so it should not have\n got: %s\nwant: %s", got, before)
	}
	e.Apply([]Target{target(other, "other-token")})
	if got := exposition(t, e, waba); got != "" {
		t.Errorf("the removed account still exports:\n%s", got)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if refreshes[waba] != 2 {
		t.Errorf("the rotated account refreshed %d times, want twice: at the start, and at once with the new credential", refreshes[waba])
	}
}
