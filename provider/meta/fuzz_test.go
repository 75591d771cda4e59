package meta

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider/internal/wire"
)

// FuzzDecodeResponses feeds arbitrary bodies and headers to every decoder of
// a Graph answer: the analytics pages of each family, the edges, the error
// envelope and the usage headers. Whatever comes back, they must not panic,
// and a page that decodes must convert.
//
//	go test -fuzz=FuzzDecodeResponses ./provider/meta/
func FuzzDecodeResponses(f *testing.F) {
	for _, pattern := range []string{"testdata/*.json", "testdata/quirks/*.json"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(errorBody(4, 2446079, true, `,"error_user_title":"Cost not available"`)))
	f.Add([]byte(`{"` + wabaID + `":[{"type":"whatsapp","call_count":"x","estimated_time_to_regain_access":1e308}]}`))
	f.Add([]byte(`{"data":[{"id":1e400,"display_phone_number":null}],"paging":{"next":7}}`))
	f.Add([]byte(`{"analytics":{"data_points":[{"start":-9223372036854775808,"end":"2024-02-30"}]}}`))

	c, err := New(Options{BaseURL: "https://graph.example.com", APIVersion: "v21.0", AccessToken: token})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, body []byte) {
		var m page[messagingWire]
		if c.decodePage(ctx, "analytics", body, &m) == nil {
			convert(m.points(), messagingWire.point)
			m.next()
		}
		var cv page[conversationWire]
		if c.decodePage(ctx, "conversation_analytics", body, &cv) == nil {
			convert(cv.points(), conversationWire.point)
		}
		var p page[pricingWire]
		if c.decodePage(ctx, "pricing_analytics", body, &p) == nil {
			convert(p.points(), pricingWire.point)
		}
		var cl page[callWire]
		if c.decodePage(ctx, "call_analytics", body, &cl) == nil {
			convert(cl.points(), callWire.point)
		}
		var tp page[templateWire]
		if c.decodePage(ctx, "template_analytics", body, &tp) == nil {
			convert(tp.points(), templateWire.point)
			if next := tp.next(); next != "" {
				if u, err := wire.NextPage(c.base, next); err == nil {
					c.signNext(u)
				}
			}
		}
		for _, status := range []int{400, 429, 500} {
			if e := graphError(status, http.Header{}, body); e != nil {
				_ = e.Error()
			}
		}
		h := http.Header{}
		h.Set("X-Business-Use-Case-Usage", string(body))
		h.Set("X-App-Usage", string(body))
		usageReports(h)
		regainAccess(h)
	})
}
