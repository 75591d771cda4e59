package meta

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// versionRecorder is a recorder that also wants the served versions.
type versionRecorder struct {
	recorder
	vmu      sync.Mutex
	versions []string
}

func (r *versionRecorder) ObserveVersion(v string) {
	r.vmu.Lock()
	defer r.vmu.Unlock()
	r.versions = append(r.versions, v)
}

// TestServedVersionReported: every answer's facebook-api-version reaches
// the observer, error answers included, and an answer without one reports
// nothing (a BSP that does not forward it).
func TestServedVersionReported(t *testing.T) {
	g := newGraph(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 0:
			w.Header().Set("facebook-api-version", "v22.0")
			w.Write([]byte(`{"analytics":{"data_points":[]},"id":"1"}`))
		case 1:
			w.Header().Set("Facebook-API-Version", " v22.0 ")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":{"message":"(#100) Invalid parameter","code":100}}`))
		default:
			w.Write([]byte(`{"analytics":{"data_points":[]},"id":"1"}`))
		}
	})
	c := newClient(t, g.URL)
	rec := &versionRecorder{}
	ctx := provider.WithObserver(context.Background(), rec)
	q := provider.MessagingQuery{WABAID: wabaID, Window: window(0, 1800, provider.HalfHour)}
	for range 3 {
		c.Messaging(ctx, q)
	}
	if !slices.Equal(rec.versions, []string{"v22.0", "v22.0"}) {
		t.Errorf("observed versions %q, want v22.0 from the two answers that name it", rec.versions)
	}
	// An observer that does not want versions is left alone.
	if _, err := c.Messaging(provider.WithObserver(context.Background(), &recorder{}), q); err != nil {
		t.Fatal(err)
	}
}
