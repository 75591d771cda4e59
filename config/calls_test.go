package config

import (
	"slices"
	"strings"
	"testing"
)

// TestCalls: call analytics are opt-in where offered (Meta and Graph
// passthrough), not offered on Vonage, and their keys are checked like the
// other families'.
func TestCalls(t *testing.T) {
	cfg, err := Parse([]byte(`accounts:
  - waba_id: "1"
    access_token: x
  - waba_id: "2"
    access_token: x
    calls:
      enabled: true
      split_by: [DIRECTION, COUNTRY]
      country_codes: [US]
      directions: [BUSINESS_INITIATED]
`), "calls.yml")
	if err != nil {
		t.Fatal(err)
	}
	off, on := cfg.Accounts[0].Calls, cfg.Accounts[1].Calls
	if off.IsEnabled() || !on.IsEnabled() {
		t.Errorf("calls enabled %v by default, %v when asked: want off, then on", off.IsEnabled(), on.IsEnabled())
	}
	if on.Granularity != "HALF_HOUR" || on.Lookback == 0 || on.Delay == nil || !WantCost(on.Cost) {
		t.Errorf("calls defaults not applied: %+v", on)
	}

	const head = "accounts:\n  - waba_id: \"1\"\n    access_token: x\n    calls:\n      enabled: true\n" // lines 1-5
	const vonage = "accounts:\n  - waba_id: \"1\"\n    provider: vonage\n    api_key: k\n    api_secret: s\n"
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"country split without countries", head + "      split_by: [COUNTRY]\n",
			[]string{`calls.yml:6: accounts[0].calls.split_by: COUNTRY needs the countries to split by in calls.country_codes`}},
		{"unknown split", head + "      split_by: [TIER]\n",
			[]string{`calls.yml:6: accounts[0].calls.split_by[0]: unknown value "TIER"; want one of PHONE, COUNTRY, DIRECTION`}},
		{"direction in lower case", head + "      directions: [user_initiated]\n",
			[]string{`calls.yml:6: accounts[0].calls.directions[0]: "user_initiated" is not a direction in upper case, e.g. USER_INITIATED`}},
		{"templates granularity is not theirs", head + "      granularity: WEEKLY\n",
			[]string{`calls.yml:6: accounts[0].calls.granularity: unknown granularity "WEEKLY"; want HALF_HOUR, DAILY or MONTHLY`}},
		{"calls on Vonage", vonage + "    calls:\n      enabled: true\n",
			[]string{`calls.yml:7: accounts[0].calls.enabled: provider vonage does not offer calls analytics; remove enabled: true`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "calls.yml")
			if err == nil {
				t.Fatal("loaded")
			}
			got := strings.Split(err.Error(), "\n")
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors\n  %q\nwant\n  %q", got, tt.want)
			}
		})
	}
}
