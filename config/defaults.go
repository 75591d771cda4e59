package config

import (
	"strings"
	"time"
)

// Built-in defaults. The API budget figures are the exporter's own choice: Meta
// documents its limits per app and WABA (graph-api-facts.md, "Rate limits"),
// not a safe rate for one client.
const (
	DefaultRequestsPerSecond     = 10
	DefaultBurst                 = 10
	DefaultMaxConcurrentRequests = 10

	DefaultInterval   = 15 * time.Minute
	DefaultTimeout    = 30 * time.Second
	DefaultAPIVersion = "v21.0"
)

// Default lookback and delay per granularity. Meta does not publish how late
// its analytics arrive; these are conservative guesses that a user tunes with
// the lookback and delay keys.
var familyDefaults = map[string]struct{ lookback, delay time.Duration }{
	"HALF_HOUR": {lookback: 6 * time.Hour, delay: 30 * time.Minute},
	"DAILY":     {lookback: 72 * time.Hour, delay: 2 * time.Hour},
	"MONTHLY":   {lookback: 62 * 24 * time.Hour, delay: 2 * time.Hour},
}

// vonageMonthlyLookback replaces the MONTHLY default on Vonage: 62 days, plus
// the delay, plus up to 31 days of aligning the start to the 1st, reaches
// past the 90 days its API keeps (vonageHistory). 58 days still always covers
// the last complete month.
const vonageMonthlyLookback = 58 * 24 * time.Hour

// Every breakdown the API offers, reported unless the config says otherwise.
var (
	AllConversationDimensions = []string{"CONVERSATION_CATEGORY", "CONVERSATION_TYPE", "CONVERSATION_DIRECTION", "COUNTRY", "PHONE"}
	AllPricingDimensions      = []string{"PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY", "PHONE", "TIER"}
)

// NormalizeGranularity maps the spellings the APIs use (DAY next to DAILY,
// MONTH next to MONTHLY, any case) to one; it returns "" for anything else.
func NormalizeGranularity(g string) string {
	switch strings.ToUpper(strings.TrimSpace(g)) {
	case "HALF_HOUR":
		return "HALF_HOUR"
	case "DAY", "DAILY":
		return "DAILY"
	case "MONTH", "MONTHLY":
		return "MONTHLY"
	}
	return ""
}

func (c *Config) applyDefaults() {
	g := &c.Global
	if g.RequestsPerSecond == 0 {
		g.RequestsPerSecond = DefaultRequestsPerSecond
	}
	if g.Burst == 0 {
		g.Burst = DefaultBurst
	}
	if g.MaxConcurrentRequests == 0 {
		g.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	}
	for i := range c.Accounts {
		c.Accounts[i].applyDefaults()
	}
}

func (a *Account) applyDefaults() {
	if a.Provider == "" {
		a.Provider = ProviderMeta
	}
	if a.APIURL == "" {
		a.APIURL = defaultURL[a.Provider]
	}
	a.splitURLVersion()
	if a.APIVersion == "" && a.Provider != ProviderVonage {
		a.APIVersion = DefaultAPIVersion
	}
	if a.Interval == 0 {
		a.Interval = DefaultInterval
	}
	if a.Timeout == 0 {
		a.Timeout = DefaultTimeout
	}
	a.Messaging.Family.applyDefaults(a.Provider, "HALF_HOUR")
	a.Conversations.Family.applyDefaults(a.Provider, "HALF_HOUR")
	a.Pricing.Family.applyDefaults(a.Provider, "HALF_HOUR")
	a.Templates.Family.applyDefaults(a.Provider, "DAILY")
	if a.Conversations.Dimensions == nil {
		a.Conversations.Dimensions = AllConversationDimensions
	}
	if a.Pricing.Dimensions == nil {
		a.Pricing.Dimensions = AllPricingDimensions
	}
	a.applyProviderDefaults()
}

// defaultURL is where each provider's API lives; a passthrough BSP has no
// default, its URL is the BSP's own.
var defaultURL = map[string]string{
	ProviderMeta:   "https://graph.facebook.com",
	ProviderVonage: "https://api.nexmo.com",
}

func (f *Family) applyDefaults(provider, granularity string) {
	if f.Granularity == "" {
		f.Granularity = granularity
	}
	d, ok := familyDefaults[NormalizeGranularity(f.Granularity)]
	if !ok {
		return // reported by validation
	}
	f.Granularity = NormalizeGranularity(f.Granularity)
	if provider == ProviderVonage && f.Granularity == "MONTHLY" {
		d.lookback = vonageMonthlyLookback
	}
	if f.Lookback == 0 {
		f.Lookback = d.lookback
	}
	if f.Delay == nil {
		delay := d.delay
		f.Delay = &delay
	}
}
