package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
)

// start runs fleetfake with args until the test ends, and returns what it
// printed.
func start(t *testing.T, args ...string) Ready {
	t.Helper()
	out, in := io.Pipe()
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- run(args, in, log.NewNopLogger(), stop)
		in.Close()
	}()
	t.Cleanup(func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("fleetfake: %v", err)
		}
	})
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		t.Fatalf("no line on stdout: %v", err)
	}
	go io.Copy(io.Discard, out)
	var r Ready
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatalf("stdout %q: %v", line, err)
	}
	return r
}

func getJSON(t *testing.T, u, token string, into any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatalf("%s: %v: %.200s", u, err, body)
	}
}

// TestFleetFake: fleetfake serves its fleet on each listener, tells a client
// where and with which token, and counts the calls per listener.
func TestFleetFake(t *testing.T) {
	dir := t.TempDir()
	clockStart := time.Date(2024, 6, 30, 23, 0, 0, 0, time.UTC)
	r := start(t, "--wabas", "150", "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--dir", dir,
		"--demo.clock.start", clockStart.Format(time.RFC3339), "--demo.clock.since", time.Now().Format(time.RFC3339Nano))

	if len(r.BaseURLs) != 2 || r.WABAs != 150 || r.Owned+r.Client != 150 || r.BusinessID == "" {
		t.Fatalf("ready line %+v", r)
	}
	if d := r.Now.Sub(clockStart); d < 0 || d > time.Minute {
		t.Errorf("the fake's time is %s, want the clock's start %s", r.Now, clockStart)
	}
	raw, err := os.ReadFile(r.TokenFile)
	info, _ := os.Stat(r.TokenFile)
	if err != nil || info.Mode().Perm() != 0o600 || !strings.HasPrefix(r.TokenFile, dir) {
		t.Fatalf("token file %s: %v, mode %v", r.TokenFile, err, info.Mode())
	}
	token := strings.TrimSpace(string(raw))
	ids, err := os.ReadFile(r.WABAsFile)
	if err != nil || strings.Count(string(ids), "\n") != 150 {
		t.Fatalf("WABAs file: %v, %d lines", err, strings.Count(string(ids), "\n"))
	}
	first := strings.SplitN(string(ids), "\n", 2)[0]

	// The listing on the second listener, a WABA on the first.
	var listing struct {
		Data []struct{ ID string } `json:"data"`
	}
	getJSON(t, r.BaseURLs[1]+"/v25.0/"+r.BusinessID+"/owned_whatsapp_business_accounts?limit=100&fields=id,name", token, &listing)
	if len(listing.Data) != min(r.Owned, 100) {
		t.Errorf("listed %d owned WABAs, want %d", len(listing.Data), min(r.Owned, 100))
	}
	var node struct {
		Analytics struct {
			DataPoints []struct{ Start, End int64 } `json:"data_points"`
		} `json:"analytics"`
	}
	field := fmt.Sprintf("analytics.start(%d).end(%d).granularity(HALF_HOUR)", clockStart.Add(-6*time.Hour).Unix(), clockStart.Add(time.Hour).Unix())
	getJSON(t, r.BaseURLs[0]+"/v25.0/"+first+"?"+url.Values{"fields": {field}}.Encode(), token, &node)
	if n := len(node.Analytics.DataPoints); n != 12 {
		t.Errorf("%d half hours up to the fake's now (%s), want 12: its clock is not the flags'", n, r.Now)
	}

	for _, base := range r.BaseURLs {
		var s Stats
		getJSON(t, base+"/-/stats?per_waba=true", "", &s)
		host0, host1 := strings.TrimPrefix(r.BaseURLs[0], "http://"), strings.TrimPrefix(r.BaseURLs[1], "http://")
		if s.Requests != 2 || s.WABARequests != 1 || s.ListingRequests != 1 || s.WABAs != 150 || s.WABAsCalled != 1 ||
			s.ByHost[host0] != 1 || s.ByHost[host1] != 1 || s.ByOperation["owned_whatsapp_business_accounts"] != 1 || s.ByField["analytics"] != 1 {
			t.Errorf("stats on %s: %+v", base, s)
		}
		if c := s.PerWABA[first]; c.Requests != 1 || len(c.Hosts) != 1 || c.Hosts[0] != host0 {
			t.Errorf("WABA %s's calls %+v, want one from %s", first, c, host0)
		}
	}
}

func TestFleetFakeRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"--listen", "0.0.0.0:0"},
		{"--listen", "192.0.2.1:8080"},
		{"--listen", "example.com:80"},
		{"--listen", "127.0.0.1"},
		{"--wabas", "0"},
		{"--demo.clock.start", "yesterday"},
		{"--no-such-flag"},
	} {
		stop := make(chan struct{})
		close(stop)
		if err := run(append(args, "--dir", t.TempDir()), io.Discard, log.NewNopLogger(), stop); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
