// Command fleetload is the exporter's load script for a BSP's fleet: it
// builds the exporter and the fleet fake (internal/fleetfake), starts the
// fake with a business of N WABAs and one or more replicas of the exporter
// that discover and shard them, on a clock that starts on the last day of a
// month, and measures what docs/fleet.md reports:
//
//	go run ./internal/fleetload --wabas 1000
//	go run ./internal/fleetload --wabas 5000 --interval 5m
//	go run ./internal/fleetload --wabas 1000 --replicas 3
//
// the time until every WABA has its gauges and its month-to-date counters
// (a start on a month's last day: the month so far), and the Graph calls it
// took; the calls of a steady cycle against the fewest the data allows; a
// scrape's time and size against client_golang's own handler on the same
// series; the resident memory per series; the CPU of a cycle. Everything
// listens on loopback; it stops what it started, and prints a table.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

func main() {
	var o options
	flag.IntVar(&o.wabas, "wabas", 1000, "WABAs in the fleet")
	flag.IntVar(&o.replicas, "replicas", 1, "replicas of the exporter sharing the fleet")
	flag.Float64Var(&o.rate, "rate", 200, "global.requests_per_second of each replica: calls are counted, not timed against Meta's pace")
	flag.DurationVar(&o.interval, "interval", 3*time.Minute, "the WABAs' refresh interval: short, so that a steady cycle comes soon")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up after this long")
	flag.StringVar(&o.dir, "dir", "", "working directory (binaries, config, logs); a temporary one when empty")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "fleetload:", err)
		os.Exit(1)
	}
}

type options struct {
	wabas, replicas   int
	rate              float64
	interval, timeout time.Duration
	dir               string
}

type proc struct {
	cmd  *exec.Cmd
	addr string
}

func (p *proc) stop() {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
		}
	}
}

func run(o options) error {
	dir := o.dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "fleetload"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	exporterBin, fakeBin := filepath.Join(dir, "whatsapp_exporter"), filepath.Join(dir, "fleetfake")
	for _, b := range [][2]string{{exporterBin, "."}, {fakeBin, "./internal/fleetfake"}} {
		if out, err := exec.Command("go", "build", "-o", b[0], b[1]).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", b[1], err, out)
		}
	}
	// The last day of this month, 20:00 UTC: the first refresh of each
	// WABA fetches the month so far, as a restart then would.
	now := time.Now().UTC()
	monthEnd := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	clock := []string{"--demo.clock.start=" + monthEnd.Add(-4*time.Hour).Format(time.RFC3339), "--demo.clock.since=" + now.Format(time.RFC3339Nano)}

	args := append([]string{"--wabas", strconv.Itoa(o.wabas), "--dir", dir}, clock...)
	for range o.replicas {
		args = append(args, "--listen", "127.0.0.1:0")
	}
	fake := exec.Command(fakeBin, args...)
	fake.Stderr = logFile(dir, "fleetfake.log")
	stdout, err := fake.StdoutPipe()
	if err != nil {
		return err
	}
	if err := fake.Start(); err != nil {
		return err
	}
	fp := &proc{cmd: fake}
	defer fp.stop()
	var info struct {
		BaseURLs   []string `json:"base_urls"`
		BusinessID string   `json:"business_id"`
		TokenFile  string   `json:"token_file"`
	}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("fleetfake: %v", err)
	}
	if err := json.Unmarshal(line, &info); err != nil {
		return fmt.Errorf("fleetfake's line %q: %v", line, err)
	}

	var exporters []*proc
	for i := range o.replicas {
		cfg := filepath.Join(dir, fmt.Sprintf("config-%d.yml", i))
		os.WriteFile(cfg, []byte(fmt.Sprintf(`global:
  requests_per_second: %g
  burst: %d
defaults:
  interval: %s
businesses:
  - business_id: %q
    api_url: %s
    access_token_file: %s
`, o.rate, int(o.rate/10)+1, o.interval, info.BusinessID, info.BaseURLs[i], info.TokenFile)), 0o600)
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		cmd := exec.Command(exporterBin, append([]string{"--config.file=" + cfg, "--web.listen-address=" + addr, "--log.level=warn",
			fmt.Sprintf("--total-shards=%d", o.replicas), fmt.Sprintf("--shard=%d", i)}, clock...)...)
		cmd.Stderr = logFile(dir, fmt.Sprintf("exporter-%d.log", i))
		if err := cmd.Start(); err != nil {
			return err
		}
		p := &proc{cmd: cmd, addr: addr}
		defer p.stop()
		exporters = append(exporters, p)
	}
	started := time.Now()
	deadline := started.Add(o.timeout)
	fakeURL := info.BaseURLs[0]

	// The first cycle: every WABA's gauges, then its counters.
	var gaugesAt, countersAt time.Duration
	var firstCalls stats
	for {
		if time.Now().After(deadline) {
			return errors.New("timed out before every WABA had data")
		}
		time.Sleep(2 * time.Second)
		gauges, counters := 0, 0
		for _, e := range exporters {
			s, err := scrape(e.addr, false)
			if err != nil {
				continue
			}
			g, c := withData(s.body)
			gauges, counters = gauges+g, counters+c
		}
		if gaugesAt == 0 && gauges >= o.wabas {
			gaugesAt = time.Since(started)
		}
		if counters >= o.wabas {
			countersAt = time.Since(started)
			if firstCalls, err = fakeStats(fakeURL); err != nil {
				return err
			}
			break
		}
		fmt.Fprintf(os.Stderr, "%s: %d of %d WABAs with gauges, %d with counters\n", time.Since(started).Round(time.Second), gauges, o.wabas, counters)
	}
	fmt.Fprintf(os.Stderr, "every WABA has data after %s; waiting for a steady cycle\n", countersAt.Round(time.Second))

	// A steady cycle: from the end of each replica's first cycle to the
	// end of its second. Its requests by the exporter's count, and the
	// fake's calls over the same time; its CPU.
	cpu0 := map[int]time.Duration{}
	var steady stats
	var cycleSeconds, cycleRequests float64
	for i, e := range exporters {
		if err := waitCycles(e.addr, 1, deadline); err != nil {
			return err
		}
		cpu0[i] = cpuTime(e.cmd.Process.Pid)
	}
	before, err := fakeStats(fakeURL)
	if err != nil {
		return err
	}
	cpu := time.Duration(0)
	for i, e := range exporters {
		if err := waitCycles(e.addr, 2, deadline); err != nil {
			return err
		}
		cpu += cpuTime(e.cmd.Process.Pid) - cpu0[i]
		s, _ := scrape(e.addr, false)
		cycleSeconds = max(cycleSeconds, value(s.body, "whatsapp_exporter_cycle_duration_seconds"))
		cycleRequests += value(s.body, "whatsapp_exporter_cycle_requests")
	}
	after, err := fakeStats(fakeURL)
	if err != nil {
		return err
	}
	steady = after.minus(before)

	// Scrapes: each replica's, against promhttp on the same series.
	var series, bytesPlain, rss, heap float64
	var ours, theirs, oursGzip, theirsGzip time.Duration
	for _, e := range exporters {
		plain, err := bestScrape(e.addr, false)
		if err != nil {
			return err
		}
		gz, err := bestScrape(e.addr, true)
		if err != nil {
			return err
		}
		n, promPlain, promGzip, err := promhttpTime(plain.body)
		if err != nil {
			return err
		}
		series += float64(n)
		bytesPlain += float64(len(plain.body))
		ours, oursGzip = ours+plain.took, oursGzip+gz.took
		theirs, theirsGzip = theirs+promPlain, theirsGzip+promGzip
		rss += float64(residentBytes(e.cmd.Process.Pid))
		heap += value(plain.body, "go_memstats_heap_inuse_bytes")
	}
	minimum := fewestCalls(o.wabas)

	r := float64(o.replicas)
	fmt.Printf("\n%d WABAs, %d replica(s), %g requests/s each, interval %s (clock: the last day of a month)\n\n", o.wabas, o.replicas, o.rate, o.interval)
	fmt.Println("| what | figure |")
	fmt.Println("|---|---|")
	fmt.Printf("| time until every WABA has its gauges | %s |\n", gaugesAt.Round(time.Second))
	fmt.Printf("| time until every WABA has its month-to-date counters (the month so far, on its last day) | %s |\n", countersAt.Round(time.Second))
	fmt.Printf("| Graph calls of that first cycle (listing included) | %d (%.1f per WABA; %d listing): %s |\n", firstCalls.Requests, float64(firstCalls.Requests)/float64(o.wabas), firstCalls.ListingRequests, firstCalls.ops())
	fmt.Printf("| Graph calls of a steady cycle, by the fake | %d (%.2f per WABA): %s |\n", steady.Requests, float64(steady.Requests)/float64(o.wabas), steady.ops())
	fmt.Printf("| the fewest a steady cycle's analytics allow | %d (a request per WABA for every field, and its template chunks per product with sends); analytics calls made: %d, x%.2f |\n",
		minimum, steady.analytics(), float64(steady.analytics())/float64(minimum))
	fmt.Printf("| a steady cycle, by the exporter | %.0f s (the longest replica's), %.0f requests |\n", cycleSeconds, cycleRequests)
	fmt.Printf("| CPU of a steady cycle | %s (%.2f ms per WABA) |\n", cpu.Round(time.Millisecond), float64(cpu.Microseconds())/1000/float64(o.wabas))
	fmt.Printf("| series | %.0f (%.0f per WABA) |\n", series, series/float64(o.wabas))
	fmt.Printf("| a scrape, plain (per replica) | %s for %.1f MB; promhttp on the same series: %s (x%.3f) |\n",
		(ours / time.Duration(r)).Round(time.Millisecond), bytesPlain/r/1e6, (theirs / time.Duration(r)).Round(time.Millisecond), float64(ours)/float64(theirs))
	fmt.Printf("| a scrape, gzipped (per replica) | %s; promhttp: %s (x%.2f) |\n",
		(oursGzip / time.Duration(r)).Round(time.Millisecond), (theirsGzip / time.Duration(r)).Round(time.Millisecond), float64(oursGzip)/float64(theirsGzip))
	fmt.Printf("| resident memory | %.0f MiB (%.0f per replica), %.0f bytes per series; heap in use %.0f bytes per series |\n", rss/(1<<20), rss/r/(1<<20), rss/series, heap/series)
	return nil
}

func logFile(dir, name string) *os.File {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil
	}
	return f
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

type scraped struct {
	body []byte
	took time.Duration
}

// scrape asks an exporter for /metrics as Prometheus does, plain or
// gzipped; body is the text either way.
func scrape(addr string, gz bool) (scraped, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	tr := &http.Transport{DisableCompression: true}
	start := time.Now()
	resp, err := (&http.Client{Transport: tr, Timeout: time.Minute}).Do(req)
	if err != nil {
		return scraped{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return scraped{}, err
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return scraped{}, err
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return scraped{}, err
		}
	}
	return scraped{body: raw, took: took}, nil
}

// bestScrape is the fastest of three: the machine is shared and noisy.
func bestScrape(addr string, gz bool) (scraped, error) {
	var best scraped
	for i := range 3 {
		s, err := scrape(addr, gz)
		if err != nil {
			return s, err
		}
		if i == 0 || s.took < best.took {
			best = s
		}
	}
	return best, nil
}

// promhttpTime serves the series of a scrape through client_golang's own
// handler, as const metrics gathered by a registry would be, and times it
// (the fastest of three, plain and gzipped).
func promhttpTime(body []byte) (int, time.Duration, time.Duration, error) {
	families, err := parseText(body)
	if err != nil {
		return 0, 0, 0, err
	}
	n := 0
	for _, mf := range families {
		n += len(mf.Metric)
	}
	h := promhttp.HandlerFor(gatherer(families), promhttp.HandlerOpts{EnableOpenMetrics: true})
	srv := &http.Server{Handler: h}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, 0, err
	}
	go srv.Serve(l)
	defer srv.Close()
	plain, err := bestScrape(l.Addr().String(), false)
	if err != nil {
		return 0, 0, 0, err
	}
	gz, err := bestScrape(l.Addr().String(), true)
	return n, plain.took, gz.took, err
}

type gatherer []*dto.MetricFamily

func (g gatherer) Gather() ([]*dto.MetricFamily, error) { return g, nil }

func parseText(body []byte) ([]*dto.MetricFamily, error) {
	// The exporter answered OpenMetrics: Prometheus' text parser reads the
	// same samples once the OpenMetrics-only lines are gone.
	var text bytes.Buffer
	for _, l := range bytes.Split(body, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("# EOF")) || bytes.HasPrefix(l, []byte("# UNIT")) {
			continue
		}
		if bytes.HasPrefix(l, []byte("# TYPE ")) && bytes.HasSuffix(l, []byte(" counter")) {
			// OpenMetrics names a counter family without _total.
			name := bytes.Fields(l)[2]
			l = []byte(fmt.Sprintf("# TYPE %s_total counter", name))
		}
		if bytes.HasPrefix(l, []byte("# HELP ")) {
			continue
		}
		text.Write(l)
		text.WriteByte('\n')
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := p.TextToMetricFamilies(&text)
	if err != nil {
		return nil, err
	}
	out := make([]*dto.MetricFamily, 0, len(parsed))
	for _, mf := range parsed {
		out = append(out, mf)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, nil
}

// withData counts the WABAs of a scrape with messaging gauges and with
// month-to-date counters.
func withData(body []byte) (gauges, counters int) {
	g, c := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(string(body), "\n") {
		switch {
		case strings.HasPrefix(l, `whatsapp_exporter_refresh_success{family="messaging"`) && (strings.HasSuffix(l, " 1") || strings.HasSuffix(l, " 1.0")):
			g[label(l, "waba_id")] = true
		case strings.HasPrefix(l, "whatsapp_messages_sent_total{"):
			c[label(l, "waba_id")] = true
		}
	}
	return len(g), len(c)
}

func label(line, name string) string {
	i := strings.Index(line, name+`="`)
	if i < 0 {
		return ""
	}
	rest := line[i+len(name)+2:]
	return rest[:strings.IndexByte(rest, '"')]
}

// value is the value of the first sample of a metric in a scrape.
func value(body []byte, name string) float64 {
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, name+" ") || strings.HasPrefix(l, name+"{") {
			v, _ := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			return v
		}
	}
	return math.NaN()
}

func waitCycles(addr string, n float64, deadline time.Time) error {
	for time.Now().Before(deadline) {
		if s, err := scrape(addr, false); err == nil && value(s.body, "whatsapp_exporter_cycles_total") >= n {
			return nil
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("timed out waiting for %s's cycle %g", addr, n)
}

// stats is the fake's /-/stats.
type stats struct {
	Requests        int            `json:"requests"`
	WABARequests    int            `json:"waba_requests"`
	ListingRequests int            `json:"listing_requests"`
	ByOperation     map[string]int `json:"by_operation"`
}

func fakeStats(base string) (stats, error) {
	u := base
	if i := strings.Index(u[len("http://"):], "/"); i >= 0 {
		u = u[:len("http://")+i]
	}
	resp, err := http.Get(u + "/-/stats")
	if err != nil {
		return stats{}, err
	}
	defer resp.Body.Close()
	var s stats
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

func (s stats) minus(b stats) stats {
	out := stats{Requests: s.Requests - b.Requests, WABARequests: s.WABARequests - b.WABARequests,
		ListingRequests: s.ListingRequests - b.ListingRequests, ByOperation: map[string]int{}}
	for k, v := range s.ByOperation {
		if d := v - b.ByOperation[k]; d != 0 {
			out.ByOperation[k] = d
		}
	}
	return out
}

// analytics counts the analytics calls: the shared requests, each field's
// own and its further pages, and the template analytics.
func (s stats) analytics() int {
	n := 0
	for op, v := range s.ByOperation {
		if strings.Contains(op, "analytics") {
			n += v
		}
	}
	return n
}

func (s stats) ops() string {
	var parts []string
	for _, op := range slices.Sorted(mapsKeys(s.ByOperation)) {
		parts = append(parts, fmt.Sprintf("%s %d", op, s.ByOperation[op]))
	}
	return strings.Join(parts, ", ")
}

func mapsKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// fewestCalls is the fewest analytics calls a steady cycle of the fleet
// allows: for each WABA one request for every analytics field it has, and
// for template analytics one request per ten templates that sent, per
// product they sent through (none where insights are off). The fleet is the
// fake's own (fakeapi.Fleet), as fleetfake builds it.
func fewestCalls(n int) int {
	wabas, _ := fakeapi.Fleet(n, fakeapi.FleetOptions{})
	total := 0
	for _, w := range wabas {
		total++ // messaging, pricing (and what else is on) in one request
		if w.InsightsDisabled || w.TemplatesUnsupported {
			continue
		}
		cloud, mm := 0, 0
		for _, t := range w.Templates {
			if t.Status == "PENDING" || t.Weight == 0 {
				continue
			}
			cloud++
			if t.Category == "MARKETING" && !w.NoMarketingMessages {
				mm++
			}
		}
		total += (cloud+9)/10 + (mm+9)/10
	}
	return total
}

// cpuTime is a process's user and system CPU so far (Linux /proc).
func cpuTime(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return time.Duration((utime + stime) / 100 * float64(time.Second)) // USER_HZ is 100 on Linux
}

// residentBytes is a process's resident memory (Linux /proc).
func residentBytes(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
