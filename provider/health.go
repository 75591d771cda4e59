package provider

import "math"

// PhoneNumber is what the API says of the health of one business phone
// number. Every field is the API's own spelling; a field the API did not
// return is empty.
type PhoneNumber struct {
	// Number is the phone number in digits only, as the analytics
	// endpoints spell it (and PhoneNumbers lists it).
	Number string
	// ID is the phone number's Graph ID; DisplayPhoneNumber is the number
	// as the API spells it ("+1 631-555-5555").
	ID                 string
	DisplayPhoneNumber string
	VerifiedName       string
	// Status is the number's registration and standing: CONNECTED, or
	// one of PhoneStatuses' others.
	Status string
	// QualityRating is GREEN, YELLOW, RED or UNKNOWN.
	QualityRating string
	// NameStatus is the review state of the display name.
	NameStatus string
	// ThroughputLevel is STANDARD or HIGH (messages per second).
	ThroughputLevel string
	// MessagingLimit is the tier of unique users the business may message
	// outside a customer service window in 24 hours (TIER_2K, ...).
	MessagingLimit string
	// CanSendMessage is the overall health_status: AVAILABLE, LIMITED or
	// BLOCKED.
	CanSendMessage string
}

// Template is what the API says of one message template: what it is and
// whether it may be sent. A field the API did not return is empty.
type Template struct {
	ID       string
	Name     string
	Language string
	// Status is the review state: APPROVED, PAUSED, ... (TemplateStatuses).
	Status string
	// Category is MARKETING, UTILITY or AUTHENTICATION.
	Category string
	// QualityScore is GREEN, YELLOW, RED or UNKNOWN.
	QualityScore string
}

// The documented values of each health field. The exporter exports a state
// set per field: a series for each of these values (1 for the current one, 0
// for the others) and, when the API says something else, a series for that
// value too. The API adds values over time; the lists need not be complete,
// only true.
var (
	// Meta's phone number reference (Phone Number Management API),
	// https://developers.facebook.com/documentation/business-messaging/whatsapp/reference/whatsapp-business-account/phone-number-management-api
	PhoneStatuses = []string{"CONNECTED", "PENDING", "FLAGGED", "RESTRICTED", "RATE_LIMITED", "DISCONNECTED", "MIGRATED", "BANNED", "DELETED"}
	// Quality rating of a phone number, and quality score of a template:
	// https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/template-quality/
	// ("UNKNOWN": quality pending).
	QualityRatings = []string{"GREEN", "YELLOW", "RED", "UNKNOWN"}
	// Display name review:
	// https://developers.facebook.com/documentation/business-messaging/whatsapp/display-names
	NameStatuses = []string{"APPROVED", "AVAILABLE_WITHOUT_REVIEW", "PENDING_REVIEW", "DECLINED", "EXPIRED", "NONE"}
	// Throughput: https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput
	// (80 messages per second by default, up to 1,000 for HIGH).
	ThroughputLevels = []string{"STANDARD", "HIGH", "NOT_APPLICABLE"}
	// Messaging and calling health:
	// https://developers.facebook.com/documentation/business-messaging/whatsapp/support/health-status
	CanSendMessageStates = []string{"AVAILABLE", "LIMITED", "BLOCKED"}
	// The values of whatsapp_business_manager_messaging_limit:
	// https://developers.facebook.com/documentation/business-messaging/whatsapp/messaging-limits
	// (250, 2,000, 10,000, 100,000, unlimited) and Meta's business SDK
	// (UNTIERED). The older messaging_limit_tier also said TIER_50 and
	// TIER_1K; they are exported as they come, like any other value.
	MessagingLimits = []string{"TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED", "UNTIERED"}
	// Template review states and categories:
	// https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_status_update
	TemplateStatuses   = []string{"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "PENDING_DELETION", "DELETED", "LIMIT_EXCEEDED", "ARCHIVED"}
	TemplateCategories = []string{"MARKETING", "UTILITY", "AUTHENTICATION"}
)

// MessagingLimitRecipients is how many unique users a messaging limit tier
// lets the business message outside a customer service window in a moving
// 24 hours (+Inf for TIER_UNLIMITED), and false for a value that names no
// number (UNTIERED, TIER_NOT_SET, anything new). The tiers, old names
// included: the phone_number_quality_update webhook reference,
// https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update
// (TIER_1K is the 1,000 that 2,000 replaced).
func MessagingLimitRecipients(tier string) (float64, bool) {
	switch tier {
	case "TIER_50":
		return 50, true
	case "TIER_250":
		return 250, true
	case "TIER_1K":
		return 1000, true
	case "TIER_2K":
		return 2000, true
	case "TIER_10K":
		return 10000, true
	case "TIER_100K":
		return 100000, true
	case "TIER_UNLIMITED":
		return math.Inf(1), true
	}
	return 0, false
}
