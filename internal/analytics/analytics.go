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
}

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
	TemplateClicked
	// TemplateCost is one of a template's cost figures, named by
	// Dimensions.CostType (amount_spent, cost_per_delivered, ...).
	TemplateCost
)

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

	TemplateID    string
	ButtonType    string
	ButtonContent string
	CostType      string
}
