// Package fakeapi serves fakes of the WhatsApp analytics APIs the exporter
// reads: the Graph API (Meta's, or a BSP's passthrough of it) and Vonage's
// Channel Manager. The data is deterministic and moves with the clock, so
// the demo looks alive and the tests can predict every value. Faults (rate
// limits, 5xx, malformed or huge bodies, slow or hung answers, endless
// paging, expired tokens) are injected per WABA.
//
// The fakes follow the APIs' public documentation, "the reference
// documents" in comments here: Meta's Analytics page
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/analytics/),
// its Graph API error and rate-limiting guides, and Vonage's WhatsApp
// Analytics guide for the Channel Manager
// (https://developer.vonage.com/en/channel-manager/guides/whatsapp/whatsapp-analytics).
package fakeapi

import (
	"hash/fnv"
	"math"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
)

// WABA is one fake WhatsApp Business Account and its traffic.
type WABA struct {
	WABAID string
	// Name is the WABA's name, as its node and the business edges answer
	// it; the WABA's ID when empty.
	Name string
	// Token is the bearer token (or API key) the fake accepts for it; the
	// Vonage fake takes it as the API secret.
	Token string
	// APIKey is the Vonage API key that goes with Token as the secret.
	APIKey string
	// AppSecret, when set, makes the fake require a matching appsecret_proof.
	AppSecret string
	Phones    []Phone
	Countries []Country
	Templates []Template
	// PartnerBilled WABAs get Meta's "Cost not available" exception
	// when they ask for cost.
	PartnerBilled bool
	// InsightsDisabled WABAs never enabled template insights: their
	// is_enabled_for_insights field is false, and template_analytics
	// refuses them. TemplatesUnsupported WABAs are where template analytics
	// are not offered (the European Union, Japan): template_analytics
	// refuses them whatever the field says.
	InsightsDisabled, TemplatesUnsupported bool
	// Currency is what the WABA is billed in; USD when empty.
	Currency string
	// TimezoneID is the WABA's timezone_id, one of Facebook's time zone
	// ids; its day and month buckets of messaging, conversation and pricing
	// analytics begin at its local midnight. "0" (UTC) when empty.
	TimezoneID string
	// Volume is the messages a phone sends in a busy half hour.
	Volume float64
	// DeliveryRate is the share of sent messages delivered, normally.
	DeliveryRate float64
	// DropFrom, when set, is when the delivery rate falls to DroppedRate:
	// the demo's simulated delivery incident.
	DropFrom    time.Time
	DroppedRate float64
	// HourlyBudget, when set, is the calls an hour this WABA may make
	// before the Graph fake answers 80007/80008, in place of
	// Options.HourlyBudget: Meta gives a WABA without a registered phone
	// number 200 an hour per app, and one with 5,000 (see core.go).
	HourlyBudget int
	// NoMarketingMessages WABAs send no template through the Marketing
	// Messages API: template_analytics answers product_type
	// MARKETING_MESSAGES_API_FOR_WHATSAPP with no data points.
	NoMarketingMessages bool

	// m is the WABA's prepared model (model.go), set by the fake that
	// holds the WABA and dropped whenever the WABA changes.
	m *model
}

// Phone is a business phone number of a WABA.
type Phone struct {
	Number  string // digits, as the analytics endpoints spell it
	Display string // as the phone_numbers edge spells it
	Weight  float64
	// The number's health as the phone_numbers edge reports it; empty
	// fields read as a healthy number's (see health.go).
	Health PhoneHealth
}

// Country is a destination country and how much of the traffic goes there.
type Country struct {
	Code   string
	Weight float64
	// PriceFactor scales the base prices: rates differ by market.
	PriceFactor float64
}

// Template is a message template and its buttons.
type Template struct {
	ID       string
	Name     string
	Category string
	Buttons  []Button
	Weight   float64
	// Language, Status and Quality are what the message_templates edge
	// says; empty fields read as an approved en_US template's of GREEN
	// quality.
	Language, Status, Quality string
}

// Button is a template button.
type Button struct {
	Type    string // quick_reply_button, url_button, unique_url_button
	Content string
}

// The APIs template_analytics tells apart by product_type: the Cloud API,
// whose sends it reports by default, and the Marketing Messages API, which
// sends marketing templates only (the Analytics page, template analytics).
const (
	cloudAPI          = "CLOUD_API"
	marketingMessages = "MARKETING_MESSAGES_API_FOR_WHATSAPP"
)

// Breakdown values, with their share of the traffic and base price. The
// values are the ones the reference documents list.
var (
	conversationCategories = []share{{"AUTHENTICATION", 0.15, 0.0135}, {"MARKETING", 0.35, 0.025}, {"SERVICE", 0.30, 0.0088}, {"UTILITY", 0.20, 0.004}}
	conversationTypes      = []share{{"REGULAR", 0.80, 1}, {"FREE_TIER", 0.15, 0}, {"FREE_ENTRY_POINT", 0.05, 0}}
	conversationDirections = []share{{"BUSINESS_INITIATED", 0.6, 1}, {"USER_INITIATED", 0.4, 1}}
	pricingCategories      = []share{{"AUTHENTICATION", 0.15, 0.0135}, {"MARKETING", 0.35, 0.025}, {"SERVICE", 0.30, 0}, {"UTILITY", 0.20, 0.004}}
	pricingTypes           = []share{{"REGULAR", 0.75, 1}, {"FREE_CUSTOMER_SERVICE", 0.20, 0}, {"FREE_ENTRY_POINT", 0.05, 0}}
	// The categories the current Analytics page lists besides those four,
	// and its example answers carry: messages sent through the Marketing
	// Messages API (MARKETING_LITE), authentication at international rates,
	// and messages received through a free entry point
	// (REFERRAL_CONVERSION). The fake reports them from the start of
	// per-message pricing on: its data before then stays as it was.
	perMessageCategories = []share{{"MARKETING_LITE", 0.10, 0.02}, {"AUTHENTICATION_INTERNATIONAL", 0.05, 0.03}, {"REFERRAL_CONVERSION", 0.05, 0}}
)

// Meta's pricing changes the fake's data follows: per-message pricing from
// 2025-07-01; and from 2026-10-01 service messages are charged (at the
// market's utility rate) and utility templates sent inside the customer
// service window are no longer free
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing).
var (
	perMessagePricing   = time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	chargedServiceSince = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
)

type share struct {
	name   string
	weight float64
	price  float64
}

const halfHour = 30 * time.Minute

// seed hashes the names that identify a series, so that every series has
// its own, stable noise.
func seed(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// unit maps a seed and a time to a stable pseudo-random number in [0, 1).
func unit(s uint64, t int64) float64 {
	z := s + uint64(t)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

func (a *WABA) name() string {
	if a.Name == "" {
		return a.WABAID
	}
	return a.Name
}

func (a *WABA) currency() string {
	if a.Currency == "" {
		return "USD"
	}
	return a.Currency
}

// location is where the WABA's days begin: its time zone as the exporter
// reads the id (one table for both), UTC for an id it does not know.
func (a *WABA) location() *time.Location {
	if a.m != nil {
		return a.m.loc
	}
	return a.zone()
}

// zone loads the WABA's time zone (from the system's zone files, so its
// model keeps it).
func (a *WABA) zone() *time.Location {
	if loc, ok := meta.Location(a.TimezoneID); ok {
		return loc
	}
	return time.UTC
}

func (a *WABA) timezoneID() string {
	if a.TimezoneID == "" {
		return "0"
	}
	return a.TimezoneID
}

func (a *WABA) deliveryRate(t time.Time) float64 {
	if !a.DropFrom.IsZero() && !t.Before(a.DropFrom) {
		return a.DroppedRate
	}
	return a.DeliveryRate
}

// tier is the volume tier of a market and category; free messages have none
// (Meta's Analytics page, pricing analytics: "marketing 0:MAX", and free
// data points carry no tier).
func tier(cat, typ share) string {
	switch {
	case typ.name != "REGULAR":
		return ""
	case cat.name == "MARKETING" || cat.name == "MARKETING_LITE":
		return "0:MAX"
	default:
		return "0:750000"
	}
}

// templateDay is one template's analytics for the UTC day starting at day.
type templateDay struct {
	sent, delivered, read float64
	clicks                []float64 // per button
	amountSpent           float64
}

func (a *WABA) templateDay(tpl Template, day time.Time, product string) templateDay {
	s := seed(a.WABAID, tpl.ID)
	scale := 1.0
	if product != cloudAPI {
		// Sends through the Marketing Messages API: fewer, with their own
		// noise.
		s, scale = seed(a.WABAID, tpl.ID, product), 0.4
	}
	sent := math.Round(1500 * scale * tpl.Weight * (0.7 + 0.6*unit(s, day.Unix())))
	d := templateDay{sent: sent}
	d.delivered = math.Floor(sent * a.deliveryRate(day.Add(12*time.Hour)))
	d.read = math.Floor(d.delivered * (0.6 + 0.2*unit(s+1, day.Unix())))
	for i := range tpl.Buttons {
		d.clicks = append(d.clicks, math.Floor(d.read*(0.05+0.2*unit(s+uint64(2+i), day.Unix()))))
	}
	price := 0.0
	for _, c := range pricingCategories {
		if c.name == tpl.Category {
			price = c.price
		}
	}
	d.amountSpent = math.Round(d.delivered*price*100) / 100
	return d
}

// callDirections are who places calls, and their share of them.
var callDirections = []share{{"USER_INITIATED", 0.7, 0}, {"BUSINESS_INITIATED", 0.3, 0.01}}
