package meta

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/internal/wiretest"
)

// countKeys are the fields the decoders read as wire.Number, in Graph's and
// Vonage's answers.
var countKeys = []string{"sent", "delivered", "read", "conversation", "volume", "cost", "count", "value", "clicked"}

// respell is wiretest.Respell on the count keys.
func respell(body []byte, asStrings bool) (out []byte, n int, ok bool) {
	return wiretest.Respell(body, asStrings, countKeys...)
}

// decodeAll decodes a body as a page of every family and returns the
// points of each, or the error.
func decodeAll(c *Client, body []byte) map[string]any {
	ctx := context.Background()
	out := map[string]any{}
	decode := func(op string, into any, points func() any) {
		if err := c.decodePage(ctx, op, body, into); err != nil {
			out[op] = "error"
			return
		}
		out[op] = points()
	}
	var m page[messagingWire]
	decode("analytics", &m, func() any { return convert(m.points(), messagingWire.point) })
	var cv page[conversationWire]
	decode("conversation_analytics", &cv, func() any { return convert(cv.points(), conversationWire.point) })
	var p page[pricingWire]
	decode("pricing_analytics", &p, func() any { return convert(p.points(), pricingWire.point) })
	var tp page[templateWire]
	decode("template_analytics", &tp, func() any { return convert(tp.points(), templateWire.point) })
	return out
}

// The API has begun to send some counts and costs as numeric strings. Every
// example of the reference documents, with each count and cost spelled so,
// decodes to the same points as with numbers.
func TestDocumentExamplesWithCountsAsStrings(t *testing.T) {
	c := newClient(t, "https://graph.example.com")
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			body := fixture(t, filepath.Base(name))
			spelled, n, ok := respell(body, true)
			if !ok || n == 0 {
				t.Fatalf("respelled %d counts of the fixture (JSON: %v)", n, ok)
			}
			want, got := decodeAll(c, body), decodeAll(c, spelled)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("with counts as strings:\n%s\nwant, as with numbers:\n%s", dump(got), dump(want))
			}
		})
	}
}

// An answer like the documents' examples, with its counts and costs as
// strings, through the client: the points are those of the numbers.
func TestCountsAsStrings(t *testing.T) {
	tests := []struct {
		name string
		body string
		call func(context.Context, *Client) (any, error)
		want any
	}{
		{
			name: "messaging",
			body: `{"analytics":{"granularity":"DAY","data_points":[{"start":1543543200,"end":1543629600,"sent":"196093","delivered":"179715"}]}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Messaging(ctx, provider.MessagingQuery{WABAID: wabaID, Window: window(1543543200, 1543629600, provider.Day)})
			},
			want: []provider.MessagingPoint{{Start: at(1543543200), End: at(1543629600), Sent: f(196093), Delivered: f(179715)}},
		},
		{
			name: "conversations, one count left out",
			body: `{"conversation_analytics":{"data":[{"data_points":[
				{"start":1685602800,"end":1685604600,"phone_number":"19195552584","country":"US","conversation_type":"REGULAR","conversation_category":"SERVICE","conversation":"4","cost":"0.0232"},
				{"start":1685602800,"end":1685604600,"conversation_category":"MARKETING","conversation":"3","cost":null}]}]}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Conversations(ctx, provider.ConversationQuery{WABAID: wabaID, Window: window(1685602800, 1685604600, provider.HalfHour), Cost: true})
			},
			want: []provider.ConversationPoint{
				{Start: at(1685602800), End: at(1685604600), PhoneNumber: "19195552584", Country: "US", Type: "REGULAR", Category: "SERVICE", Conversations: f(4), Cost: f(0.0232)},
				{Start: at(1685602800), End: at(1685604600), Category: "MARKETING", Conversations: f(3)},
			},
		},
		{
			name: "pricing",
			body: `{"pricing_analytics":{"data":[{"data_points":[{"start":1726014453,"end":1728581152,"country":"BR","pricing_category":"MARKETING","volume":"40","cost":"2.5"}]}]}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Pricing(ctx, provider.PricingQuery{WABAID: wabaID, Window: window(1726014453, 1728581152, provider.Day), Cost: true})
			},
			want: []provider.PricingPoint{{Start: at(1726014453), End: at(1728581152), Country: "BR", Category: "MARKETING", Volume: f(40), Cost: f(2.5)}},
		},
		{
			name: "templates, clicks and cost values",
			body: `{"data":[{"data_points":[{"template_id":"2632273056924580","start":1718064000,"end":1718150400,"sent":"1","delivered":"1","read":"1",
				"clicked":[{"type":"quick_reply_button","button_content":"Contact Support","count":"108"},{"type":"unique_url_button","button_content":"Tell me more","value":"16"}],
				"cost":[{"type":"amount_spent","value":"0.03"},{"type":"cost_per_delivered","value":0.03}]}]}]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Templates(ctx, provider.TemplateQuery{WABAID: wabaID, Window: window(1718064000, 1718150400, provider.Day), TemplateIDs: []string{"2632273056924580"}, Cost: true})
			},
			want: []provider.TemplatePoint{{TemplateID: "2632273056924580", Start: at(1718064000), End: at(1718150400), Sent: f(1), Delivered: f(1), Read: f(1),
				Clicked: []provider.ButtonClicks{{Type: "quick_reply_button", Content: "Contact Support", Count: 108}, {Type: "unique_url_button", Content: "Tell me more", Count: 16}},
				Cost:    []provider.TemplateCost{{Type: "amount_spent", Value: 0.03}, {Type: "cost_per_delivered", Value: 0.03}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) { io.WriteString(w, tt.body) })
			got, err := tt.call(context.Background(), newClient(t, g.URL))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("points:\n%s\nwant:\n%s", dump(got), dump(tt.want))
			}
		})
	}
}
