package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/vonage"
)

// parseProviderConfig parses src as dir/providers.yml, next to the secret
// files the cases need.
func parseProviderConfig(t *testing.T, src string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"vonage_secret": "vonage-secret-value\n", "token": "graph-token\n", "empty": "\n", "two_lines": "first-line\nsecond-line\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Parse([]byte(src), filepath.Join(dir, "providers.yml"))
}

// One file with a Meta, a Vonage and a passthrough account, and the defaults
// each provider gets.
func TestProviderDefaults(t *testing.T) {
	cfg, err := parseProviderConfig(t, `
defaults:
  access_token_file: token
  app_secret: meta-app-secret
accounts:
  - waba_id: "102290129340398"
  - waba_id: "345688589250625"
    provider: vonage
    api_key: a1b2c3d4
    api_secret_file: vonage_secret
  - waba_id: "345688589250626"
    provider: vonage
    api_key: a1b2c3d4
    api_secret: inline-secret
    templates:
      template_ids: ["458951126288942"]
  - waba_id: "115344761664057"
    provider: graph_passthrough
    api_url: https://api.splashifypro.com/api
    api_version: v25.0
  - waba_id: "115344761664058"
    provider: graph_passthrough
    api_url: https://api.splashifypro.com/api/v25.0/
    pricing:
      enabled: true
`)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		url, version                     string
		messaging, conv, pricing, templ  bool
		convCost, pricingCost, templCost bool
	}
	for i, w := range []want{
		// Meta: conversations opt-in since per-message pricing.
		{"https://graph.facebook.com", DefaultAPIVersion, true, false, true, true, true, true, true},
		{"https://api.nexmo.com", "", true, false, true, false, false, false, false},
		{"https://api.nexmo.com", "", true, false, true, true, false, false, false},
		{"https://api.splashifypro.com/api", "v25.0", true, true, false, false, false, false, false},
		{"https://api.splashifypro.com/api", "v25.0", true, true, true, false, false, false, false},
	} {
		a := cfg.Accounts[i]
		got := want{
			a.APIURL, a.APIVersion,
			a.Messaging.IsEnabled(), a.Conversations.IsEnabled(), a.Pricing.IsEnabled(), a.Templates.IsEnabled(),
			WantCost(a.Conversations.Cost), WantCost(a.Pricing.Cost), WantCost(a.Templates.Cost),
		}
		if got != w {
			t.Errorf("accounts[%d] (%s): got %+v, want %+v", i, a.Provider, got, w)
		}
	}
	if s := cfg.Accounts[1].APISecret; s != "vonage-secret-value" {
		t.Errorf("api_secret_file read as %q", string(s))
	}
	if s := cfg.Accounts[2].APISecret; s != "inline-secret" || cfg.Accounts[2].APIKey != "a1b2c3d4" {
		t.Errorf("inline api_secret %q, api_key %q", string(s), cfg.Accounts[2].APIKey)
	}
	// The Graph token in defaults is for the Graph accounts; the Vonage
	// ones inherit it without error, and without reading it.
	if cfg.Accounts[1].AccessToken != "" {
		t.Errorf("a Vonage account read the defaults' access_token_file")
	}
	// The app secret in defaults is Meta's: the meta account signs with
	// it, and a passthrough account drops it instead of sending a proof
	// derived from it to the BSP.
	for i, want := range map[int]Secret{0: "meta-app-secret", 3: "", 4: ""} {
		if got := cfg.Accounts[i].AppSecret; got != want {
			t.Errorf("accounts[%d] (%s) app secret %q, want %q", i, cfg.Accounts[i].Provider, string(got), string(want))
		}
	}
}

// An account-level api_secret_file replaces a default api_secret rather than
// clashing with it, as for the other credentials.
func TestAPISecretOverridesDefault(t *testing.T) {
	cfg, err := parseProviderConfig(t, `
defaults:
  provider: vonage
  api_key: a1b2c3d4
  api_secret: from-defaults
accounts:
  - waba_id: "1"
  - waba_id: "2"
    api_secret_file: vonage_secret
`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Accounts[0].APISecret != "from-defaults" || cfg.Accounts[1].APISecret != "vonage-secret-value" {
		t.Errorf("secrets %q and %q", string(cfg.Accounts[0].APISecret), string(cfg.Accounts[1].APISecret))
	}
}

// Every mistake with the new keys is reported at its line and path.
func TestProviderErrors(t *testing.T) {
	const vonage = "accounts:\n  - waba_id: \"1\"\n    provider: vonage\n    api_key: k\n    api_secret: s\n"   // lines 1-5
	const passthrough = "accounts:\n  - waba_id: \"1\"\n    provider: graph_passthrough\n    access_token: x\n" // lines 1-4
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "vonage without api_key",
			src:  "accounts:\n  - waba_id: \"1\"\n    provider: vonage\n    api_secret: s\n",
			want: []string{`providers.yml:2: accounts[0]: api_key is required for provider vonage`},
		},
		{
			name: "vonage without api_secret",
			src:  "accounts:\n  - waba_id: \"1\"\n    provider: vonage\n    api_key: k\n",
			want: []string{`providers.yml:2: accounts[0]: api_secret or api_secret_file is required`},
		},
		{
			name: "api_secret twice",
			src:  vonage + "    api_secret_file: vonage_secret\n",
			want: []string{`providers.yml:6: accounts[0].api_secret_file: set either api_secret or api_secret_file, not both`},
		},
		{
			name: "api_secret_file missing",
			src:  "accounts:\n  - waba_id: \"1\"\n    provider: vonage\n    api_key: k\n    api_secret_file: nowhere\n",
			want: []string{`providers.yml:5: accounts[0].api_secret_file: open `},
		},
		{
			name: "api_secret_file empty",
			src:  "accounts:\n  - waba_id: \"1\"\n    provider: vonage\n    api_key: k\n    api_secret_file: empty\n",
			want: []string{`providers.yml:5: accounts[0].api_secret_file: `, `empty is empty`},
		},
		{
			name: "Graph token on a Vonage account",
			src:  vonage + "    access_token: x\n",
			want: []string{`providers.yml:6: accounts[0].access_token: not used by this account's provider: it authenticates with api_key and api_secret`},
		},
		{
			name: "api_version on a Vonage account",
			src:  vonage + "    api_version: v21.0\n",
			want: []string{`providers.yml:6: accounts[0].api_version: not used by this account's provider`},
		},
		{
			name: "Vonage credentials on a Meta account",
			src:  "accounts:\n  - waba_id: \"1\"\n    access_token: x\n    api_key: k\n",
			want: []string{`providers.yml:4: accounts[0].api_key: not used by this account's provider: it authenticates with access_token`},
		},
		{
			name: "conversations on Vonage",
			src:  vonage + "    conversations:\n      enabled: true\n",
			want: []string{`providers.yml:7: accounts[0].conversations.enabled: provider vonage does not offer conversations analytics; remove enabled: true`},
		},
		{
			name: "conversations enabled for all accounts in defaults",
			src:  "defaults:\n  conversations:\n    enabled: true\n" + strings.Replace(vonage, "accounts:\n", "accounts:\n", 1),
			want: []string{`providers.yml:3: defaults.conversations.enabled: provider vonage does not offer conversations analytics`},
		},
		{
			name: "Vonage templates without template_ids",
			src:  vonage + "    templates:\n      enabled: true\n",
			want: []string{`providers.yml:7: accounts[0].templates.enabled: provider vonage needs the templates to report in templates.template_ids`},
		},
		{
			name: "Vonage cost",
			src:  vonage + "    pricing:\n      cost: true\n",
			want: []string{`providers.yml:7: accounts[0].pricing.cost: provider vonage does not report cost`},
		},
		{
			name: "passthrough cost",
			src:  passthrough + "    api_url: https://bsp.example.com/api\n    conversations:\n      cost: true\n",
			want: []string{`providers.yml:7: accounts[0].conversations.cost: provider graph_passthrough does not report cost`},
		},
		{
			name: "Vonage messaging past the 90-day lookback",
			src:  vonage + "    messaging:\n      granularity: DAILY\n      lookback: 2160h\n",
			want: []string{`providers.yml:8: accounts[0].messaging.lookback: lookback plus delay plus one day (24h0m0s) for aligning the start is 2186h0m0s, more than the 2160h0m0s of history the API keeps`},
		},
		{
			name: "Vonage pricing past the 90-day lookback",
			src:  vonage + "    pricing:\n      granularity: MONTHLY\n      lookback: 2400h\n",
			want: []string{`providers.yml:8: accounts[0].pricing.lookback: lookback plus delay plus one month (744h0m0s) for aligning the start is 3146h0m0s, more than the 2160h0m0s`},
		},
		{
			name: "Vonage templates past the 90-day lookback",
			src:  vonage + "    templates:\n      template_ids: [\"1\"]\n      lookback: 2159h\n",
			want: []string{`providers.yml:8: accounts[0].templates.lookback: lookback plus delay plus one day (24h0m0s) for aligning the start is 2185h0m0s`},
		},
		{
			name: "Vonage split by phone without the numbers",
			src:  vonage + "    messaging:\n      split_by: [PHONE]\n",
			want: []string{`providers.yml:7: accounts[0].messaging.split_by: PHONE needs the numbers to split by in messaging.phone_numbers`},
		},
		{
			name: "Vonage pricing filters",
			src:  vonage + "    pricing:\n      pricing_categories: [MARKETING]\n      pricing_types: [REGULAR]\n",
			want: []string{
				`providers.yml:7: accounts[0].pricing.pricing_categories: not a filter of provider vonage's pricing analytics`,
				`providers.yml:8: accounts[0].pricing.pricing_types: not a filter of provider vonage's pricing analytics`,
			},
		},
		{
			name: "app_secret on a passthrough account",
			src:  passthrough + "    api_url: https://bsp.example.com/api\n    app_secret: meta-app-secret\n",
			want: []string{`providers.yml:6: accounts[0].app_secret: not used by this account's provider: appsecret_proof is for Meta's own Graph API; a BSP authenticates with access_token alone`},
		},
		{
			name: "app_secret_file on a passthrough account",
			src:  passthrough + "    api_url: https://bsp.example.com/api\n    app_secret_file: token\n",
			want: []string{`providers.yml:6: accounts[0].app_secret_file: not used by this account's provider: appsecret_proof is for Meta's own Graph API`},
		},
		{
			name: "api_key with a space",
			src:  "accounts:\n  - waba_id: \"1\"\n    provider: vonage\n    api_key: \"a1b2 c3d4\"\n    api_secret: s\n",
			want: []string{`providers.yml:4: accounts[0].api_key: contains whitespace or control characters; a credential is one line without spaces`},
		},
		{
			name: "api_secret with a space",
			src:  "accounts:\n  - waba_id: \"1\"\n    provider: vonage\n    api_key: k\n    api_secret: \"vonage-secret value\"\n",
			want: []string{`providers.yml:5: accounts[0].api_secret: contains whitespace or control characters; a credential is one line without spaces`},
		},
		{
			name: "api_secret_file of two lines",
			src:  "accounts:\n  - waba_id: \"1\"\n    provider: vonage\n    api_key: k\n    api_secret_file: two_lines\n",
			want: []string{`providers.yml:5: accounts[0].api_secret_file: `, `two_lines contains whitespace or control characters; a credential is one line without spaces`},
		},
		{
			name: "passthrough version in two places",
			src:  passthrough + "    api_url: https://bsp.example.com/api/v25.0\n    api_version: v21.0\n",
			want: []string{`providers.yml:6: accounts[0].api_version: v21.0 contradicts the version v25.0 that api_url ends in`},
		},
		{
			name: "passthrough without api_url",
			src:  passthrough,
			want: []string{`providers.yml:2: accounts[0].api_url: required for provider graph_passthrough`},
		},
		{
			name: "unknown provider lists vonage",
			src:  "accounts:\n  - waba_id: \"1\"\n    provider: twilio\n",
			want: []string{`providers.yml:3: accounts[0].provider: unknown provider "twilio"; want meta, graph_passthrough or vonage`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseProviderConfig(t, tc.src)
			if err == nil {
				t.Fatal("accepted")
			}
			lines := strings.Split(err.Error(), "\n")
			for _, want := range tc.want {
				found := slices.ContainsFunc(lines, func(l string) bool {
					// Errors carry the file's full path; compare from
					// its base name on.
					i := strings.Index(l, "providers.yml:")
					return i >= 0 && strings.Contains(l[i:], want)
				})
				if !found {
					t.Errorf("no error line containing %q in:\n%s", want, err)
				}
			}
			for _, secret := range []string{"vonage-secret", "a1b2", "c3d4", "first-line", "second-line"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error prints the credential's %q:\n%s", secret, err)
				}
			}
			if len(lines) != len(tc.want) && tc.name != "api_secret_file empty" && tc.name != "api_secret_file of two lines" {
				t.Errorf("%d error lines, want %d:\n%s", len(lines), len(tc.want), err)
			}
		})
	}
}

// Secrets given for Vonage never show when the config is printed.
func TestAPISecretNeverPrinted(t *testing.T) {
	cfg, err := parseProviderConfig(t, "accounts:\n  - waba_id: \"1\"\n    provider: vonage\n    api_key: k\n    api_secret_file: vonage_secret\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		cfg.Accounts[0].APISecret.String(),
		cfg.Accounts[0].APISecret.GoString(),
	} {
		if strings.Contains(s, "vonage-secret-value") {
			t.Errorf("printed %q", s)
		}
	}
}

// TestDefaultsWithinHistory: the built-in lookback and delay of every
// granularity, plus the alignment of the window start, stay within the
// history each provider's API keeps, for every family.
func TestDefaultsWithinHistory(t *testing.T) {
	accounts := map[string]string{
		meta.Name:            "    access_token: x\n",
		meta.PassthroughName: "    access_token: x\n    api_url: https://bsp.example.com/api\n",
		vonage.Name:          "    api_key: k\n    api_secret: s\n",
	}
	for _, tc := range []struct {
		provider, family, granularity string
		lookback                      time.Duration
	}{
		{meta.Name, "messaging", "MONTHLY", 62 * 24 * time.Hour},
		{meta.Name, "pricing", "HALF_HOUR", 6 * time.Hour},
		{meta.Name, "pricing", "DAILY", 72 * time.Hour},
		{meta.Name, "pricing", "MONTHLY", 62 * 24 * time.Hour},
		{meta.Name, "templates", "DAILY", 72 * time.Hour},
		{meta.PassthroughName, "pricing", "MONTHLY", 62 * 24 * time.Hour},
		{meta.PassthroughName, "templates", "DAILY", 72 * time.Hour},
		{vonage.Name, "messaging", "HALF_HOUR", 6 * time.Hour},
		{vonage.Name, "messaging", "DAILY", 72 * time.Hour},
		// 62 days plus a month of alignment would reach past Vonage's 90 days.
		{vonage.Name, "messaging", "MONTHLY", 58 * 24 * time.Hour},
		{vonage.Name, "pricing", "HALF_HOUR", 6 * time.Hour},
		{vonage.Name, "pricing", "DAILY", 72 * time.Hour},
		{vonage.Name, "pricing", "MONTHLY", 58 * 24 * time.Hour},
		{vonage.Name, "templates", "DAILY", 72 * time.Hour},
	} {
		t.Run(tc.provider+" "+tc.family+" "+tc.granularity, func(t *testing.T) {
			src := "accounts:\n  - waba_id: \"1\"\n    provider: " + tc.provider + "\n" + accounts[tc.provider] +
				"    " + tc.family + ":\n      granularity: " + tc.granularity + "\n"
			cfg, err := parseProviderConfig(t, src)
			if err != nil {
				t.Fatalf("the defaults do not load: %v", err)
			}
			if got := cfg.Accounts[0].Family(provider.Family(tc.family)).Lookback; got != tc.lookback {
				t.Errorf("lookback %s, want %s", got, tc.lookback)
			}
		})
	}
}

// The demo and tests build configs in code: Finish gives them the same
// provider defaults and checks.
func TestFinishProviders(t *testing.T) {
	on := true
	cfg := &Config{Accounts: []Account{
		{WABAID: "1", Provider: vonage.Name, APIKey: "k", APISecret: "s"},
		{WABAID: "2", Provider: meta.PassthroughName, APIURL: "http://127.0.0.1:1/api/v25.0", AccessToken: "t"},
	}}
	if err := Finish(cfg); err != nil {
		t.Fatal(err)
	}
	if v := cfg.Accounts[0]; v.Conversations.IsEnabled() || v.Templates.IsEnabled() || v.Timeout != DefaultTimeout || v.APIURL != "https://api.nexmo.com" {
		t.Errorf("vonage defaults not applied: %+v", v)
	}
	if p := cfg.Accounts[1]; p.APIURL != "http://127.0.0.1:1/api" || p.APIVersion != "v25.0" {
		t.Errorf("passthrough prefix split as %q + %q", p.APIURL, p.APIVersion)
	}

	bad := &Config{Accounts: []Account{{WABAID: "1", Provider: vonage.Name, APIKey: "k", APISecret: "s"}}}
	bad.Accounts[0].Conversations.Enabled = &on
	bad.Accounts[0].Messaging.Lookback = 100 * 24 * time.Hour
	err := Finish(bad)
	if err == nil || !strings.Contains(err.Error(), "accounts[0].conversations.enabled: provider vonage does not offer conversations") ||
		!strings.Contains(err.Error(), "accounts[0].messaging.lookback") {
		t.Errorf("Finish: %v", err)
	}
}
