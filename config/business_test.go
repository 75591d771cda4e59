package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// A business's WABAs get the top-level defaults, then the business's
// connection, then the business's own defaults; the filters keep what they
// name.
func TestBusiness(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "system_user_token"), []byte("EAAbusiness\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `
defaults:
  interval: 10m
  access_token: default-token
  pricing:
    dimensions: [COUNTRY]
businesses:
  - business_id: "506914307656634"
    name: Acme BSP
    access_token_file: system_user_token
    ownership: [client]
    exclude_waba_ids: ["111"]
    name_pattern: "^Acme "
    defaults:
      interval: 5m
      templates: { enabled: false }
accounts:
  - waba_id: "222"
`
	cfg, err := Parse([]byte(src), filepath.Join(dir, "whatsapp_exporter.yml"))
	if err != nil {
		t.Fatal(err)
	}
	b := &cfg.Businesses[0]
	a := b.Account("333")
	if a.WABAID != "333" || a.Provider != "meta" || a.APIURL != "https://graph.facebook.com" || a.APIVersion != DefaultAPIVersion {
		t.Errorf("account %+v: want WABA 333 on Meta's Graph API", a)
	}
	if a.AccessToken != "EAAbusiness" {
		t.Error("the business's token does not replace the default one")
	}
	if a.Interval != 5*time.Minute || a.Templates.IsEnabled() || !slices.Equal(a.Pricing.Dimensions, []string{"COUNTRY"}) {
		t.Errorf("interval %s, templates %v, pricing dimensions %v: want the business's defaults over the file's", a.Interval, a.Templates.IsEnabled(), a.Pricing.Dimensions)
	}
	if !slices.Equal(b.Ownerships(), []string{provider.Client}) || b.ListInterval != DefaultListInterval || b.Label() != "506914307656634" {
		t.Errorf("ownership %v, list interval %s, label %s", b.Ownerships(), b.ListInterval, b.Label())
	}
	for _, tt := range []struct {
		id, name string
		want     bool
	}{{"333", "Acme Retail", true}, {"111", "Acme Excluded", false}, {"444", "Other Co", false}} {
		if got := b.Wants(tt.id, tt.name); got != tt.want {
			t.Errorf("Wants(%s, %q) = %v, want %v", tt.id, tt.name, got, tt.want)
		}
	}
	if !b.Account("333").Equivalent(b.Account("333")) {
		t.Error("two accounts of one WABA of a business differ")
	}
	// Without ownership, both.
	cfg, err = Parse([]byte("businesses:\n  - business_id: \"1\"\n    access_token: x\n"), "b.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Businesses[0].Ownerships(); !slices.Equal(got, []string{provider.Owned, provider.Client}) {
		t.Errorf("default ownership %v, want owned and client", got)
	}
}

func TestBusinessErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{
			name: "business id missing and not digits",
			src:  "businesses:\n  - access_token: x\n  - business_id: acme\n    access_token: x\n",
			want: []string{
				`bad.yml:2: businesses[0]: business_id is required for provider meta: the business portfolio whose WABAs to list`,
				`bad.yml:3: businesses[1].business_id: "acme" is not a business ID; want digits only`,
			},
		},
		{
			name: "unknown key and bad filters",
			src: "businesses:\n  - business_id: \"1\"\n    access_token: x\n    ownership: [mine]\n    include_waba_ids: [x1]\n" +
				"    name_pattern: \"([\"\n    list_interval: 0s\n    colour: blue\n",
			want: []string{`bad.yml:8: businesses[0].colour: unknown key "colour"`},
		},
		{
			name: "bad filters",
			src: "businesses:\n  - business_id: \"1\"\n    access_token: x\n    ownership: [mine]\n    include_waba_ids: [x1]\n" +
				"    name_pattern: \"([\"\n    list_interval: 0s\n",
			want: []string{
				`bad.yml:4: businesses[0].ownership[0]: unknown value "mine"; want one of owned, client`,
				`bad.yml:5: businesses[0].include_waba_ids[0]: "x1" is not a WABA ID in digits only`,
				"bad.yml:6: businesses[0].name_pattern: not a regular expression: error parsing regexp: missing closing ]: `[`",
				`bad.yml:7: businesses[0].list_interval: must be positive; leave it out for the default, 1h0m0s`,
			},
		},
		{
			name: "the WABAs' account keys, where they are set",
			src: "defaults:\n  timeout: -1s\nbusinesses:\n  - business_id: \"1\"\n    access_token_file: /nonexistent/token\n" +
				"    defaults:\n      messaging:\n        granularity: WEEKLY\n",
			want: []string{
				`bad.yml:2: defaults.timeout: must be positive`,
				`bad.yml:5: businesses[0].access_token_file: open /nonexistent/token: no such file or directory`,
				`bad.yml:8: businesses[0].defaults.messaging.granularity: unknown granularity "WEEKLY"; want HALF_HOUR, DAILY or MONTHLY`,
			},
		},
		{
			name: "a duplicate business",
			src:  "businesses:\n  - business_id: \"1\"\n    access_token: x\n  - business_id: \"1\"\n    access_token: y\n",
			want: []string{`bad.yml:4: businesses[1].business_id: business 1 is already configured at businesses[0]`},
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
