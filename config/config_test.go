package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
)

func TestLoadGood(t *testing.T) {
	cfg, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	if got, want := cfg.Global, (Global{RequestsPerSecond: 2.5, Burst: 4, MaxConcurrentRequests: DefaultMaxConcurrentRequests, MaxResponseBytesInFlight: DefaultMaxResponseBytesInFlight}); got != want {
		t.Errorf("global = %+v, want %+v", got, want)
	}
	if len(cfg.Accounts) != 2 {
		t.Fatalf("%d accounts, want 2", len(cfg.Accounts))
	}
	a, b := cfg.Accounts[0], cfg.Accounts[1]

	// Account 0 takes everything it does not set from defaults, and its
	// secrets from files relative to the config's directory, trimmed.
	checks := []struct {
		name      string
		got, want any
	}{
		{"a.Line", a.Line(), 14},
		{"a.WABAID", a.WABAID, "102290129340398"},
		{"a.Name", a.Name, "Acme Retail"},
		{"a.Provider", a.Provider, meta.Name},
		{"a.APIURL", a.APIURL, "https://graph.facebook.com"},
		{"a.APIVersion", a.APIVersion, DefaultAPIVersion},
		{"a.AccessToken", string(a.AccessToken), "test-token-from-file-123"},
		{"a.AppSecret", string(a.AppSecret), "appsecret456"},
		{"a.Interval", a.Interval, 5 * time.Minute},
		{"a.Timeout", a.Timeout, DefaultTimeout},
		{"a.Messaging.Granularity", a.Messaging.Granularity, "DAILY"},
		{"a.Messaging.Lookback", a.Messaging.Lookback, 72 * time.Hour},
		{"a.Messaging.Delay", a.Messaging.DelayOrZero(), 2 * time.Hour},
		{"a.Messaging.SplitBy", a.Messaging.SplitBy, []string{"PHONE"}},
		{"a.Conversations.Granularity", a.Conversations.Granularity, "HALF_HOUR"},
		{"a.Conversations.Lookback", a.Conversations.Lookback, 6 * time.Hour},
		{"a.Conversations.Delay", a.Conversations.DelayOrZero(), 30 * time.Minute},
		{"a.Conversations.Dimensions", a.Conversations.Dimensions, DefaultConversationDimensions},
		{"a.Conversations.Cost", WantCost(a.Conversations.Cost), true},
		{"a.Pricing.Dimensions", a.Pricing.Dimensions, DefaultPricingDimensions},
		{"a.Templates.Granularity", a.Templates.Granularity, "DAILY"},
		{"a.Templates.Lookback", a.Templates.Lookback, 240 * time.Hour},
		{"a.Templates.Delay", a.Templates.DelayOrZero(), 2 * time.Hour},
		{"a.Templates.Enabled", a.Templates.IsEnabled(), true},

		// Account 1 overrides defaults key by key; an inline token
		// replaces the default token file instead of clashing with it.
		{"b.Line", b.Line(), 19},
		{"b.AccessToken", string(b.AccessToken), "inline-token-789"},
		{"b.AccessTokenFile", b.AccessTokenFile, ""},
		{"b.AppSecret", string(b.AppSecret), ""},
		{"b.Interval", b.Interval, time.Minute},
		{"b.Timeout", b.Timeout, 10 * time.Second},
		{"b.Messaging.Granularity", b.Messaging.Granularity, "MONTHLY"},
		{"b.Messaging.Lookback", b.Messaging.Lookback, 24 * time.Hour},
		{"b.Messaging.Delay", b.Messaging.DelayOrZero(), 2 * time.Hour},
		{"b.Conversations.Dimensions", b.Conversations.Dimensions, []string{"PHONE"}},
		{"b.Conversations.Cost", WantCost(b.Conversations.Cost), false},
		// An explicit zero delay is kept, not replaced by the default.
		{"b.Conversations.Delay set", b.Conversations.Delay != nil, true},
		{"b.Conversations.Delay", b.Conversations.DelayOrZero(), time.Duration(0)},
		{"b.Templates.Lookback", b.Templates.Lookback, 240 * time.Hour},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseMinimal(t *testing.T) {
	cfg, err := Parse([]byte("accounts:\n  - waba_id: \"1\"\n    access_token: x\n"), "min.yml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := Global{RequestsPerSecond: DefaultRequestsPerSecond, Burst: DefaultBurst, MaxConcurrentRequests: DefaultMaxConcurrentRequests,
		MaxResponseBytesInFlight: DefaultMaxResponseBytesInFlight}
	if cfg.Global != want {
		t.Errorf("global = %+v, want %+v", cfg.Global, want)
	}
	a := cfg.Accounts[0]
	if a.Interval != DefaultInterval || a.Timeout != DefaultTimeout || a.APIVersion != DefaultAPIVersion || a.Provider != meta.Name {
		t.Errorf("account defaults not applied: %+v", a)
	}
	for _, f := range []*FamilySettings{&a.Messaging.FamilySettings, &a.Conversations.FamilySettings, &a.Pricing.FamilySettings, &a.Templates.FamilySettings} {
		// Conversations are opt-in on Meta since per-message pricing;
		// their defaults apply all the same, for an account that opts in.
		if f.IsEnabled() == (f == &a.Conversations.FamilySettings) || f.Delay == nil || f.Lookback == 0 {
			t.Errorf("family defaults not applied: %+v", *f)
		}
	}
}

// TestGranularityDefaults checks that lookback and delay follow the
// granularity a family ends up with, whatever spelling the config uses.
func TestGranularityDefaults(t *testing.T) {
	tests := []struct {
		granularity     string
		want            string
		lookback, delay time.Duration
	}{
		{"HALF_HOUR", "HALF_HOUR", 6 * time.Hour, 30 * time.Minute},
		{"half_hour", "HALF_HOUR", 6 * time.Hour, 30 * time.Minute},
		{"DAY", "DAILY", 72 * time.Hour, 2 * time.Hour},
		{"DAILY", "DAILY", 72 * time.Hour, 2 * time.Hour},
		{"month", "MONTHLY", 62 * 24 * time.Hour, 2 * time.Hour},
		{"MONTHLY", "MONTHLY", 62 * 24 * time.Hour, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.granularity, func(t *testing.T) {
			src := fmt.Sprintf("accounts:\n  - waba_id: \"1\"\n    access_token: x\n    pricing:\n      granularity: %s\n", tt.granularity)
			cfg, err := Parse([]byte(src), "g.yml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			p := cfg.Accounts[0].Pricing
			if p.Granularity != tt.want || p.Lookback != tt.lookback || p.DelayOrZero() != tt.delay {
				t.Errorf("pricing = %s lookback %s delay %s, want %s lookback %s delay %s",
					p.Granularity, p.Lookback, p.DelayOrZero(), tt.want, tt.lookback, tt.delay)
			}
		})
	}
}

// TestCredentialOverride: an account may give its credential the other way
// round from defaults without the two clashing.
func TestCredentialOverride(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tok"), "from-file\n")
	src := `defaults:
  access_token: default-inline
accounts:
  - waba_id: "1"
  - waba_id: "2"
    access_token_file: tok
`
	cfg, err := Parse([]byte(src), filepath.Join(dir, "c.yml"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := string(cfg.Accounts[0].AccessToken); got != "default-inline" {
		t.Errorf("accounts[0] token = %q, want the default", got)
	}
	if got := string(cfg.Accounts[1].AccessToken); got != "from-file" {
		t.Errorf("accounts[1] token = %q, want the file's", got)
	}
}

func TestSecretFilePaths(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "conf", "secrets", "tok"), "  relative-token \n")
	abs := filepath.Join(dir, "elsewhere", "tok")
	writeFile(t, abs, "absolute-token")
	writeFile(t, filepath.Join(dir, "conf", "empty"), " \n")
	cfgPath := filepath.Join(dir, "conf", "c.yml")

	tests := []struct {
		name, file, token, err string
	}{
		{"relative to the config file", "secrets/tok", "relative-token", ""},
		{"absolute", abs, "absolute-token", ""},
		{"missing", "secrets/nope", "", cfgPath + ":3: accounts[0].access_token_file: open " + filepath.Join(dir, "conf", "secrets", "nope") + ": no such file or directory"},
		{"empty", "empty", "", cfgPath + ":3: accounts[0].access_token_file: " + filepath.Join(dir, "conf", "empty") + " is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fmt.Sprintf("accounts:\n  - waba_id: \"1\"\n    access_token_file: %s\n", tt.file)
			writeFile(t, cfgPath, src)
			cfg, err := Load(cfgPath)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Load error = %v\nwant %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := string(cfg.Accounts[0].AccessToken); got != tt.token {
				t.Errorf("token = %q, want %q", got, tt.token)
			}
		})
	}
}

// TestCredentialWhitespace: a credential with a line break, space or control
// character inside is sent as it is and fails every request as a connection
// error, so it is rejected at its line instead, without printing it. Spaces
// around a file's content are a file's trailing newline, and are trimmed.
func TestCredentialWhitespace(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "two_lines"), "secret-part-one\nsecret-part-two\n")
	writeFile(t, filepath.Join(dir, "tab"), "secret-part-one\tsecret-part-two")
	writeFile(t, filepath.Join(dir, "padded"), "\n  secret-part-one \r\n\n")
	cfgPath := filepath.Join(dir, "c.yml")
	const waba = "accounts:\n  - waba_id: \"1\"\n" // lines 1-2
	const msg = "contains whitespace or control characters; a credential is one line without spaces"

	tests := []struct {
		name string
		src  string
		want string // the error after the file name, "" when it loads
	}{
		{"access_token with a line break", waba + "    access_token: \"secret-part-one\\nsecret-part-two\"\n",
			":3: accounts[0].access_token: " + msg},
		{"access_token as a block of two lines", waba + "    access_token: |\n      secret-part-one\n      secret-part-two\n",
			":3: accounts[0].access_token: " + msg},
		{"access_token with a trailing newline", waba + "    access_token: \"secret-part-one\\n\"\n",
			":3: accounts[0].access_token: " + msg},
		{"access_token with a control character", waba + "    access_token: \"secret-part-one\\x7fsecret-part-two\"\n",
			":3: accounts[0].access_token: " + msg},
		{"access_token in defaults", "defaults:\n  access_token: \"secret-part-one secret-part-two\"\n" + waba,
			":2: defaults.access_token: " + msg},
		{"access_token_file of two lines", waba + "    access_token_file: two_lines\n",
			":3: accounts[0].access_token_file: " + filepath.Join(dir, "two_lines") + " " + msg},
		{"app_secret with a space", waba + "    access_token: x\n    app_secret: \"secret-part-one secret-part-two\"\n",
			":4: accounts[0].app_secret: " + msg},
		{"app_secret_file with a tab", waba + "    access_token: x\n    app_secret_file: tab\n",
			":4: accounts[0].app_secret_file: " + filepath.Join(dir, "tab") + " " + msg},
		{"files are trimmed", waba + "    access_token_file: padded\n    app_secret_file: padded\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, cfgPath, tt.src)
			cfg, err := Load(cfgPath)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if a := cfg.Accounts[0]; a.AccessToken != "secret-part-one" || a.AppSecret != "secret-part-one" {
					t.Errorf("credentials read as %q and %q", string(a.AccessToken), string(a.AppSecret))
				}
				return
			}
			if err == nil || err.Error() != cfgPath+tt.want {
				t.Fatalf("Load error = %v\nwant %s", err, cfgPath+tt.want)
			}
			if strings.Contains(err.Error(), "secret-part") {
				t.Errorf("the error prints the credential: %v", err)
			}
		})
	}
}

// TestBadFile checks a file with problems all over it: every problem is
// reported, in file order, each with file:line and the path of the field.
func TestBadFile(t *testing.T) {
	_, err := Load("testdata/bad.yml")
	if err == nil {
		t.Fatal("Load succeeded, want errors")
	}
	want := []string{
		`testdata/bad.yml:4: accounts[0].interval: must be positive`,
		`testdata/bad.yml:6: accounts[0].templates.granularity: template analytics are DAILY only`,
		`testdata/bad.yml:7: accounts[1].waba_id: "WABA-2" is not a WABA ID; want digits only`,
		`testdata/bad.yml:9: accounts[1].access_token_file: set either access_token or access_token_file, not both`,
		`testdata/bad.yml:11: accounts[1].messaging.split_by[1]: unknown value "REGION"; want one of PHONE, COUNTRY`,
		`testdata/bad.yml:12: accounts[2].waba_id: WABA 102290129340398 is already configured at accounts[0]`,
		`testdata/bad.yml:12: accounts[2]: access_token or access_token_file is required`,
		`testdata/bad.yml:14: global.burst: must be positive`,
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseErrors(t *testing.T) {
	const head = "accounts:\n  - waba_id: \"1\"\n    access_token: x\n" // lines 1-3
	tests := []struct {
		name string
		src  string
		want []string // the exact error lines
	}{
		{
			name: "unknown key",
			src:  head + "    intervall: 5m\n",
			want: []string{`bad.yml:4: accounts[0].intervall: unknown key "intervall"`},
		},
		{
			name: "unknown nested key",
			src:  head + "    messaging:\n      granularty: DAY\n",
			want: []string{`bad.yml:5: accounts[0].messaging.granularty: unknown key "granularty"`},
		},
		{
			name: "unknown key in defaults",
			src:  "defaults:\n  tokn: x\n" + head,
			want: []string{`bad.yml:2: defaults.tokn: unknown key "tokn"`},
		},
		{
			name: "wrong type",
			src:  "global:\n  burst: lots\n" + head,
			want: []string{"bad.yml:2: global.burst: cannot unmarshal !!str `lots` into int"},
		},
		{
			name: "wrong types are all reported",
			src:  head + "    timeout: [1]\n    messaging:\n      enabled: maybe\n",
			want: []string{
				"bad.yml:4: accounts[0].timeout: cannot unmarshal !!seq into time.Duration",
				"bad.yml:6: accounts[0].messaging.enabled: cannot unmarshal !!str `maybe` into bool",
			},
		},
		{
			// Several keys share these lines: the path must name the
			// one with the bad value, not the last key on the line.
			name: "wrong type beside other keys on the line",
			src: "accounts:\n  - waba_id: [1]\n    access_token: x\n" +
				"    messaging: {lookback: 5x, granularity: DAILY}\n" +
				"    pricing: {delay: a-long-while-yet, granularity: DAILY}\n" +
				"    conversations: {granularty: DAILY, lookback: 1h}\n",
			want: []string{
				"bad.yml:2: accounts[0].waba_id: cannot unmarshal !!seq into string",
				"bad.yml:4: accounts[0].messaging.lookback: cannot unmarshal !!str `5x` into time.Duration",
				"bad.yml:5: accounts[0].pricing.delay: cannot unmarshal !!str `a-long-...` into time.Duration",
				`bad.yml:6: accounts[0].conversations.granularty: unknown key "granularty"`,
			},
		},
		{
			name: "accounts not a list",
			src:  "accounts:\n  waba_id: \"1\"\n",
			want: []string{"bad.yml:2: accounts: cannot unmarshal !!map into []config.Account"},
		},
		{
			name: "bad duration",
			src:  head + "    interval: 5x\n",
			want: []string{"bad.yml:4: accounts[0].interval: cannot unmarshal !!str `5x` into time.Duration"},
		},
		{
			name: "bad duration in defaults",
			src:  "defaults:\n  timeout: soon\n" + head,
			want: []string{"bad.yml:2: defaults.timeout: cannot unmarshal !!str `soon` into time.Duration"},
		},
		{
			name: "negative durations",
			src:  head + "    timeout: -1s\n    pricing:\n      lookback: -1h\n      delay: -1m\n",
			want: []string{
				"bad.yml:4: accounts[0].timeout: must be positive",
				"bad.yml:6: accounts[0].pricing.lookback: must be positive",
				"bad.yml:7: accounts[0].pricing.delay: must not be negative",
			},
		},
		{
			name: "bad granularity",
			src:  head + "    messaging:\n      granularity: WEEKLY\n",
			want: []string{`bad.yml:5: accounts[0].messaging.granularity: unknown granularity "WEEKLY"; want HALF_HOUR, DAILY or MONTHLY`},
		},
		{
			name: "bad granularity in defaults is reported once, where defaults sets it",
			src:  "defaults:\n  conversations:\n    granularity: HOURLY\n" + head + "  - waba_id: \"2\"\n    access_token: x\n",
			want: []string{`bad.yml:3: defaults.conversations.granularity: unknown granularity "HOURLY"; want HALF_HOUR, DAILY or MONTHLY`},
		},
		{
			name: "bad dimension",
			src:  head + "    pricing:\n      dimensions: [TIER, CURRENCY, TIER]\n",
			want: []string{
				`bad.yml:5: accounts[0].pricing.dimensions[1]: unknown value "CURRENCY"; want one of PRICING_CATEGORY, PRICING_TYPE, COUNTRY, PHONE, TIER`,
				`bad.yml:5: accounts[0].pricing.dimensions[2]: "TIER" is listed twice`,
			},
		},
		{
			name: "negative max_series",
			src:  head + "    max_series: -5\n",
			want: []string{`bad.yml:4: accounts[0].max_series: must be positive`},
		},
		{
			name: "zero max_series",
			src:  head + "    max_series: 0\n",
			want: []string{`bad.yml:4: accounts[0].max_series: must be positive; leave it out for the default, 20000`},
		},
		{
			name: "bad product type",
			src:  head + "    messaging:\n      product_types:\n        - 0\n        - 1\n",
			want: []string{`bad.yml:7: accounts[0].messaging.product_types[1]: 1 is not a product type; want 0 (notification) or 2 (customer support)`},
		},
		{
			name: "split by country without countries",
			src:  head + "    messaging:\n      split_by: [COUNTRY]\n",
			want: []string{`bad.yml:5: accounts[0].messaging.split_by: COUNTRY needs the countries to split by in messaging.country_codes`},
		},
		{
			name: "bad filters",
			src:  head + "    conversations:\n      phone_numbers: [\"+1 650 555\"]\n      country_codes: [us]\n    templates:\n      template_ids: [abc]\n",
			want: []string{
				`bad.yml:5: accounts[0].conversations.phone_numbers[0]: "+1 650 555" is not a phone number in digits only`,
				`bad.yml:6: accounts[0].conversations.country_codes[0]: "us" is not a two-letter country code`,
				`bad.yml:8: accounts[0].templates.template_ids[0]: "abc" is not a template ID in digits only`,
			},
		},
		{
			name: "non-digit waba_id",
			src:  "accounts:\n  - waba_id: \"1234-5678\"\n    access_token: x\n",
			want: []string{`bad.yml:2: accounts[0].waba_id: "1234-5678" is not a WABA ID; want digits only`},
		},
		{
			name: "missing waba_id",
			src:  "accounts:\n  - access_token: x\n",
			want: []string{`bad.yml:2: accounts[0]: waba_id is required`},
		},
		{
			name: "duplicate waba_id",
			src:  head + "  - waba_id: \"1\"\n    access_token: y\n",
			want: []string{`bad.yml:4: accounts[1].waba_id: WABA 1 is already configured at accounts[0]`},
		},
		{
			name: "token and token file",
			src:  head + "    access_token_file: /dev/null\n",
			want: []string{`bad.yml:4: accounts[0].access_token_file: set either access_token or access_token_file, not both`},
		},
		{
			name: "app secret and app secret file",
			src:  head + "    app_secret: s\n    app_secret_file: s.txt\n",
			want: []string{`bad.yml:5: accounts[0].app_secret_file: set either app_secret or app_secret_file, not both`},
		},
		{
			name: "missing token",
			src:  "accounts:\n  - waba_id: \"1\"\n    name: no token\n",
			want: []string{`bad.yml:2: accounts[0]: access_token or access_token_file is required`},
		},
		{
			name: "missing secret file",
			src:  head + "    app_secret_file: nowhere/secret\n",
			want: []string{`bad.yml:4: accounts[0].app_secret_file: open nowhere/secret: no such file or directory`},
		},
		{
			name: "templates not daily",
			src:  head + "    templates:\n      granularity: HALF_HOUR\n",
			want: []string{`bad.yml:5: accounts[0].templates.granularity: template analytics are DAILY only`},
		},
		{
			name: "template lookback beyond 90 days",
			src:  head + "    templates:\n      lookback: 2159h\n",
			want: []string{`bad.yml:5: accounts[0].templates.lookback: lookback plus delay plus one day (24h0m0s) for aligning the start is 2185h0m0s, more than the 2160h0m0s of history the API keeps; lookback can be at most 2134h0m0s`},
		},
		{
			name: "pricing lookback beyond a year",
			src:  head + "    pricing:\n      granularity: DAILY\n      lookback: 8760h\n      delay: 1h\n",
			want: []string{`bad.yml:6: accounts[0].pricing.lookback: lookback plus delay plus one day in the WABA's time zone, with a change of the clocks (25h0m0s) for aligning the start is 8786h0m0s, more than the 8760h0m0s of history the API keeps; lookback can be at most 8734h0m0s`},
		},
		{
			name: "delay alone past the history",
			src:  head + "    templates:\n      lookback: 1h\n      delay: 2150h\n",
			want: []string{`bad.yml:5: accounts[0].templates.lookback: lookback plus delay plus one day (24h0m0s) for aligning the start is 2175h0m0s, more than the 2160h0m0s of history the API keeps; lower delay`},
		},
		{
			name: "bad api_version and api_url",
			src:  head + "    api_version: \"21\"\n    api_url: ftp://graph.example.com\n",
			want: []string{
				`bad.yml:4: accounts[0].api_version: "21" is not a Graph API version; want e.g. v25.0`,
				`bad.yml:5: accounts[0].api_url: "ftp://graph.example.com" is not an http(s) URL`,
			},
		},
		{
			name: "credential in api_url",
			src:  head + "    api_url: https://graph.example.com/?access_token=secret\n",
			want: []string{`bad.yml:4: accounts[0].api_url: must not carry a query string or user info; credentials belong in access_token`},
		},
		{
			name: "passthrough without api_url",
			src:  head + "    provider: graph_passthrough\n",
			want: []string{`bad.yml:2: accounts[0].api_url: required for provider graph_passthrough: the BSP's API root, e.g. https://api.example.com/api`},
		},
		{
			name: "no accounts",
			src:  "global:\n  burst: 1\naccounts: []\n",
			want: []string{`bad.yml:3: accounts: no accounts configured; list at least one WABA, or a business whose WABAs to list`},
		},
		{
			name: "empty file",
			src:  "",
			want: []string{`bad.yml: the configuration is empty; it needs at least one entry under accounts`},
		},
		{
			name: "not YAML",
			src:  "accounts: [\n",
			want: []string{`bad.yml:1: did not find expected node content`},
		},
		{
			name: "errors sorted by line across sections",
			src:  head + "    templates:\n      granularity: MONTHLY\n  - waba_id: x2\n    access_token: x\nglobal:\n  max_concurrent_requests: -1\n",
			want: []string{
				`bad.yml:5: accounts[0].templates.granularity: template analytics are DAILY only`,
				`bad.yml:6: accounts[1].waba_id: "x2" is not a WABA ID; want digits only`,
				`bad.yml:9: global.max_concurrent_requests: must be positive`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "bad.yml")
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestHistoryLimit: the scheduler moves a query's start back to the start
// of its bucket (provider/bucket, Calculator.Span), so what it asks for reaches
// lookback + delay + up to one bucket back, and all of that must be within
// the history the API keeps. Each rejected case loaded before the alignment
// was counted; each accepted one sits at the limit or has none.
func TestHistoryLimit(t *testing.T) {
	const meta = "accounts:\n  - waba_id: \"1\"\n    access_token: x\n"                                       // lines 1-3
	const vonage = "accounts:\n  - waba_id: \"1\"\n    provider: vonage\n    api_key: k\n    api_secret: s\n" // lines 1-5
	tests := []struct {
		name string
		src  string
		want string // the error, "" when the config loads
	}{
		{
			name: "templates: the start moves back to midnight, past 90 days",
			src:  meta + "    templates:\n      lookback: 2136h\n      delay: 23h\n",
			want: `c.yml:5: accounts[0].templates.lookback: lookback plus delay plus one day (24h0m0s) for aligning the start is 2183h0m0s, more than the 2160h0m0s of history the API keeps; lookback can be at most 2113h0m0s`,
		},
		{
			name: "templates: a day of alignment within 90 days",
			src:  meta + "    templates:\n      lookback: 2134h\n",
		},
		{
			name: "monthly pricing: the start moves back to the 1st, past a year",
			src:  meta + "    pricing:\n      granularity: MONTHLY\n      lookback: 8700h\n",
			want: `c.yml:6: accounts[0].pricing.lookback: lookback plus delay plus one month in the WABA's time zone, with a change of the clocks (745h0m0s) for aligning the start is 9447h0m0s, more than the 8760h0m0s of history the API keeps; lookback can be at most 8013h0m0s`,
		},
		{
			name: "monthly pricing: a month of alignment within a year",
			src:  meta + "    pricing:\n      granularity: MONTHLY\n      lookback: 8013h\n",
		},
		{
			name: "half-hour pricing: the start moves back to the half hour, past a year",
			src:  meta + "    pricing:\n      lookback: 8759h45m\n      delay: 0s\n",
			want: `c.yml:5: accounts[0].pricing.lookback: lookback plus delay plus one half hour (30m0s) for aligning the start is 8760h15m0s, more than the 8760h0m0s of history the API keeps; lookback can be at most 8759h30m0s`,
		},
		{
			name: "half-hour pricing: a half hour of alignment within a year",
			src:  meta + "    pricing:\n      lookback: 8759h30m\n      delay: 0s\n",
		},
		{
			name: "Meta messaging keeps a year since 2025-12-01",
			src:  meta + "    messaging:\n      granularity: MONTHLY\n      lookback: 20000h\n",
			want: `c.yml:6: accounts[0].messaging.lookback: lookback plus delay plus one month in the WABA's time zone, with a change of the clocks (745h0m0s) for aligning the start is 20747h0m0s, more than the 8760h0m0s of history the API keeps; lookback can be at most 8013h0m0s`,
		},
		{
			name: "Meta messaging: a month of alignment within the year",
			src:  meta + "    messaging:\n      granularity: MONTHLY\n      lookback: 8013h\n",
		},
		{
			name: "Vonage monthly messaging: the start moves back to the 1st, past 90 days",
			src:  vonage + "    messaging:\n      granularity: MONTHLY\n      lookback: 1416h\n",
			want: `c.yml:8: accounts[0].messaging.lookback: lookback plus delay plus one month (744h0m0s) for aligning the start is 2162h0m0s, more than the 2160h0m0s of history the API keeps; lookback can be at most 1414h0m0s`,
		},
		{
			name: "Vonage monthly messaging: a month of alignment within 90 days",
			src:  vonage + "    messaging:\n      granularity: MONTHLY\n      lookback: 1414h\n",
		},
		{
			// Vonage takes whole days (Capabilities.WholeDays): a
			// half-hour window starts at midnight there.
			name: "Vonage half-hour pricing: the start moves back to midnight, past 90 days",
			src:  vonage + "    pricing:\n      lookback: 2150h\n",
			want: `c.yml:7: accounts[0].pricing.lookback: lookback plus delay plus one day (24h0m0s) for aligning the start is 2174h30m0s, more than the 2160h0m0s of history the API keeps; lookback can be at most 2135h30m0s`,
		},
		{
			name: "Vonage half-hour pricing: a day of alignment within 90 days",
			src:  vonage + "    pricing:\n      lookback: 2135h30m\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "c.yml")
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Parse: %v", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("Parse error = %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestUnknownProvider does not pin the full text: the list of providers it
// offers grows with the providers.
func TestUnknownProvider(t *testing.T) {
	src := "accounts:\n  - waba_id: \"1\"\n    access_token: x\n    provider: twilio\n"
	_, err := Parse([]byte(src), "bad.yml")
	if err == nil {
		t.Fatal("Parse succeeded, want an error")
	}
	if want := `bad.yml:4: accounts[0].provider: unknown provider "twilio"`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yml")
	if err == nil || !strings.Contains(err.Error(), "testdata/does-not-exist.yml") || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("Load error = %v, want a not-exist error naming the file", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// TestSecretNeverPrinted dumps a loaded config every way a log line or a
// debug page might, and looks for the credentials.
func TestSecretNeverPrinted(t *testing.T) {
	const token, appSecret = "test-token-super-secret", "appsecretvalue42"
	src := fmt.Sprintf("accounts:\n  - waba_id: \"1\"\n    access_token: %s\n    app_secret: %s\n", token, appSecret)
	cfg, err := Parse([]byte(src), "c.yml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if string(cfg.Accounts[0].AccessToken) != token {
		t.Fatalf("the token itself must stay usable, got %q", string(cfg.Accounts[0].AccessToken))
	}
	yamlOut, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatalf("yaml.Marshal: %v", err)
	}
	jsonOut, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	s := Secret(token)
	dumps := map[string]string{
		"%v secret":     fmt.Sprintf("%v", s),
		"%s secret":     fmt.Sprintf("%s", s), //lint:ignore S1025 what fmt's %s verb prints is the point
		"%q secret":     fmt.Sprintf("%q", s),
		"%x secret":     fmt.Sprintf("%x", s),
		"%#v secret":    fmt.Sprintf("%#v", s),
		"%v config":     fmt.Sprintf("%v", cfg),
		"%+v config":    fmt.Sprintf("%+v", cfg),
		"%#v config":    fmt.Sprintf("%#v", cfg),
		"%+v account":   fmt.Sprintf("%+v", cfg.Accounts[0]),
		"%#v account":   fmt.Sprintf("%#v", cfg.Accounts[0]),
		"yaml.Marshal":  string(yamlOut),
		"json.Marshal":  string(jsonOut),
		"json of field": mustJSON(t, cfg.Accounts[0].AppSecret),
	}
	for name, out := range dumps {
		if strings.Contains(out, token) || strings.Contains(out, appSecret) {
			t.Errorf("%s prints a credential: %s", name, out)
		}
	}
	if got := fmt.Sprint(s); got != "<secret>" {
		t.Errorf("Secret prints %q, want <secret>", got)
	}
	if got := fmt.Sprint(Secret("")); got != "" {
		t.Errorf("an empty Secret prints %q, want nothing", got)
	}
	if !strings.Contains(string(yamlOut), "access_token: <secret>") {
		t.Errorf("yaml output does not show the token as <secret>:\n%s", yamlOut)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return string(b)
}

// TestFinish covers configs built in code, which get the same defaults and
// validation as files.
func TestFinish(t *testing.T) {
	c := &Config{Accounts: []Account{{WABAID: "1", AccessToken: "x"}}}
	if err := Finish(c); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if c.Accounts[0].Interval != DefaultInterval || c.Accounts[0].Templates.Granularity != "DAILY" {
		t.Errorf("defaults not applied: %+v", c.Accounts[0])
	}
	err := Finish(&Config{Accounts: []Account{{WABAID: "x"}}})
	want := "(built-in config): accounts[0].waba_id: \"x\" is not a WABA ID; want digits only\n" +
		"(built-in config): accounts[0]: access_token or access_token_file is required"
	if err == nil || err.Error() != want {
		t.Errorf("Finish error = %v\nwant %s", err, want)
	}
}

func TestNormalizeGranularity(t *testing.T) {
	for in, want := range map[string]string{
		"HALF_HOUR": "HALF_HOUR", " half_hour ": "HALF_HOUR", "DAY": "DAILY", "Daily": "DAILY",
		"MONTH": "MONTHLY", "monthly": "MONTHLY", "WEEK": "", "": "",
	} {
		if got := NormalizeGranularity(in); got != want {
			t.Errorf("NormalizeGranularity(%q) = %q, want %q", in, got, want)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
