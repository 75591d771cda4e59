package config

import (
	"strings"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
)

// Built-in defaults. The API budget figures are the exporter's own choice: Meta
// documents its limits per app and WABA
// (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/),
// not a safe rate for one client. The process-wide rate bounds the
// exporter's own load; 25 a second serves 1,000 WABAs on the default
// interval, a start's month so far included (about 20 calls a WABA once,
// then about 5 a refresh: docs/fleet.md), and each WABA's own budget is
// kept by its usage headers.
const (
	DefaultRequestsPerSecond     = 25
	DefaultBurst                 = 10
	DefaultMaxConcurrentRequests = 10
	// Two bodies at the cap of one response, or very many ordinary ones.
	// Decoding a body takes about as much again, so the heap under the
	// worst answers stays near 250 MiB (docs/operations.md, "Performance").
	DefaultMaxResponseBytesInFlight = 2 * provider.MaxResponseBytes

	// DefaultMaxSeries bounds one account's analytics series: about ten
	// times what the defaults give a WABA with 5 numbers in 30 countries.
	DefaultMaxSeries = 20000

	DefaultInterval = 15 * time.Minute
	DefaultTimeout  = 30 * time.Second
)

// DefaultAPIVersion is the Graph API version in request paths unless an
// account sets api_version. v25.0 rather than the newest (v27.0, November
// 2026) because it is the newest whose end Meta has published (2028-07-29,
// meta.GraphVersions), so the exporter can warn ahead of it; and because
// the changelogs from v22.0 on change nothing in the fields and edges the
// exporter reads (the WhatsApp analytics changes apply to every version).
// Move it on when Meta dates a newer version.
const DefaultAPIVersion = "v25.0"

// Default lookback and delay per granularity. Meta does not publish how late
// its analytics arrive; these are conservative guesses that a user tunes with
// the lookback and delay keys. Where an API keeps less history than a
// default needs, the lookback is shortened to fit (defaultLookback).
var familyDefaults = map[string]struct{ lookback, delay time.Duration }{
	"HALF_HOUR": {lookback: 6 * time.Hour, delay: 30 * time.Minute},
	"DAILY":     {lookback: 72 * time.Hour, delay: 2 * time.Hour},
	"MONTHLY":   {lookback: 62 * 24 * time.Hour, delay: 2 * time.Hour},
}

// Every breakdown the API offers, reported unless the config says otherwise.
var (
	AllConversationDimensions = []string{"CONVERSATION_CATEGORY", "CONVERSATION_TYPE", "CONVERSATION_DIRECTION", "COUNTRY", "PHONE"}
	AllPricingDimensions      = []string{"PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY", "PHONE", "TIER"}
)

// The breakdowns reported unless the config says otherwise: all but the
// phone number, which multiplies a WABA's series by its numbers (a
// breakdown by phone and by country is the product of both). Measured on a
// WABA with 5 numbers in 30 countries, every breakdown gives about five
// times the series of these (docs/metrics.md, "Series per WABA").
var (
	DefaultConversationDimensions = []string{"CONVERSATION_CATEGORY", "CONVERSATION_TYPE", "CONVERSATION_DIRECTION", "COUNTRY"}
	DefaultPricingDimensions      = []string{"PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY", "TIER"}
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

// applyDefaults fills in what the file leaves out. A zero it does give
// (interval: 0s) is an error that validation reports before this runs
// (validator.zeros), not a way to ask for the default.
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
	if g.MaxResponseBytesInFlight == 0 {
		g.MaxResponseBytesInFlight = DefaultMaxResponseBytesInFlight
	}
	for i := range c.Accounts {
		c.Accounts[i].applyDefaults()
	}
	for i := range c.Businesses {
		c.Businesses[i].applyDefaults()
	}
	c.Webhooks.applyDefaults()
}

func (a *Account) applyDefaults() {
	if a.Provider == "" {
		a.Provider = meta.Name
	}
	caps := a.Capabilities()
	if a.APIURL == "" {
		a.APIURL = caps.DefaultURL
	}
	a.splitURLVersion()
	if a.APIVersion == "" && caps.Versioned {
		a.APIVersion = DefaultAPIVersion
	}
	if a.Interval == 0 {
		a.Interval = DefaultInterval
	}
	if a.Timeout == 0 {
		a.Timeout = DefaultTimeout
	}
	if a.MaxDataAge == 0 {
		a.MaxDataAge = max(4*a.Interval, time.Hour)
	}
	if a.MaxSeries == 0 {
		a.MaxSeries = DefaultMaxSeries
	}
	for _, f := range provider.Families {
		fc := caps.Family(f)
		granularity := provider.HalfHour
		if len(fc.Granularities) == 1 {
			granularity = fc.Granularities[0] // templates: DAILY only
		}
		a.Family(f).applyDefaults(granularity, fc.History, caps.WholeDays)
	}
	if a.Conversations.Dimensions == nil {
		a.Conversations.Dimensions = DefaultConversationDimensions
	}
	if a.Pricing.Dimensions == nil {
		a.Pricing.Dimensions = DefaultPricingDimensions
	}
	a.applyProviderDefaults()
}

func (f *FamilySettings) applyDefaults(granularity provider.Granularity, history time.Duration, wholeDays bool) {
	if f.Granularity == "" {
		f.Granularity = string(granularity)
	}
	d, ok := familyDefaults[NormalizeGranularity(f.Granularity)]
	if !ok {
		return // reported by validation
	}
	f.Granularity = NormalizeGranularity(f.Granularity)
	if f.Delay == nil {
		delay := d.delay
		f.Delay = &delay
	}
	if f.Lookback == 0 {
		f.Lookback = defaultLookback(bucket.Spec{
			Granularity: provider.Granularity(f.Granularity), Lookback: d.lookback, Delay: *f.Delay, WholeDays: wholeDays,
		}, history)
	}
}
