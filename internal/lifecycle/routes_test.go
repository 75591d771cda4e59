package lifecycle

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-kit/log"
)

func TestRoutes(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "metrics here\n") })
	tests := []struct {
		metricsPath, path string
		wantStatus        int
		wantBody          string
	}{
		{"/metrics", "/metrics", 200, "metrics here"},
		{"/metrics", "/-/healthy", 200, "Healthy"},
		{"/metrics", "/", 200, `href="/metrics"`}, // the landing page links the metrics
		{"/metrics", "/nothing", 404, ""},
		{"/", "/", 200, "metrics here"}, // no landing page in the way
		{"/", "/-/healthy", 200, "Healthy"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(Routes(tt.metricsPath, metrics, log.NewNopLogger()))
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
			t.Errorf("metrics on %s, GET %s: %d %q, want %d with %q", tt.metricsPath, tt.path, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
		}
	}
}
