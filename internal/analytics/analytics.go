// Package analytics is what the scheduler hands to the collector: for each
// configured account, the outcome of the latest refresh of each family (the
// newest bucket with data, its times and its values) and what the account's
// API requests met. It is plain data, built by the scheduler and never
// changed once published: no Prometheus types, no API rules, no credentials.
package analytics

import (
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// Snapshot is everything one configured account exports at one moment.
type Snapshot struct {
	WABAID   string
	Name     string
	Provider string
	// Families holds the latest refresh of each family that was tried; a
	// family not yet tried is absent.
	Families map[provider.Family]*Refresh
	// Usage is the rate-limit usage the API reported during the latest
	// refresh, one entry per budget type, sorted by type. Graph reports
	// usage only while it is high: a type that was not reported is absent.
	Usage []provider.Usage
	// Requests counts the API requests sent since the start, by family
	// and HTTP status code (provider.NoResponse when no answer came).
	Requests map[Outcome]float64
	// Errors counts the failed requests since the start, by family and
	// error code.
	Errors map[Outcome]float64
	// Currency is the ISO 4217 code the WABA is billed in, as the API
	// reports it; empty when unknown.
	Currency string
	// MaxDataAge is how old a family's last successful refresh may be
	// before its values no longer pass for current (0: no limit).
	MaxDataAge time.Duration
	// DroppedSeries counts, per family, the series left out of Families
	// because the account has more than its max_series.
	DroppedSeries map[provider.Family]int
	// Health is the account's health; nil until it was first read, and
	// where it is not read at all.
	Health *Health
	// APIVersion is the API version asked for and served; nil for an API
	// without versions.
	APIVersion *APIVersion
}

// AccountFamily is the family of the requests about the WABA itself (its
// currency), in Requests and Errors: they belong to no analytics family.
const AccountFamily provider.Family = "account"

// CombinedFamily is the family of a request that asks for several analytics
// families at once (their further pages count as their own family's), in
// Requests and Errors.
const CombinedFamily provider.Family = "combined"

// InventoryFamily is the family of the requests that list a WABA's phone
// numbers and templates where account health does not, in Requests and
// Errors.
const InventoryFamily provider.Family = "inventory"

// Outcome is one family's requests that ended with one code.
type Outcome struct {
	Family provider.Family
	Code   string
}

// Refresh is the latest refresh of one family.
type Refresh struct {
	// Success says whether it succeeded. A failed refresh keeps the data
	// of the last successful one.
	Success bool
	// LastSuccess is when the family last refreshed successfully; zero
	// until it has.
	LastSuccess time.Time
	// Duration is how long the latest refresh took, waits for the
	// request throttle included.
	Duration time.Duration
	// BucketStart and BucketEnd bound the newest bucket with data among
	// the complete buckets of the lookback window; both are zero when the
	// window held no data.
	BucketStart, BucketEnd time.Time
	// Values are the values of that bucket. A series seen in an older
	// bucket of the window but not in the newest reads 0: nothing happened
	// there in that bucket.
	Values []Value
	// MonthToDate is what the family's additive measures add up to this
	// month; nil while it is not known in full.
	MonthToDate *MonthToDate
	// Unavailable, when not empty, is why the API does not serve the
	// family for this account at all (a provider.Reason* value): it is
	// not fetched again for a day, and Success is false meanwhile.
	Unavailable string
}

// MonthToDate is the sum, per series, of every bucket that started in one
// calendar month (UTC) and ended by the refresh's cutoff, as the API
// reported them. A value never goes down: a bucket the API revises downward
// keeps the highest value it had.
type MonthToDate struct {
	// Month is the start of the month summed.
	Month time.Time
	// Values are the sums, for the additive measures only.
	Values []Value
	// DownwardRevisions counts, since the start, the times the API reported
	// a bucket's value lower than it had before.
	DownwardRevisions float64
}

// Value is one series' value in a bucket.
type Value struct {
	Measure    Measure
	Dimensions Dimensions
	Value      float64
}

// Measure is what a value counts.
type Measure int

// The measures, one per analytics metric.
const (
	MessagesSent Measure = iota
	MessagesDelivered
	Conversations
	ConversationCost
	PricingVolume
	PricingCost
	TemplateSent
	TemplateDelivered
	TemplateRead
	// TemplateClicked counts clicks on a button (Dimensions.ButtonType and
	// ButtonContent; both empty for an API that reports one total).
	TemplateClicked
	// TemplateAmountSpent is what the template's sends cost.
	TemplateAmountSpent
	// TemplateUniqueClicks counts the distinct users who clicked a unique
	// URL button: a count of people, not of clicks, so not additive.
	TemplateUniqueClicks
	// TemplateUnitCost is a ratio such as cost_per_delivered (named by
	// Dimensions.CostType): not additive.
	TemplateUnitCost
	// Calls counts calls; CallCost is what they cost.
	Calls
	CallCost
	// CallAverageDuration is the calls' mean length in seconds: a ratio,
	// not additive.
	CallAverageDuration
)

// Additive reports whether the measure's values add up over time, so that a
// month's worth is the sum of its buckets: counts and amounts are, ratios
// and counts of distinct users are not.
func (m Measure) Additive() bool {
	return m != TemplateUniqueClicks && m != TemplateUnitCost && m != CallAverageDuration
}

// Dimensions are the breakdown of a value. Those that a measure does not
// have, or that were not asked for, are empty.
type Dimensions struct {
	PhoneNumber string
	Country     string

	ConversationCategory  string
	ConversationType      string
	ConversationDirection string

	PricingCategory string
	PricingType     string
	Tier            string

	// Direction is who placed a call: USER_INITIATED, BUSINESS_INITIATED.
	Direction string

	TemplateID string
	// ProductType is the API the template's messages were sent through
	// (provider.TemplateProduct).
	ProductType   string
	ButtonType    string
	ButtonContent string
	CostType      string
}
