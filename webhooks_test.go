package main

// The webhook endpoint as an operator runs it: the exporter's binary on a
// configuration file with a webhooks section, on an address of its own,
// its app secret rotated by SIGHUP; and, when asked, the load of issue 19
// against the whole process, with its memory.

import (
	"context"
	"fmt"
	"io"
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
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/webhook/webhooktest"
)

// startWebhookExporter runs the exporter on a fake Graph API with one
// account, and the webhook endpoint on an address of its own, signed with
// the secret in the file app_secret of the returned directory. It returns
// the directory, the exporter and its two addresses.
func startWebhookExporter(t *testing.T, extraConfig string) (dir string, p *promtest.Process, metricsAddr, webhookAddr string) {
	t.Helper()
	graph := fakeapi.NewGraph([]fakeapi.WABA{{WABAID: "4001", Token: "token-4001", Volume: 50, DeliveryRate: 0.9,
		Phones:    []fakeapi.Phone{{Number: "15550004001", Display: "+1 555-000-4001", Weight: 1}},
		Countries: []fakeapi.Country{{Code: "US", Weight: 1, PriceFactor: 1}}}}, fakeapi.Options{})
	api := httptest.NewServer(graph)
	t.Cleanup(api.Close)
	dir = t.TempDir()
	e2eWriteFile(t, filepath.Join(dir, "token"), "token-4001\n")
	e2eWriteFile(t, filepath.Join(dir, "app_secret"), "the-first-secret\n")
	e2eWriteFile(t, filepath.Join(dir, "verify_token"), "verify-me\n")
	e2eWriteFile(t, filepath.Join(dir, "config.yml"), fmt.Sprintf(`defaults:
  api_url: %s
  conversations: {enabled: false}
  pricing: {enabled: false}
  templates: {enabled: false}
accounts:
  - waba_id: "4001"
    access_token_file: token
webhooks:
  verify_token_file: verify_token
  app_secret_files: [app_secret]
%s`, api.URL, extraConfig))
	bin := promtest.BuildExporter(t, dir)
	addrs := promtest.FreeAddrs(t, 2)
	p = promtest.Start(t, dir, "exporter", bin, "--config.file="+filepath.Join(dir, "config.yml"),
		"--web.listen-address="+addrs[0], "--webhooks.listen-address="+addrs[1], "--log.level=debug")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + addrs[1] + "/webhooks"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook endpoint did not come up\n%s", p.Tail())
		}
	}
	return dir, p, addrs[0], addrs[1]
}

func TestWebhookSecretRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the exporter")
	}
	dir, exporter, metricsAddr, webhookAddr := startWebhookExporter(t, "")
	url := "http://" + webhookAddr + "/webhooks"
	body := func(id string) []byte {
		return webhooktest.Body(webhooktest.Change{WABAID: "4001", PhoneNumberID: "104001", DisplayPhoneNumber: "15550004001",
			Statuses: []webhooktest.Status{{ID: id, Status: "sent", Timestamp: 1750857384, RecipientID: "16505551234"}}})
	}
	post := func(secret, id string) int {
		t.Helper()
		code, err := webhooktest.Post(context.Background(), http.DefaultClient, url, secret, body(id))
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	resp, err := http.Get(url + "?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=314159")
	if err != nil {
		t.Fatal(err)
	}
	challenge, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(challenge) != "314159" {
		t.Errorf("handshake: %d %q", resp.StatusCode, challenge)
	}
	if code := post("the-first-secret", "m1"); code != 200 {
		t.Errorf("signed with the secret: %d", code)
	}
	if code := post("the-next-secret", "m2"); code != 403 {
		t.Errorf("signed with a secret not yet configured: %d", code)
	}

	// Meta's app secret is reset: the new one goes in its file, beside the
	// old one while the change rolls out, then alone.
	e2eWriteFile(t, filepath.Join(dir, "next_secret"), "the-next-secret\n")
	config := filepath.Join(dir, "config.yml")
	raw, _ := os.ReadFile(config)
	e2eWriteFile(t, config, strings.Replace(string(raw), "app_secret_files: [app_secret]", "app_secret_files: [next_secret, app_secret]", 1))
	reload := func() {
		if err := exporter.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	reload()
	waitCode := func(secret, id string, want int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); post(secret, id) != want; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("a POST signed with %s is not answered %d after the reload\n%s", secret, want, exporter.Tail())
			}
		}
	}
	waitCode("the-next-secret", "m3", 200)
	if code := post("the-first-secret", "m4"); code != 200 {
		t.Errorf("the old secret during the rotation: %d", code)
	}
	// What was refused was not counted.
	metrics, err := promtest.Scrape(metricsAddr)
	if err != nil {
		t.Fatal(err)
	}
	sent := regexp.MustCompile(`whatsapp_webhook_statuses_total\{[^}]*status="sent"[^}]*\} (\S+)`).FindSubmatch(metrics)
	if sent == nil || string(sent[1]) != "3" {
		t.Errorf("sent statuses counted: %q, want 3 (m1, m3, m4)", sent)
	}
	e2eWriteFile(t, config, strings.Replace(string(raw), "app_secret_files: [app_secret]", "app_secret_files: [next_secret]", 1))
	reload()
	waitCode("the-first-secret", "m5", 403)

	if resp, err := http.Get("http://" + webhookAddr + "/metrics"); err != nil || resp.StatusCode != 404 {
		t.Errorf("the webhook address serves /metrics: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	log, _ := os.ReadFile(exporter.Log)
	for _, secret := range []string{"the-first-secret", "the-next-secret", "verify-me"} {
		if strings.Contains(string(log), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// TestWebhookLoad measures, rather than asserts, the whole exporter under
// the load of issue 19: 50,000 statuses in 500 signed POSTs from 16
// concurrent senders over loopback, each counted exactly once (that it
// does assert); the POSTs' latency, the rate, and the process's peak RSS.
// It takes a few seconds, and the figures depend on the machine, so it runs
// only when asked:
//
//	WHATSAPP_EXPORTER_LOAD=1 go test -run TestWebhookLoad -v .
func TestWebhookLoad(t *testing.T) {
	if os.Getenv("WHATSAPP_EXPORTER_LOAD") == "" {
		t.Skip("a measurement; set WHATSAPP_EXPORTER_LOAD=1 to run it")
	}
	_, exporter, metricsAddr, webhookAddr := startWebhookExporter(t, "")
	const posts, perPost, senders = 500, 100, 16
	bodies := webhooktest.LoadBodies(posts, perPost, time.Unix(1750857384, 0))
	rss := func(field string) string {
		raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", exporter.Cmd.Process.Pid))
		m := regexp.MustCompile(`(?m)^` + field + `:\s+(\d+) kB`).FindSubmatch(raw)
		if m == nil {
			return "?"
		}
		kb, _ := strconv.Atoi(string(m[1]))
		return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
	}
	t.Logf("before the load: RSS %s", rss("VmRSS"))
	start := time.Now()
	latencies, err := webhooktest.Load(context.Background(), "http://"+webhookAddr+"/webhooks", "the-first-secret", senders, bodies)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := promtest.Scrape(metricsAddr)
	if err != nil {
		t.Fatal(err)
	}
	sum := func(re string) float64 {
		total := 0.0
		for _, m := range regexp.MustCompile(`(?m)^`+re+` (\S+)$`).FindAllStringSubmatch(string(metrics), -1) {
			v, _ := strconv.ParseFloat(m[1], 64)
			total += v
		}
		return total
	}
	for status, want := range map[string]float64{"sent": posts * perPost / 2, "delivered": posts * perPost / 2} {
		if got := sum(`whatsapp_webhook_statuses_total\{[^}]*status="` + status + `"[^}]*\}`); got != want {
			t.Errorf("%s statuses counted: %v, want %v", status, got, want)
		}
	}
	if d := sum(`whatsapp_exporter_webhook_duplicates_total\{[^}]*\}`); d != 0 {
		t.Errorf("%v duplicates", d)
	}
	t.Logf("%d statuses in %d POSTs from %d senders: %s, %.0f statuses/s; POST latency p50 %s, p99 %s, max %s; peak RSS %s (now %s)",
		posts*perPost, posts, senders, took.Round(time.Millisecond), float64(posts*perPost)/took.Seconds(),
		webhooktest.Quantile(latencies, 0.5), webhooktest.Quantile(latencies, 0.99), webhooktest.Quantile(latencies, 1),
		rss("VmHWM"), rss("VmRSS"))
}
