package provider

import "fmt"

// TemplateProduct is the API a template's messages were sent through, which
// Meta's template_analytics tells apart by its product_type parameter: "If
// not provided, only analytics for Cloud API will be returned"
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/analytics/).
// Its values are the exporter's product_type label.
type TemplateProduct string

const (
	// CloudAPI is the Cloud API (product_type CLOUD_API).
	CloudAPI TemplateProduct = "cloud_api"
	// MarketingMessages is the Marketing Messages API for WhatsApp
	// (product_type MARKETING_MESSAGES_API_FOR_WHATSAPP, formerly
	// MARKETING_MESSAGES_LITE_API).
	MarketingMessages TemplateProduct = "marketing_messages"
)

// Reasons a family is unavailable for an account (Unavailable.Reason); they
// are the values of the exporter's reason label.
const (
	// ReasonInsightsDisabled: template insights were never enabled for
	// the WABA (its is_enabled_for_insights field is false).
	ReasonInsightsDisabled = "insights_disabled"
	// ReasonNotSupported: the API does not serve the family for this
	// account, such as template analytics for WABAs in the European Union
	// or Japan.
	ReasonNotSupported = "not_supported"
)

// Unavailable is the cause (APIError.Err) of an answer that says the API
// does not serve a family for this account at all, rather than that one
// request failed: asking again on every refresh would fail every time, until
// something changes on the account's side.
type Unavailable struct {
	// Reason is one of the Reason* constants.
	Reason string
}

func (u *Unavailable) Error() string {
	return fmt.Sprintf("not available for this account (%s)", u.Reason)
}
