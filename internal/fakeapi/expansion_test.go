package fakeapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// nodeURL asks the WABA node for a fields parameter.
func nodeURL(base, fields string) string {
	return base + "/v25.0/" + waba + "?" + url.Values{"fields": {fields}}.Encode()
}

// TestFieldExpansionPagesEachField: all four analytics fields come in one
// answer; each paged field's paging.next asks for that field alone, so
// that following each field's links gives exactly that field's points, as
// one big page would.
func TestFieldExpansionPagesEachField(t *testing.T) {
	start, end := now.Add(-3*time.Hour), now
	fields := combinedFields(start, end, "HALF_HOUR")
	g, small := serve(t, fakeapi.Options{Now: func() time.Time { return now }, PageSize: 7})
	_, big := serve(t, fakeapi.Options{Now: func() time.Time { return now }, PageSize: 1 << 20})

	first := get(t, nodeURL(small.URL, fields), token)
	body := first.json(t)
	for _, f := range []string{"analytics", "conversation_analytics", "pricing_analytics", "call_analytics", "id"} {
		if body[f] == nil {
			t.Errorf("the combined answer has no %s: %.300s", f, first.body)
		}
	}
	for _, f := range []string{"analytics", "call_analytics"} {
		if _, next := points(t, first, f); next != "" {
			t.Errorf("%s is not paged, but links to %s", f, next)
		}
	}

	pages := map[string]int{}
	for _, tc := range []struct{ field, expansion string }{
		{"conversation_analytics", fmt.Sprintf("conversation_analytics.start(%d).end(%d).granularity(HALF_HOUR)%s", start.Unix(), end.Unix(), conversationDims)},
		{"pricing_analytics", fmt.Sprintf("pricing_analytics.start(%d).end(%d).granularity(HALF_HOUR)%s", start.Unix(), end.Unix(), pricingDims)},
	} {
		t.Run(tc.field, func(t *testing.T) {
			want, _ := points(t, get(t, nodeURL(big.URL, tc.expansion), token), tc.field)
			got, next := points(t, first, tc.field)
			for next != "" {
				if pages[tc.field]++; pages[tc.field] > 1000 {
					t.Fatal("paging does not end")
				}
				u, err := url.Parse(next)
				if err != nil || !strings.HasPrefix(next, small.URL+"/") {
					t.Fatalf("next link %q leaves the API (%v)", next, err)
				}
				if f := u.Query().Get("fields"); f != tc.expansion {
					t.Fatalf("next link asks for fields %q, want %s's expansion alone: %q", f, tc.field, tc.expansion)
				}
				page := get(t, next, token)
				if v := page.json(t); v["id"] != nil || v["analytics"] != nil || v[tc.field] != nil {
					t.Fatalf("a paging link answers more than the bare page: %.300s", page.body)
				}
				var pts []point
				pts, next = points(t, page, tc.field)
				if len(pts) > 7 {
					t.Fatalf("page of %d points, want at most 7", len(pts))
				}
				got = append(got, pts...)
			}
			if pages[tc.field] < 2 {
				t.Fatalf("%d further pages; the test needs several", pages[tc.field])
			}
			if len(got) != len(want) {
				t.Fatalf("%d points over the pages, want %d", len(got), len(want))
			}
			for i := range want {
				if fmt.Sprint(got[i].Raw) != fmt.Sprint(want[i].Raw) {
					t.Errorf("point %d: %v, want %v", i, got[i].Raw, want[i].Raw)
				}
			}
		})
	}

	// Each GET is one call: the combined request once, each page of each
	// field once, by itself.
	s := g.Stats(waba)
	combined := "analytics,conversation_analytics,pricing_analytics,call_analytics"
	if s.ByOperation[combined] != 1 || s.ByOperation["conversation_analytics"] != pages["conversation_analytics"] ||
		s.ByOperation["pricing_analytics"] != pages["pricing_analytics"] {
		t.Errorf("operations %v, want the combination once and each field's pages %v", s.ByOperation, pages)
	}
	if want := 1 + pages["conversation_analytics"] + pages["pricing_analytics"]; s.Requests != want {
		t.Errorf("%d requests, want %d", s.Requests, want)
	}
}

// A cursor belongs to one paged field: with several fields it is refused,
// not applied to one of them at random.
func TestCursorWithSeveralFieldsIsRefused(t *testing.T) {
	_, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }, PageSize: 7})
	for _, fields := range []string{
		combinedFields(now.Add(-3*time.Hour), now, "HALF_HOUR"),
		"id," + fmt.Sprintf("pricing_analytics.start(%d).end(%d).granularity(HALF_HOUR)", now.Add(-3*time.Hour).Unix(), now.Unix()),
	} {
		a := get(t, nodeURL(srv.URL, fields)+"&after=Nw", token)
		if a.status != http.StatusBadRequest || a.graphErr(t) != 100 {
			t.Errorf("fields %.60s... with a cursor: status %d code %v, want 400 code 100", fields, a.status, a.graphErr(t))
		}
	}
}

// The node's plain fields, name among them.
func TestNodeFields(t *testing.T) {
	named := retailWABA()
	named.Name = "Acme Retail"
	named.Currency, named.TimezoneID = "BRL", "25"
	for _, tc := range []struct {
		name string
		a    fakeapi.WABA
		want map[string]any
	}{
		{"set", named, map[string]any{"id": waba, "name": "Acme Retail", "currency": "BRL", "timezone_id": "25", "is_enabled_for_insights": true}},
		{"defaults", retailWABA(), map[string]any{"id": waba, "name": waba, "currency": "USD", "timezone_id": "0", "is_enabled_for_insights": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }}, tc.a)
			got := get(t, nodeURL(srv.URL, "id,name,currency,timezone_id,is_enabled_for_insights"), token).json(t)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("node %v, want %v", got, tc.want)
			}
		})
	}
}
