package main

// Hot reload, as an operator does it: the exporter's binary on a
// configuration file, against a fake Graph API; the file edited, then
// SIGHUP, POST /-/reload with a bad file, and with a good one again.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/promtest"
)

func TestReload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the exporter")
	}
	const kept, removed, added = "4001", "4002", "4003"
	var wabas []fakeapi.WABA
	for _, id := range []string{kept, removed, added} {
		wabas = append(wabas, fakeapi.WABA{WABAID: id, Token: "token-" + id, Volume: 50, DeliveryRate: 0.9,
			Phones:    []fakeapi.Phone{{Number: "1555000" + id, Display: "+1 555-000-" + id, Weight: 1}},
			Countries: []fakeapi.Country{{Code: "US", Weight: 1, PriceFactor: 1}}})
	}
	graph := fakeapi.NewGraph(wabas, fakeapi.Options{})
	api := httptest.NewServer(graph)
	defer api.Close()

	dir := t.TempDir()
	for _, id := range []string{kept, removed, added} {
		e2eWriteFile(t, filepath.Join(dir, id+".token"), "token-"+id+"\n")
	}
	cfg := filepath.Join(dir, "config.yml")
	writeConfig := func(ids ...string) {
		src := fmt.Sprintf("global:\n  requests_per_second: 1000\ndefaults:\n  api_url: %s\n  interval: 2s\n  conversations: {enabled: false}\n  pricing: {enabled: false}\n  templates: {enabled: false}\naccounts:\n", api.URL)
		for _, id := range ids {
			src += fmt.Sprintf("  - waba_id: %q\n    access_token_file: %s.token\n", id, id)
		}
		e2eWriteFile(t, cfg, src)
	}
	writeConfig(kept, removed)

	bin := promtest.BuildExporter(t, dir)
	addr := promtest.FreeAddrs(t, 1)[0]
	exporter := promtest.Start(t, dir, "exporter", bin, "--config.file="+cfg, "--web.enable-lifecycle", "--web.listen-address="+addr)
	scrape := func() string {
		body, _ := promtest.Scrape(addr)
		return string(body)
	}
	waitFor := func(what string, cond func(string) bool) string {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if s := scrape(); cond(s) {
				return s
			}
		}
		raw, _ := os.ReadFile(exporter.Log)
		t.Fatalf("timed out waiting until %s; the exporter's log:\n%s\nits last scrape:\n%s", what, raw, scrape())
		return ""
	}
	counter := func(id string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^whatsapp_messages_sent_total\{[^}]*waba_id="` + id + `"[^}]*\} (\S+)$`)
	}
	has := func(s, id string) bool { return counter(id).MatchString(s) }
	before := waitFor("both accounts have counters", func(s string) bool { return has(s, kept) && has(s, removed) })

	// The kept account's token rotates in its file; one account goes,
	// another comes; SIGHUP.
	graph.SetToken(kept, "rotated-"+kept)
	e2eWriteFile(t, filepath.Join(dir, kept+".token"), "rotated-"+kept+"\n")
	writeConfig(kept, added)
	if err := exporter.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	after := waitFor("the added account has counters and the removed one is gone", func(s string) bool {
		return has(s, added) && !strings.Contains(s, `waba_id="`+removed+`"`)
	})
	if !strings.Contains(after, "whatsapp_exporter_config_last_reload_successful 1") {
		t.Error("last_reload_successful is not 1 after a good reload")
	}
	value := func(s string) float64 {
		m := counter(kept).FindStringSubmatch(s)
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	if b, a := value(before), value(after); a < b {
		t.Errorf("the kept account's counter went from %g to %g across the reload", b, a)
	}
	// The rotated token works: the refreshes after the reload succeed.
	graphRequests := graph.Stats(kept).Requests
	waitFor("a refresh of the kept account with the rotated token", func(s string) bool {
		return graph.Stats(kept).Requests > graphRequests+1 &&
			strings.Contains(s, `whatsapp_exporter_refresh_success{family="messaging",waba_id="`+kept+`"} 1`)
	})
	if s := scrape(); strings.Contains(s, `error_code="190"`) {
		t.Errorf("a request went out with the old token after the reload:\n%s", grep(s, "api_errors_total"))
	}

	// A bad file over POST /-/reload: refused, the old configuration stays.
	e2eWriteFile(t, cfg, "accounts:\n  - waba_id: \"4001\"\n    interval: -1s\n")
	resp, err := http.Post("http://"+addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("POST /-/reload of a bad file: %d, want 500", resp.StatusCode)
	}
	s := scrape()
	if !strings.Contains(s, "whatsapp_exporter_config_last_reload_successful 0") || !has(s, kept) || !has(s, added) {
		t.Errorf("after a bad reload: want last_reload_successful 0 and both accounts still exported:\n%s", grep(s, "reload|messages_sent_total"))
	}
	raw, _ := os.ReadFile(exporter.Log)
	if !strings.Contains(string(raw), "config.yml:3: accounts[0].interval: must be positive") {
		t.Errorf("the log does not say why the reload failed:\n%s", raw)
	}

	writeConfig(kept, added)
	resp, err = http.Post("http://"+addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(scrape(), "whatsapp_exporter_config_last_reload_successful 1") {
		t.Errorf("POST /-/reload of a good file: %d, and last_reload_successful not back to 1", resp.StatusCode)
	}
}

// grep returns the lines of s that match re, for failure messages.
func grep(s, re string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if regexp.MustCompile(re).MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
