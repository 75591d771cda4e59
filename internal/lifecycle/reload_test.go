package lifecycle

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
)

func TestReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yml")
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("accounts:\n  - waba_id: \"1\"\n    access_token: a\n")
	var applied []*config.Config
	var logs bytes.Buffer
	r := New(file, func(c *config.Config) error { applied = append(applied, c); return nil }, log.NewLogfmtLogger(&logs))
	clock := time.Unix(1_700_000_000, 0)
	r.now = func() time.Time { return clock }
	handler := r.Handler()
	post := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
		return rec
	}
	// A good file: applied, and the metrics say so.
	write("accounts:\n  - waba_id: \"1\"\n    access_token: a\n  - waba_id: \"2\"\n    access_token: b\n")
	clock = clock.Add(time.Minute)
	if rec := post(); rec.Code != http.StatusOK {
		t.Fatalf("POST /-/reload: %d %s", rec.Code, rec.Body)
	}
	if len(applied) != 1 || len(applied[0].Accounts) != 2 {
		t.Fatalf("applied %d configurations, want 1 with 2 accounts", len(applied))
	}
	if got := testutil.ToFloat64(r.successful); got != 1 {
		t.Errorf("last_reload_successful = %g after a good reload", got)
	}
	good := testutil.ToFloat64(r.lastSuccess)
	if good != float64(clock.Unix()) {
		t.Errorf("last_reload_success_timestamp_seconds = %g, want %d", good, clock.Unix())
	}

	// A bad file: not applied; the metric drops to 0, the time of the
	// last success stays, and the log and the answer say why, at its line.
	write("accounts:\n  - waba_id: \"1\"\n    access_token: a\n    interval: -5m\n")
	clock = clock.Add(time.Minute)
	rec := post()
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "config.yml:4: accounts[0].interval: must be positive") {
		t.Errorf("POST /-/reload of a bad file: %d %s", rec.Code, rec.Body)
	}
	if len(applied) != 1 {
		t.Error("a bad configuration was applied")
	}
	if got := testutil.ToFloat64(r.successful); got != 0 {
		t.Errorf("last_reload_successful = %g after a bad reload, want 0", got)
	}
	if got := testutil.ToFloat64(r.lastSuccess); got != good {
		t.Errorf("the time of the last success moved to %g on a failure", got)
	}
	if !strings.Contains(logs.String(), "previous one stays in effect") || !strings.Contains(logs.String(), "interval: must be positive") {
		t.Errorf("the log does not say why:\n%s", logs.String())
	}

	// A reload that only GETs is refused, as Prometheus refuses it.
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/-/reload", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", rec.Code)
	}
	if err := testutil.CollectAndCompare(r, strings.NewReader(`
# HELP whatsapp_exporter_config_last_reload_successful Whether the last configuration reload succeeded (1) or failed and left the previous configuration running (0).
# TYPE whatsapp_exporter_config_last_reload_successful gauge
whatsapp_exporter_config_last_reload_successful 0
`), "whatsapp_exporter_config_last_reload_successful"); err != nil {
		t.Error(err)
	}
}
