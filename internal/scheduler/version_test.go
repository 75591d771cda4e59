package scheduler

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// TestAPIVersion follows an account on v21.0 from seven weeks before Meta
// stops serving it until after, against the fake Graph API: the version the
// answers name and the version's end reach /metrics, and each change is
// logged once, not on every refresh.
func TestAPIVersion(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 4, 12, 10, 0, 0, time.UTC))
	g, url := fakeGraph(t, []fakeapi.WABA{testFakeAccount(wabaA, "token")}, fakeapi.Options{Now: clk.Now})
	logs := &logBuffer{}
	acct := testAccount(t, wabaA, url, "token", chain(onlyFamilies("messaging"), func(a *config.Account) { a.APIVersion = "v21.0" }))
	e := newExporter([]Target{metaTarget(t, acct)}, Options{Now: clk.Now, Logger: logs.logger()})
	names := []string{"whatsapp_exporter_api_version_info", "whatsapp_exporter_api_version_expiry_timestamp_seconds"}
	want := func(served string) string {
		return fmt.Sprintf(`
# HELP whatsapp_exporter_api_version_expiry_timestamp_seconds When Meta stops serving the configured Graph API version, as a Unix timestamp; absent when not known.
# TYPE whatsapp_exporter_api_version_expiry_timestamp_seconds gauge
whatsapp_exporter_api_version_expiry_timestamp_seconds{version="v21.0",waba_id="1001"} 1.8004896e+09
# HELP whatsapp_exporter_api_version_info The Graph API version the account's requests name (configured) and the one the API last answered in (served, from the facebook-api-version header; empty until an answer named one); always 1.
# TYPE whatsapp_exporter_api_version_info gauge
whatsapp_exporter_api_version_info{configured="v21.0",served=%q,waba_id="1001"} 1
`, served)
	}
	const (
		ending   = "stops being served within 90 days"
		ended    = "is no longer served"
		answered = "answered in another Graph API version"
		fine     = "fine again"
	)

	// Before the first refresh nothing has answered yet.
	if err := testutil.CollectAndCompare(e, strings.NewReader(want("")), names...); err != nil {
		t.Error(err)
	}
	for range 3 {
		refreshAll(e)
		clk.Add(15 * time.Minute)
	}
	if err := testutil.CollectAndCompare(e, strings.NewReader(want("v21.0")), names...); err != nil {
		t.Error(err)
	}
	if n := logs.count("level=warn", ending, "configured=v21.0", "expires=2027-01-21"); n != 1 {
		t.Errorf("%d warnings that v21.0 ends soon over three refreshes, want 1:\n%s", n, logs)
	}

	// Past its end, Meta answers in the oldest version it still serves.
	clk.Set(time.Date(2027, 1, 22, 0, 0, 0, 0, time.UTC))
	g.SetServedVersion("v22.0")
	for range 3 {
		refreshAll(e)
		clk.Add(15 * time.Minute)
	}
	if err := testutil.CollectAndCompare(e, strings.NewReader(want("v22.0")), names...); err != nil {
		t.Error(err)
	}
	if n := logs.count("level=warn", answered, "configured=v21.0", "served=v22.0"); n != 1 {
		t.Errorf("%d warnings that another version answered, want 1:\n%s", n, logs)
	}
	if n := logs.count(ended) + logs.count(fine); n != 0 {
		t.Errorf("%d other version lines, want none:\n%s", n, logs)
	}
}

// TestAPIVersionStates: what each state of the version logs, once.
func TestAPIVersionStates(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 10, 0, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		version   string
		now       time.Time
		served    string
		wantLog   string
		wantLevel string
		expiry    bool
	}{
		{name: "years left", version: "v25.0", now: now, expiry: true},
		{name: "within 90 days", version: "v21.0", now: now, wantLog: "stops being served within 90 days", wantLevel: "warn", expiry: true},
		{name: "ended, nothing else served yet", version: "v21.0", now: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
			wantLog: "is no longer served", wantLevel: "warn", expiry: true},
		{name: "end not known", version: "v27.0", now: now, wantLog: "is not known", wantLevel: "info"},
		{name: "served another", version: "v25.0", now: now, served: "v26.0", wantLog: "answered in another Graph API version", wantLevel: "warn", expiry: true},
		{name: "served the same, other case", version: "v25.0", now: now, served: "V25.0", expiry: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(tt.now)
			g, url := fakeGraph(t, []fakeapi.WABA{testFakeAccount(wabaA, "token")}, fakeapi.Options{Now: clk.Now})
			g.SetServedVersion(tt.served)
			logs := &logBuffer{}
			acct := testAccount(t, wabaA, url, "token", chain(onlyFamilies("messaging"), func(a *config.Account) { a.APIVersion = tt.version }))
			e := newExporter([]Target{metaTarget(t, acct)}, Options{Now: clk.Now, Logger: logs.logger()})
			refreshAll(e)
			refreshAll(e)
			var n int
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "Graph API version") {
					n++
					if tt.wantLog == "" || !strings.Contains(l, tt.wantLog) || !strings.Contains(l, "level="+tt.wantLevel) {
						t.Errorf("logged %s", l)
					}
				}
			}
			if want := map[bool]int{false: 0, true: 1}[tt.wantLog != ""]; n != want {
				t.Errorf("%d version lines over two refreshes, want %d:\n%s", n, want, logs)
			}
			text := exposition(t, e, wabaA)
			if got := len(lines(text, "whatsapp_exporter_api_version_expiry_timestamp_seconds{")); got != map[bool]int{false: 0, true: 1}[tt.expiry] {
				t.Errorf("%d expiry series, want one only when the end is known:\n%s", got, text)
			}
		})
	}
}
