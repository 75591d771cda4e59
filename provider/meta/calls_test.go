package meta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// TestCallsDocumentExample serves call_analytics the Analytics page's
// example answer and checks the request the client builds for it (the
// example's DAILY window, its one direction) and the point decoded.
func TestCallsDocumentExample(t *testing.T) {
	g := newGraph(t, serveFile(t, "call_analytics.json"))
	pts, err := newClient(t, g.URL).Calls(context.Background(), provider.CallQuery{
		WABAID: wabaID, Window: window(1765958400, 1766044800, provider.Day),
		PhoneNumbers: []string{"16505550111"}, Directions: []string{"USER_INITIATED"}, Cost: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.CallPoint{{Start: at(1765958400), End: at(1766044800), Count: f(35), Cost: f(0.47795), AverageDuration: f(106)}}
	if !reflect.DeepEqual(pts, want) {
		t.Errorf("points:\n%s\nwant:\n%s", dump(pts), dump(want))
	}
	r := g.seen()[0]
	wantQuery := url.Values{"fields": {`call_analytics.start(1765958400).end(1766044800).granularity(DAILY).phone_numbers(["16505550111"]).directions(["USER_INITIATED"]).metric_types(["COUNT","AVERAGE_DURATION","COST"])`}}
	if r.Path != "/v21.0/"+wabaID || !reflect.DeepEqual(r.Query, wantQuery) {
		t.Errorf("request %s %v, want %v", r.Path, r.Query, wantQuery)
	}
}

// TestCallsWithoutCost: without cost, COST is not asked for and a point
// without it reads unknown; a partner-billed WABA's refusal is
// recognised as such.
func TestCallsWithoutCost(t *testing.T) {
	g := newGraph(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			fmt.Fprint(w, `{"call_analytics":{"data_points":[{"start":0,"end":1800,"count":2,"average_duration":30}]},"id":"1"}`)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"Cost is no longer shown for businesses who bill through a partner","code":100,"error_user_title":"Cost not available"}}`)
	})
	c := newClient(t, g.URL)
	q := provider.CallQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)}
	pts, err := c.Calls(context.Background(), q)
	if err != nil || len(pts) != 1 || pts[0].Cost != nil || *pts[0].Count != 2 {
		t.Fatalf("points %s, error %v", dump(pts), err)
	}
	if got := g.seen()[0].Query.Get("fields"); got != `call_analytics.start(0).end(1800).granularity(HALF_HOUR).metric_types(["COUNT","AVERAGE_DURATION"])` {
		t.Errorf("fields %s", got)
	}
	q.Cost = true
	if _, err := c.Calls(context.Background(), q); !errors.Is(err, provider.ErrCostUnavailable) {
		t.Errorf("error %v, want the cost-unavailable cause", err)
	}
}
