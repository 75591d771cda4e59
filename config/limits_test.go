package config

import (
	"slices"
	"strings"
	"testing"
)

// TestZeroIsNotDefault: a key set to 0 (or "") where leaving it out means a
// default used to become that default silently, so that interval: 0s polled
// every 15 minutes and requests_per_second: 0 sent ten a second. Each is now
// an error at its line; leaving the key out still gives the default.
func TestZeroIsNotDefault(t *testing.T) {
	const head = "accounts:\n  - waba_id: \"1\"\n    access_token: x\n" // lines 1-3
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"interval", head + "    interval: 0s\n",
			[]string{`z.yml:4: accounts[0].interval: must be positive; leave it out for the default, 15m0s`}},
		{"timeout", head + "    timeout: 0s\n",
			[]string{`z.yml:4: accounts[0].timeout: must be positive; leave it out for the default, 30s`}},
		{"requests_per_second as 0.0", "global:\n  requests_per_second: 0.0\n" + head,
			[]string{`z.yml:2: global.requests_per_second: must be positive; leave it out for the default, 25`}},
		{"requests_per_second", "global:\n  requests_per_second: 0\n" + head,
			[]string{`z.yml:2: global.requests_per_second: must be positive; leave it out for the default, 25`}},
		{"burst and max_concurrent_requests", "global:\n  burst: 0\n  max_concurrent_requests: 0\n" + head,
			[]string{
				`z.yml:2: global.burst: must be positive; leave it out for the default, 10`,
				`z.yml:3: global.max_concurrent_requests: must be positive; leave it out for the default, 10`,
			}},
		{"ceilings", "global:\n  max_requests_per_hour: 0\n" + head + "    max_requests_per_hour: 0\n",
			[]string{
				`z.yml:2: global.max_requests_per_hour: must be positive; leave it out for no ceiling`,
				`z.yml:6: accounts[0].max_requests_per_hour: must be positive; leave it out for no ceiling`,
			}},
		{"bytes in flight", "global:\n  max_response_bytes_in_flight: 0\n" + head,
			[]string{`z.yml:2: global.max_response_bytes_in_flight: must be positive; leave it out for the default, 64MiB`}},
		{"lookback and granularity", head + "    pricing:\n      lookback: 0s\n      granularity: \"\"\n",
			[]string{
				`z.yml:5: accounts[0].pricing.lookback: must be positive; leave it out for the default`,
				`z.yml:6: accounts[0].pricing.granularity: must not be empty; leave it out for the default`,
			}},
		{"empty strings", head + "    provider: \"\"\n    api_url: \"\"\n    api_version: \"\"\n",
			[]string{
				`z.yml:4: accounts[0].provider: must not be empty; leave it out for the default, meta`,
				`z.yml:5: accounts[0].api_url: must not be empty; leave it out for the provider's default`,
				`z.yml:6: accounts[0].api_version: must not be empty; leave it out for the default, ` + DefaultAPIVersion,
			}},
		{
			// Reported once, where defaults sets it, however many
			// accounts inherit it; an account that overrides it is fine.
			name: "in defaults",
			src:  "defaults:\n  interval: 0s\n" + head + "  - waba_id: \"2\"\n    access_token: x\n    interval: 1m\n",
			want: []string{`z.yml:2: defaults.interval: must be positive; leave it out for the default, 15m0s`},
		},
		{
			// A passthrough account has no default URL: an empty one
			// is missing, and said so once.
			name: "empty api_url without a default",
			src:  head + "    provider: graph_passthrough\n    api_url: \"\"\n",
			want: []string{`z.yml:5: accounts[0].api_url: required for provider graph_passthrough: the BSP's API root, e.g. https://api.example.com/api`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "z.yml")
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestLimits: the throttle's keys load with their units and defaults, and
// bad values are reported at their line.
func TestLimits(t *testing.T) {
	const head = "accounts:\n  - waba_id: \"1\"\n    access_token: x\n" // lines 1-3
	tests := []struct {
		name           string
		src            string
		global         Global
		accountCeiling int
		err            []string
	}{
		{
			name: "defaults: no ceilings, 64MiB in flight",
			src:  head,
			global: Global{RequestsPerSecond: 25, Burst: 10, MaxConcurrentRequests: 10,
				MaxResponseBytesInFlight: 64 << 20},
		},
		{
			name: "every key, sizes with units",
			src: "global:\n  max_requests_per_hour: 3000\n  max_response_bytes_in_flight: 1GiB\n" +
				"defaults:\n  max_requests_per_hour: 200\n" + head,
			global: Global{RequestsPerSecond: 25, Burst: 10, MaxConcurrentRequests: 10,
				MaxRequestsPerHour: 3000, MaxResponseBytesInFlight: 1 << 30},
			accountCeiling: 200,
		},
		{
			name: "a size in plain bytes; an account overrides defaults",
			src: "global:\n  max_response_bytes_in_flight: 100663296\n" +
				"defaults:\n  max_requests_per_hour: 200\n" + head + "    max_requests_per_hour: 50\n",
			global: Global{RequestsPerSecond: 25, Burst: 10, MaxConcurrentRequests: 10,
				MaxResponseBytesInFlight: 96 << 20},
			accountCeiling: 50,
		},
		{
			name: "negative ceilings",
			src:  "global:\n  max_requests_per_hour: -1\n" + head + "    max_requests_per_hour: -5\n",
			err: []string{
				`l.yml:2: global.max_requests_per_hour: must be positive`,
				`l.yml:6: accounts[0].max_requests_per_hour: must be positive`,
			},
		},
		{
			name: "less in flight than one response may hold",
			src:  "global:\n  max_response_bytes_in_flight: 16MiB\n" + head,
			err:  []string{`l.yml:2: global.max_response_bytes_in_flight: must be at least 32MiB, the largest response the exporter reads`},
		},
		{
			name: "not a size",
			src:  "global:\n  max_response_bytes_in_flight: lots\n" + head,
			err:  []string{"l.yml:2: global.max_response_bytes_in_flight: cannot unmarshal !!str `lots` into a size; want bytes or a size such as 128MiB"},
		},
		{
			name: "an SI size is not taken for a base-2 one",
			src:  "global:\n  max_response_bytes_in_flight: 128kB\n" + head,
			err:  []string{"l.yml:2: global.max_response_bytes_in_flight: cannot unmarshal !!str `128kB` into a size; want bytes or a size such as 128MiB"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.src), "l.yml")
			if tt.err != nil {
				if err == nil {
					t.Fatal("Parse succeeded, want an error")
				}
				if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.err) {
					t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.err, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if cfg.Global != tt.global {
				t.Errorf("global = %+v, want %+v", cfg.Global, tt.global)
			}
			if got := cfg.Accounts[0].MaxRequestsPerHour; got != tt.accountCeiling {
				t.Errorf("account max_requests_per_hour = %d, want %d", got, tt.accountCeiling)
			}
		})
	}
}
