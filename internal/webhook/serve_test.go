package webhook

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	wt "github.com/whatsapp-exporter/whatsapp_exporter/internal/webhook/webhooktest"
)

// TestMain fails the package's tests if a server or a connection they
// started is still running at the end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Beside the metrics, the endpoint is one more path of the exporter's mux,
// which must not be one the mux serves already.
func TestServeBesideMetrics(t *testing.T) {
	r, _ := newReceiver(t)
	mux := http.NewServeMux()
	mux.Handle("/metrics", http.NotFoundHandler())
	if err := r.Serve(context.Background(), mux, &Flags{}, "", quiet); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "/webhooks?hub.mode=subscribe&hub.verify_token="+verifyToken+"&hub.challenge=42", nil)
	if h, pattern := mux.Handler(req); pattern != "/webhooks" || h != http.Handler(r) {
		t.Errorf("/webhooks is served by %v (%s)", h, pattern)
	}

	taken, _ := newReceiver(t)
	taken.path = "/metrics"
	if err := taken.Serve(context.Background(), mux, nil, "", quiet); err == nil || !strings.Contains(err.Error(), "already served") {
		t.Errorf("a path the mux serves: %v", err)
	}
	if err := New(nil, Options{}).Serve(context.Background(), nil, nil, "", quiet); err != nil {
		t.Errorf("an endpoint that is off: %v", err)
	}
}

// On its own address, the endpoint answers over HTTP until its context
// ends, and serves nothing else there; a web configuration that does not
// load stops the start.
func TestServeOwnListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	r, _ := newReceiver(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Serve(ctx, http.NewServeMux(), &Flags{ListenAddress: addr}, "", quiet); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + addr + "/webhooks?hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=42")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "42" {
		t.Errorf("handshake: %d %q", resp.StatusCode, body)
	}
	code, err := wt.Post(ctx, client, "http://"+addr+"/webhooks", secretOne, one("wamid.over.http"))
	if err != nil || code != 200 {
		t.Errorf("post: %d, %v", code, err)
	}
	if resp, err := client.Get("http://" + addr + "/metrics"); err != nil || resp.StatusCode != 404 {
		t.Errorf("/metrics on the webhook address: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	cancel()
	client.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still listening after its context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}

	bad := filepath.Join(t.TempDir(), "web.yml")
	os.WriteFile(bad, []byte("tls_server_config: {cert_file: /nonexistent}\n"), 0o600)
	if err := r.Serve(context.Background(), http.NewServeMux(), &Flags{ListenAddress: "127.0.0.1:0", WebConfigFile: bad}, "", quiet); err == nil {
		t.Error("a web configuration that does not load: no error")
	}
}
