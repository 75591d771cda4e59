package fakeapi_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// TestServedOnSeveralListeners: one fake behind three listeners, as three
// replicas of the exporter pointed at three ports would see it. Paging links
// stay on the listener asked, and the stats tell which listener each WABA's
// requests came to, per WABA and in total.
func TestServedOnSeveralListeners(t *testing.T) {
	var wabas []fakeapi.WABA
	for i := range 3 {
		a := retailWABA()
		a.WABAID = fmt.Sprint(102290129340400 + i)
		wabas = append(wabas, a)
	}
	g := fakeapi.NewGraph(wabas, fakeapi.Options{Now: func() time.Time { return now }, PageSize: 50})
	var servers []*httptest.Server
	for range 3 {
		srv := httptest.NewServer(g)
		t.Cleanup(srv.Close)
		servers = append(servers, srv)
	}

	fields := combinedFields(now.Add(-3*time.Hour), now, "HALF_HOUR")
	want := map[string]int{} // requests per WABA
	for i, a := range wabas {
		srv := servers[i]
		first := get(t, srv.URL+"/v25.0/"+a.WABAID+"?"+url.Values{"fields": {fields}}.Encode(), token)
		want[a.WABAID]++
		for _, f := range []string{"conversation_analytics", "pricing_analytics"} {
			_, next := points(t, first, f)
			for next != "" {
				if !strings.HasPrefix(next, srv.URL+"/") {
					t.Fatalf("a page asked on %s links to %s", srv.URL, next)
				}
				_, next = points(t, get(t, next, token), f)
				want[a.WABAID]++
			}
		}
		if want[a.WABAID] < 3 {
			t.Fatalf("WABA %s: %d requests; the test needs pages", a.WABAID, want[a.WABAID])
		}
	}

	calls := g.Calls()
	if len(calls) != 3 {
		t.Fatalf("calls of %d WABAs, want 3: %v", len(calls), calls)
	}
	for i, a := range wabas {
		host := strings.TrimPrefix(servers[i].URL, "http://")
		if c := calls[a.WABAID]; c.Requests != want[a.WABAID] || !slices.Equal(c.Hosts, []string{host}) {
			t.Errorf("WABA %s: %+v, want %d requests from %s only", a.WABAID, c, want[a.WABAID], host)
		}
		if s := g.Stats(a.WABAID); s.ByHost[host] != want[a.WABAID] || s.ByField["call_analytics"] != 1 ||
			s.ByField["pricing_analytics"] != 1+s.ByOperation["pricing_analytics"] {
			t.Errorf("WABA %s: stats %+v", a.WABAID, s)
		}
	}

	total := g.Totals()
	sum := 0
	for i, a := range wabas {
		sum += want[a.WABAID]
		if host := strings.TrimPrefix(servers[i].URL, "http://"); total.ByHost[host] != want[a.WABAID] {
			t.Errorf("host %s: %d requests in total, want %d", host, total.ByHost[host], want[a.WABAID])
		}
	}
	combined := "analytics,conversation_analytics,pricing_analytics,call_analytics"
	if total.Requests != sum || total.WABARequests != sum || total.ListingRequests != 0 || total.WABAs != 3 ||
		total.ByOperation[combined] != 3 || total.ByField["analytics"] != 3 {
		t.Errorf("totals %+v, want %d requests to 3 WABAs, the combination 3 times", total, sum)
	}
	// Totals and Calls are copies.
	total.ByHost["x"] = 1
	if g.Totals().ByHost["x"] != 0 {
		t.Error("Totals shares its maps with the fake")
	}
}
