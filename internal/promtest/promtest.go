// Package promtest is the harness of the tests that run the real programs:
// Prometheus and promtool (Debian's prometheus package) and the exporter's
// own binary. The end-to-end tests of the main package and the dashboard
// tests of package dashboards both ask a real Prometheus about the bundled
// rules and panels; this package lets them find the tools, start the
// processes and talk to Prometheus' HTTP API the same way, so that a fix to
// the harness (a port picked twice, a timeout under load) lands once.
//
// It is for tests only: every function that can fail takes the test and
// fails it.
package promtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
)

// Required reports whether WHATSAPP_EXPORTER_E2E=required, as in CI: then a
// missing tool fails the test instead of skipping it, so that a machine
// without them cannot pass for a green run, and -short skips nothing.
func Required() bool { return os.Getenv("WHATSAPP_EXPORTER_E2E") == "required" }

// Tools returns the paths of prometheus and promtool, or skips the test
// (fails it, when Required).
func Tools(t *testing.T) (prometheus, promtool string) {
	t.Helper()
	paths := lookPath(t, "prometheus", "promtool")
	return paths[0], paths[1]
}

// Promtool returns the path of promtool, or skips the test (fails it, when
// Required).
func Promtool(t *testing.T) string {
	t.Helper()
	return lookPath(t, "promtool")[0]
}

func lookPath(t *testing.T, tools ...string) []string {
	t.Helper()
	var paths, missing []string
	for _, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			missing = append(missing, tool)
		}
		paths = append(paths, p)
	}
	if len(missing) > 0 {
		msg := strings.Join(missing, " and ") + " not found on PATH; install with: apt-get install -y --no-install-recommends prometheus"
		if Required() {
			t.Fatal(msg + " (WHATSAPP_EXPORTER_E2E=required)")
		}
		t.Skip(msg)
	}
	return paths
}

// FreeAddrs returns n distinct free loopback addresses. The listeners are
// held until all are picked: closed one by one, the kernel may hand out the
// same port twice.
func FreeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}

// exporterPackage is the exporter's main package: built by import path, it
// builds the same from any package's directory.
const exporterPackage = "github.com/whatsapp-exporter/whatsapp_exporter"

// BuildExporter builds the exporter's binary into dir and returns its path.
func BuildExporter(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "whatsapp_exporter")
	if out, err := exec.Command("go", "build", "-o", bin, exporterPackage).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Process is a program the test started; its output goes to the file Log.
// Stop ends it, as the test's cleanup does if the test has not.
type Process struct {
	Name string
	// Addr is its --web.listen-address, if it was given one.
	Addr string
	Log  string
	Cmd  *exec.Cmd
	// Started is when it was started, for a test that stops and starts
	// a program and must tell its runs apart.
	Started time.Time
	stop    func()
}

// Start runs bin with args, its output to the file name.log in dir.
func Start(t *testing.T, dir, name, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{Name: name, Log: filepath.Join(dir, name+".log"), Started: time.Now()}
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--web.listen-address="); ok {
			p.Addr = v
		}
	}
	out, err := os.Create(p.Log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.Cmd = exec.CommandContext(ctx, bin, args...)
	p.Cmd.Stdout, p.Cmd.Stderr = out, out
	if err := p.Cmd.Start(); err != nil {
		cancel()
		out.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			cancel()
			p.Cmd.Wait()
			out.Close()
		})
	}
	t.Cleanup(p.stop)
	return p
}

// Stop ends the process and waits for it.
func (p *Process) Stop() { p.stop() }

// Tail returns the last lines of the process' log, for failure messages.
func (p *Process) Tail() string {
	raw, _ := os.ReadFile(p.Log)
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return fmt.Sprintf("last lines of the %s log:\n%s", p.Name, strings.Join(lines, "\n"))
}

// Scrape returns the body of a scrape of addr's /metrics.
func Scrape(addr string) ([]byte, error) {
	u := "http://" + addr + "/metrics"
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, body)
	}
	return body, nil
}

// WaitDemoRefreshed waits until every account of an exporter that runs the
// demo has finished its first refresh (demo.Refreshed: every family's
// result and month-to-date counters), and returns that scrape.
func WaitDemoRefreshed(t *testing.T, exporter *Process) []byte {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		body, err := Scrape(exporter.Addr)
		if err == nil {
			if err = demo.Refreshed(body); err == nil {
				return body
			}
		}
		lastErr = err
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("exporter %s did not finish its first refreshes in 60s: %v\n%s", exporter.Name, lastErr, exporter.Tail())
	return nil
}
