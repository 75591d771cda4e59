package cli

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// help is what a command line that asks for help prints.
func help(t *testing.T, args ...string) string {
	t.Helper()
	app, _ := New()
	var out bytes.Buffer
	app.UsageWriter(&out)
	app.ErrorWriter(&out)
	exited := false
	app.Terminate(func(int) { exited = true })
	app.Parse(args)
	if !exited {
		t.Fatalf("%q did not end the program", args)
	}
	return out.String()
}

// The plain --help lists what serving takes, as every Prometheus exporter's
// does, beside the commands; the demo's clock, for tests only, stays hidden.
func TestHelpListsWhatServingTakes(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}} {
		out := help(t, args...)
		listed := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--(?:\[no-\])?([\w.-]+)`).FindAllStringSubmatch(out, -1) {
			listed[m[1]] = true
		}
		for _, flag := range []string{
			"config.file", "demo", "demo.scenario",
			"web.listen-address", "web.config.file", "web.telemetry-path", "web.enable-lifecycle",
			"log.level", "log.format", "version", "shard", "total-shards", "shard.from-pod-name", "webhooks.listen-address", "webhooks.web-config-file",
		} {
			if !listed[flag] {
				t.Errorf("%q does not list --%s:\n%s", args, flag, out)
			}
		}
		for flag := range listed {
			if strings.HasPrefix(flag, "demo.clock") {
				t.Errorf("%q lists the hidden --%s", args, flag)
			}
		}
		for _, command := range []string{"serve*", "check [<flags>]", "backfill --start=START --output=FILE [<flags>]"} {
			if !strings.Contains(out, "\n"+command+"\n") {
				t.Errorf("%q does not list the command %s:\n%s", args, command, out)
			}
		}
	}
	if out := help(t, "help", "check"); !strings.Contains(out, "--[no-]online") || !strings.Contains(out, "--config.file") {
		t.Errorf("help check lacks --online or --config.file:\n%s", out)
	}
	if out := help(t, "help", "backfill"); !strings.Contains(out, "--start=START") || !strings.Contains(out, "--output=FILE") || !strings.Contains(out, "--config.file") {
		t.Errorf("help backfill lacks --start, --output or --config.file:\n%s", out)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		args []string
		want Args
		// listen are the addresses the web server listens on.
		listen []string
		demo   bool
	}{
		{args: nil, want: Args{Command: Serve, MetricsPath: "/metrics", LogLevel: "info", LogFormat: "logfmt", TotalShards: 1}, listen: []string{":9919"}},
		{
			args:   []string{"--config.file=x.yml", "--web.listen-address=127.0.0.1:1", "--web.listen-address=127.0.0.1:2", "--web.telemetry-path=/m", "--web.enable-lifecycle", "--log.level=debug", "--log.format=json"},
			want:   Args{Command: Serve, ConfigFile: "x.yml", MetricsPath: "/m", Lifecycle: true, LogLevel: "debug", LogFormat: "json", TotalShards: 1},
			listen: []string{"127.0.0.1:1", "127.0.0.1:2"},
		},
		{args: []string{"serve", "--config.file=x.yml"}, want: Args{Command: Serve, ConfigFile: "x.yml", MetricsPath: "/metrics", LogLevel: "info", LogFormat: "logfmt", TotalShards: 1}, listen: []string{":9919"}},
		{args: []string{"check", "--config.file=x.yml"}, want: Args{Command: Check, ConfigFile: "x.yml", MetricsPath: "/metrics", LogLevel: "info", LogFormat: "logfmt", TotalShards: 1}, listen: []string{":9919"}},
		{args: []string{"--config.file=x.yml", "check", "--online"}, want: Args{Command: Check, ConfigFile: "x.yml", Online: true, MetricsPath: "/metrics", LogLevel: "info", LogFormat: "logfmt", TotalShards: 1}, listen: []string{":9919"}},
		{
			// The end-to-end tests' sped-up demo.
			args: []string{"--demo", "--demo.scenario=delivery-drop", "--demo.clock.start=2026-12-01T00:00:00Z", "--demo.clock.since=2026-12-07T00:00:00Z", "--demo.clock.speed=600"},
			want: Args{Command: Serve, MetricsPath: "/metrics", LogLevel: "info", LogFormat: "logfmt", TotalShards: 1}, listen: []string{":9919"}, demo: true,
		},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := Parse(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if got.Demo.Enabled != tt.demo {
				t.Errorf("demo %v, want %v", got.Demo.Enabled, tt.demo)
			}
			if tt.demo && got.Demo.Scenario != "delivery-drop" {
				t.Errorf("demo scenario %q", got.Demo.Scenario)
			}
			if !slices.Equal(*got.Web.WebListenAddresses, tt.listen) {
				t.Errorf("listen addresses %q, want %q", *got.Web.WebListenAddresses, tt.listen)
			}
			got.Demo, got.Web, got.Webhooks, got.Backfill = nil, nil, nil, nil
			if *got != tt.want {
				t.Errorf("got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--online"},             // check's flag, not serve's
		{"--log.level=verbose"},  // not a level
		{"--demo.scenario=fire"}, // not a scenario
		{"--bogus"},
		{"nonsense"},
	} {
		if _, err := Parse(args); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// The replica's shard: from --shard, or from a StatefulSet pod's name, of
// --total-shards; a shard outside them is an error.
func TestShardOf(t *testing.T) {
	tests := []struct {
		args      []string
		index     int
		count     int
		wantError bool
	}{
		{args: nil, index: 0, count: 1},
		{args: []string{"--shard=2", "--total-shards=3"}, index: 2, count: 3},
		{args: []string{"--shard.from-pod-name=whatsapp-exporter-1", "--total-shards=3"}, index: 1, count: 3},
		{args: []string{"--shard=3", "--total-shards=3"}, wantError: true},
		{args: []string{"--shard=1"}, wantError: true},
		{args: []string{"--shard.from-pod-name=whatsapp-exporter", "--total-shards=3"}, wantError: true},
		{args: []string{"--shard.from-pod-name=whatsapp-exporter-5", "--total-shards=3"}, wantError: true},
	}
	for _, tt := range tests {
		a, err := Parse(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		s, err := a.ShardOf()
		if tt.wantError {
			if err == nil {
				t.Errorf("%q: shard %+v, want an error", tt.args, s)
			}
			continue
		}
		if err != nil || s.Index != tt.index || max(s.Count, 1) != tt.count {
			t.Errorf("%q: shard %+v, %v; want %d of %d", tt.args, s, err, tt.index, tt.count)
		}
	}
}
