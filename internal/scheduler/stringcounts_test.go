package scheduler

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// stringCount matches a count or cost spelled as a numeric string.
var stringCount = regexp.MustCompile(`"(sent|delivered|read|conversation|volume|cost|count|value|clicked)":"[0-9]`)

// countSpelled passes requests to h and counts the answers that spell a
// count as a string, to show that a test really got some.
func countSpelled(h http.Handler, n *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if stringCount.Match(rec.Body.Bytes()) {
			n.Add(1)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// An API that spells its counts and costs as numeric strings ("12"), as
// Meta's has begun to for some, gets exactly the /metrics of one that sends
// numbers: every family, every value, every health and request metric, on
// Meta and on Vonage, over two refreshes.
func TestStringCountsExportTheSame(t *testing.T) {
	const waba, token = "2003", "string-counts-token"
	meta := func(spell bool) (string, int32) {
		clk := newClock(testNow)
		g := fakeapi.NewGraph([]fakeapi.WABA{testFakeAccount(waba, token)}, fakeapi.Options{Now: clk.Now})
		if spell {
			g.Inject(waba, fakeapi.Fault{Kind: fakeapi.StringCounts}) // until cleared
		}
		var spelled atomic.Int32
		srv := httptest.NewServer(countSpelled(g, &spelled))
		defer srv.Close()
		e := newExporter([]Target{metaTarget(t, testAccount(t, waba, srv.URL, token, nil))}, Options{Now: clk.Now})
		refreshAll(e)
		clk.Add(time.Hour)
		refreshAll(e)
		return exposition(t, e, ""), spelled.Load()
	}
	vonage := func(spell bool) (string, int32) {
		const key, secret = "a1b2c3d4", "string-counts-secret"
		a := demo.VonageWABAs()[0]
		a.APIKey, a.Token = key, secret
		v := fakeapi.NewVonage([]fakeapi.WABA{a}, fakeapi.Options{Now: func() time.Time { return sourcesNow }})
		if spell {
			v.Inject(a.WABAID, fakeapi.Fault{Kind: fakeapi.StringCounts})
		}
		var spelled atomic.Int32
		srv := httptest.NewServer(countSpelled(v, &spelled))
		defer srv.Close()
		targets, err := Targets(vonageTarget(t, srv.URL, a.WABAID, key, secret))
		if err != nil {
			t.Fatal(err)
		}
		e := newExporter(targets, Options{Now: func() time.Time { return sourcesNow }})
		refreshAll(e)
		refreshAll(e)
		return exposition(t, e, ""), spelled.Load()
	}
	for name, run := range map[string]func(bool) (string, int32){"meta": meta, "vonage": vonage} {
		t.Run(name, func(t *testing.T) {
			want, n := run(false)
			if n != 0 {
				t.Fatalf("%d answers spelled counts as strings without the fault", n)
			}
			got, n := run(true)
			if n == 0 {
				t.Fatal("no answer spelled a count as a string: the test proves nothing")
			}
			if len(lines(want, "whatsapp_messages_sent_total{")) == 0 || len(lines(want, "whatsapp_template_sent_newest{")) == 0 {
				t.Fatalf("the plain run exported no data:\n%s", want)
			}
			if got != want {
				t.Errorf("with counts as strings (%d answers) /metrics reads\n%s\nwant, as with numbers:\n%s", n, got, want)
			}
		})
	}
}
