package config

import (
	"strings"
	"testing"
)

// Account health is read by default where the provider can (Meta and
// passthrough), never for Vonage; the templates part can be turned off
// alone, and defaults merge into an account's block key by key.
func TestHealthDefaults(t *testing.T) {
	cfg, err := parseProviderConfig(t, `
defaults:
  access_token_file: token
  health:
    templates: false
accounts:
  - waba_id: "102290129340398"
    health: { templates: true }
  - waba_id: "102290129340399"
  - waba_id: "102290129340400"
    health: { enabled: false }
  - waba_id: "345688589250625"
    provider: vonage
    api_key: a1b2c3d4
    api_secret_file: vonage_secret
  - waba_id: "115344761664057"
    provider: graph_passthrough
    api_url: https://api.splashifypro.com/api/v25.0
`)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct{ enabled, templates bool }{
		{true, true}, {true, false}, {false, false}, {false, false}, {true, false},
	} {
		h := cfg.Accounts[i].Health
		if got := (struct{ enabled, templates bool }{h.IsEnabled(), h.TemplatesEnabled()}); got != want {
			t.Errorf("accounts[%d]: health %+v, want %+v", i, got, want)
		}
	}
}

// Health asked of a provider that cannot read it is an error at its line,
// or at the line of defaults that sets it; an unknown key in the block is an
// error too.
func TestHealthErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{`
accounts:
  - waba_id: "345688589250625"
    provider: vonage
    api_key: a1b2c3d4
    api_secret_file: vonage_secret
    health:
      enabled: true
`, "providers.yml:8: accounts[0].health.enabled: provider vonage cannot read the status and quality of a WABA's phone numbers and templates; remove enabled: true"},
		{`
defaults:
  health: { enabled: true }
accounts:
  - waba_id: "345688589250625"
    provider: vonage
    api_key: a1b2c3d4
    api_secret_file: vonage_secret
`, "providers.yml:3: defaults.health.enabled: provider vonage cannot read"},
		{`
accounts:
  - waba_id: "102290129340398"
    access_token_file: token
    health:
      interval: 5m
`, "providers.yml:6: accounts[0].health.interval: unknown key"},
	} {
		_, err := parseProviderConfig(t, tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want one containing %q", err, tt.want)
		}
	}
}
