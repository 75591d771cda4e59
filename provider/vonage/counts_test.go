package vonage

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/internal/wiretest"
)

// countKeys are the fields the decoders read as wire.Number.
var countKeys = []string{"sent", "delivered", "read", "volume", "clicked"}

// respell is wiretest.Respell on the count keys.
func respell(body []byte, asStrings bool) (out []byte, n int, ok bool) {
	return wiretest.Respell(body, asStrings, countKeys...)
}

// fetchAll asks every endpoint once, each answering body on its first page
// and an empty last page after, and returns the points or error of each.
func fetchAll(t *testing.T, body []byte) map[string]any {
	var requests atomic.Int32
	c, _ := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) > 1 {
			writeBody(w, 200, []byte(`{"_embedded": {}}`))
			return
		}
		writeBody(w, 200, body)
	})
	ctx := context.Background()
	w := provider.Window{Start: day(2024, 11, 10), End: day(2024, 11, 14), Granularity: provider.Day}
	out := map[string]any{}
	keep := func(name string, points any, err error) {
		requests.Store(0)
		if err != nil {
			out[name] = "error"
			return
		}
		out[name] = points
	}
	m, err := c.Messaging(ctx, provider.MessagingQuery{WABAID: testWABA, Window: w})
	keep(opMessaging, m, err)
	p, err := c.Pricing(ctx, provider.PricingQuery{WABAID: testWABA, Window: w})
	keep(opPricing, p, err)
	tp, err := c.Templates(ctx, provider.TemplateQuery{WABAID: testWABA, Window: w, TemplateIDs: []string{"458951126288942"}})
	keep(opTemplates, tp, err)
	return out
}

// The document's examples with every count spelled as a numeric string, as
// the API has begun to send some, give the same points as with numbers.
func TestDocumentExamplesWithCountsAsStrings(t *testing.T) {
	for _, name := range []string{"messaging-analytics.json", "template-analytics.json", "pricing-analytics.json"} {
		t.Run(name, func(t *testing.T) {
			body := fixture(t, name)
			spelled, n, ok := respell(body, true)
			if !ok || n == 0 {
				t.Fatalf("respelled %d counts of the fixture (JSON: %v)", n, ok)
			}
			want, got := fetchAll(t, body), fetchAll(t, spelled)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("with counts as strings:\n%+v\nwant, as with numbers:\n%+v", got, want)
			}
			if own := reflect.ValueOf(want[strings.TrimSuffix(name, ".json")]); own.Kind() != reflect.Slice || own.Len() == 0 {
				t.Errorf("the example gives its own endpoint no points: %+v", want)
			}
		})
	}
}

// Answers like the document's examples, counts as strings: the points are
// those of the numbers, and a count left out or null stays unknown.
func TestCountsAsStrings(t *testing.T) {
	c, _ := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/"+opMessaging):
			writeBody(w, 200, []byte(`{"_embedded": {"messaging_analytics": [{"start": "1543543200", "end": "1543629600", "sent": "100", "delivered": null}]}}`))
		case strings.HasSuffix(r.URL.Path, "/"+opPricing):
			writeBody(w, 200, []byte(`{"_embedded": {"pricing_analytics": [{"start": "2024-11-11T00:00:00Z", "end": "2024-11-11T00:00:00Z", "country": "US", "volume": "100"}]}}`))
		case strings.HasSuffix(r.URL.Path, "/"+opTemplates):
			writeBody(w, 200, []byte(`{"_embedded": {"template_analytics": [{"template_id": "458951126288942", "start": "2024-11-11T00:00:00Z", "end": "2024-11-11T00:00:00Z",
				"sent": "100", "delivered": "90", "read": 80, "clicked": "70"}]}}`))
		}
	})
	ctx := context.Background()
	w := provider.Window{Start: day(2024, 11, 10), End: day(2024, 11, 14), Granularity: provider.Day}

	m, err := c.Messaging(ctx, provider.MessagingQuery{WABAID: testWABA, Window: provider.Window{Start: day(2018, 11, 30), End: day(2018, 12, 1), Granularity: provider.Day}})
	wantM := []provider.MessagingPoint{{Start: time.Unix(1543543200, 0).UTC(), End: time.Unix(1543629600, 0).UTC(), Sent: ptr(100)}}
	if err != nil || !reflect.DeepEqual(m, wantM) {
		t.Errorf("messaging %+v, %v; want %+v", m, err, wantM)
	}
	p, err := c.Pricing(ctx, provider.PricingQuery{WABAID: testWABA, Window: w})
	wantP := []provider.PricingPoint{{Start: day(2024, 11, 11), End: day(2024, 11, 12), Country: "US", Volume: ptr(100)}}
	if err != nil || !reflect.DeepEqual(p, wantP) {
		t.Errorf("pricing %+v, %v; want %+v", p, err, wantP)
	}
	tp, err := c.Templates(ctx, provider.TemplateQuery{WABAID: testWABA, Window: w, TemplateIDs: []string{"458951126288942"}})
	wantT := []provider.TemplatePoint{{TemplateID: "458951126288942", Start: day(2024, 11, 11), End: day(2024, 11, 12),
		Sent: ptr(100), Delivered: ptr(90), Read: ptr(80), Clicked: []provider.ButtonClicks{{Count: 70}}}}
	if err != nil || !reflect.DeepEqual(tp, wantT) {
		t.Errorf("templates %+v, %v; want %+v", tp, err, wantT)
	}
}
