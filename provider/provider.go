// Package provider defines what the exporter needs from a WhatsApp analytics
// API, independently of who serves it (Meta's Graph API, a BSP that passes
// the Graph API through, Vonage's Channel Manager).
//
// A provider turns one query into typed data points and typed errors. It knows
// HTTP and its own wire format; it knows nothing of Prometheus, schedules or
// configuration files. Values the API did not return are nil, never zero:
// "unknown" and "nothing happened" must stay apart all the way to /metrics.
package provider

import (
	"context"
	"errors"
	"time"
)

// Family names one group of analytics that is fetched, cached and reported
// together. The names are also the values of the exporter's "family" label.
type Family string

const (
	Messaging     Family = "messaging"
	Conversations Family = "conversations"
	Pricing       Family = "pricing"
	Templates     Family = "templates"
	Calls         Family = "calls"
)

// Families lists every family in the order the exporter refreshes them.
var Families = []Family{Messaging, Conversations, Pricing, Templates, Calls}

// Granularity is the length of the buckets the API aggregates into. Providers
// translate it into their own spelling (DAY vs DAILY, for instance).
type Granularity string

const (
	HalfHour Granularity = "HALF_HOUR"
	Day      Granularity = "DAILY"
	Month    Granularity = "MONTHLY"
)

// Window is the time range and bucket size of one query.
type Window struct {
	Start, End  time.Time
	Granularity Granularity
}

// Source is one WhatsApp analytics API as seen by the scheduler. Every method
// is safe for concurrent use. The methods for families a provider does not
// offer return an error wrapping ErrUnsupported.
type Source interface {
	Messaging(ctx context.Context, q MessagingQuery) ([]MessagingPoint, error)
	Conversations(ctx context.Context, q ConversationQuery) ([]ConversationPoint, error)
	Pricing(ctx context.Context, q PricingQuery) ([]PricingPoint, error)
	// Templates fetches analytics for q.TemplateIDs, splitting them into as
	// many requests as the API's per-request limit needs.
	Templates(ctx context.Context, q TemplateQuery) ([]TemplatePoint, error)
	Calls(ctx context.Context, q CallQuery) ([]CallPoint, error)

	// PhoneNumbers lists the WABA's business phone numbers, digits only, as
	// the analytics endpoints spell them.
	PhoneNumbers(ctx context.Context, wabaID string) ([]string, error)
	// TemplateIDs lists the IDs of the WABA's message templates.
	TemplateIDs(ctx context.Context, wabaID string) ([]string, error)
	// WABA reads the WABA's own fields (Capabilities.WABAFields).
	WABA(ctx context.Context, wabaID string) (WABA, error)
	// PhoneHealth and TemplateHealth read the status, quality and limits
	// of the WABA's phone numbers and message templates
	// (Capabilities.AccountHealth).
	PhoneHealth(ctx context.Context, wabaID string) ([]PhoneNumber, error)
	TemplateHealth(ctx context.Context, wabaID string) ([]Template, error)
}

// WABA is what the exporter reads of a WhatsApp Business Account itself.
// A field the API did not return is empty.
type WABA struct {
	// Currency is the ISO 4217 code of the currency the WABA is billed
	// in, which every cost figure of it is in.
	Currency string
	// Location is the WABA's time zone, where its day and month buckets
	// begin (Capabilities' LocalDays); nil when unknown.
	Location *time.Location
}

// MessagingQuery asks for messages sent and delivered. The messaging APIs have
// no breakdown dimensions: a per-phone or per-country figure needs one query
// with a single-element filter, which the scheduler issues.
type MessagingQuery struct {
	WABAID       string
	Window       Window
	PhoneNumbers []string
	CountryCodes []string
	ProductTypes []int
}

// MessagingPoint is one bucket of messaging analytics.
type MessagingPoint struct {
	Start, End time.Time
	Sent       *float64
	Delivered  *float64
}

// ConversationQuery asks for conversation counts and, if Cost, their cost.
type ConversationQuery struct {
	WABAID       string
	Window       Window
	PhoneNumbers []string
	CountryCodes []string
	Categories   []string
	Types        []string
	Directions   []string
	// Dimensions are the API's breakdowns: CONVERSATION_CATEGORY,
	// CONVERSATION_TYPE, CONVERSATION_DIRECTION, COUNTRY, PHONE.
	Dimensions []string
	Cost       bool
}

// ConversationPoint is one bucket of one breakdown of conversation analytics.
type ConversationPoint struct {
	Start, End    time.Time
	PhoneNumber   string
	Country       string
	Category      string
	Type          string
	Direction     string
	Conversations *float64
	Cost          *float64
}

// PricingQuery asks for per-message pricing volume and, if Cost, its cost.
type PricingQuery struct {
	WABAID       string
	Window       Window
	PhoneNumbers []string
	CountryCodes []string
	Categories   []string
	Types        []string
	// Dimensions are the API's breakdowns: PRICING_CATEGORY, PRICING_TYPE,
	// COUNTRY, PHONE, TIER.
	Dimensions []string
	Cost       bool
}

// PricingPoint is one bucket of one breakdown of pricing analytics.
type PricingPoint struct {
	Start, End  time.Time
	PhoneNumber string
	Country     string
	Category    string
	Type        string
	Tier        string
	Volume      *float64
	Cost        *float64
}

// TemplateQuery asks for the daily analytics of some message templates.
type TemplateQuery struct {
	WABAID      string
	Window      Window
	TemplateIDs []string
	Cost        bool
	// Product is the API whose sends to report, among the provider's
	// Capabilities.TemplateProducts.
	Product TemplateProduct
}

// TemplatePoint is one day of one template's analytics.
type TemplatePoint struct {
	TemplateID string
	Start, End time.Time
	Sent       *float64
	Delivered  *float64
	Read       *float64
	// Clicked is one entry per button; an API that only reports a total
	// gives a single entry with empty Type and Content.
	Clicked []ButtonClicks
	Cost    []TemplateCost
}

// ButtonClicks counts the clicks on one template button.
type ButtonClicks struct {
	Type    string
	Content string
	Count   float64
}

// TemplateCost is one of the cost figures the API reports for a template,
// such as amount_spent or cost_per_delivered.
type TemplateCost struct {
	Type  string
	Value float64
}

// CallQuery asks for calls (WhatsApp Business Calling) and, if Cost, their
// cost. Like messaging, the call analytics document no breakdown in their
// answers: a per-phone, per-country or per-direction figure needs one query
// filtered to it, which the scheduler issues.
type CallQuery struct {
	WABAID       string
	Window       Window
	PhoneNumbers []string
	CountryCodes []string
	// Directions are USER_INITIATED and BUSINESS_INITIATED.
	Directions []string
	Cost       bool
}

// CallPoint is one bucket of call analytics.
type CallPoint struct {
	Start, End time.Time
	Count      *float64
	Cost       *float64
	// AverageDuration is the calls' mean length, in seconds (Meta's
	// example, 106, reads as seconds; the unit is not documented).
	AverageDuration *float64
}

// ErrUnsupported is wrapped by the errors of methods a provider does not offer.
var ErrUnsupported = errors.New("not offered by this provider")

// ErrCostUnavailable is wrapped by the error a provider returns when the API
// refuses to report cost (Meta's "Cost not available" for WABAs billed through
// a partner). The same query without cost is expected to succeed.
var ErrCostUnavailable = errors.New("cost not available for this account")
