package collector

import (
	"fmt"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
)

const namespace = "whatsapp"

// The analytics. Each measure is exported twice, with the same labels:
//
//   - a gauge, *_newest, with its value in the newest bucket that has data
//     (see whatsapp_bucket_end_timestamp_seconds);
//   - for additive measures, a counter, *_total, with the sum of the
//     buckets of the current month (UTC), so that increase() over any range
//     adds up. In OpenMetrics a counter x_total is the family x: the gauge
//     needs a name of its own, hence the suffix.
//
// The label names are fixed whatever the provider and the dimensions asked
// for; a dimension that was not asked for is the empty string.
var (
	messageLabels      = []string{"waba_id", "phone_number", "country"}
	conversationLabels = []string{"waba_id", "phone_number", "country", "conversation_category", "conversation_type", "conversation_direction"}
	pricingLabels      = []string{"waba_id", "phone_number", "country", "pricing_category", "pricing_type", "tier"}
	templateLabels     = []string{"waba_id", "template_id", "product_type"}
	buttonLabels       = []string{"waba_id", "template_id", "product_type", "button_type", "button_content"}
	callLabels         = []string{"waba_id", "phone_number", "country", "direction"}

	bucketEndTimestamp = newGauge("bucket_end_timestamp_seconds",
		"End of the analytics bucket that the family's newest-bucket gauges report, as a Unix timestamp.", "waba_id", "family")
)

// measure is how one analytics.Measure is exported: its families, and the
// label values after waba_id, in the families' order.
type measure struct {
	newest *family
	// total is nil for measures that do not add up over time.
	total  *family
	labels func(analytics.Dimensions) []string
}

func messageDims(d analytics.Dimensions) []string { return []string{d.PhoneNumber, d.Country} }

func conversationDims(d analytics.Dimensions) []string {
	return []string{d.PhoneNumber, d.Country, d.ConversationCategory, d.ConversationType, d.ConversationDirection}
}

func pricingDims(d analytics.Dimensions) []string {
	return []string{d.PhoneNumber, d.Country, d.PricingCategory, d.PricingType, d.Tier}
}

func callDims(d analytics.Dimensions) []string {
	return []string{d.PhoneNumber, d.Country, d.Direction}
}

func templateDims(d analytics.Dimensions) []string { return []string{d.TemplateID, d.ProductType} }

func buttonDims(d analytics.Dimensions) []string {
	return []string{d.TemplateID, d.ProductType, d.ButtonType, d.ButtonContent}
}

// newMeasure describes an additive measure: what one bucket holds, and
// what the month's buckets add up to. note, when given, ends the help text.
func newMeasure(name, what string, b buckets, note string, dims func(analytics.Dimensions) []string, labels ...string) measure {
	return measure{
		newest: newGauge(name+"_newest", fmt.Sprintf("%s %s%s.", what, b.newest, note), labels...),
		total:  newCounter(name+"_total", fmt.Sprintf("%s %s%s.", what, b.total, note), labels...),
		labels: dims,
	}
}

// buckets says, in help texts, what the newest bucket and the month's sum
// are for a kind of bucket.
type buckets struct{ newest, total string }

var (
	halfHour = buckets{"in the newest analytics bucket with data", "this month (UTC) so far, summed over its analytics buckets"}
	day      = buckets{"on the newest day (UTC) with data", "this month (UTC) so far, summed over its days"}
)

const cost = "; in the WABA's currency, absent where the API reports no cost"

var measures = map[analytics.Measure]measure{
	analytics.MessagesSent:      newMeasure("messages_sent", "Messages sent", halfHour, "", messageDims, messageLabels...),
	analytics.MessagesDelivered: newMeasure("messages_delivered", "Messages delivered", halfHour, "", messageDims, messageLabels...),
	analytics.Conversations:     newMeasure("conversations", "Conversations opened", halfHour, "", conversationDims, conversationLabels...),
	analytics.ConversationCost:  newMeasure("conversation_cost", "Approximate cost of the conversations", halfHour, cost, conversationDims, conversationLabels...),
	analytics.PricingVolume:     newMeasure("pricing_volume", "Messages delivered, by pricing breakdown,", halfHour, "", pricingDims, pricingLabels...),
	analytics.PricingCost:       newMeasure("pricing_cost", "Approximate charges for the delivered messages", halfHour, cost, pricingDims, pricingLabels...),
	analytics.TemplateSent:      newMeasure("template_sent", "Sends of the template", day, "", templateDims, templateLabels...),
	analytics.TemplateDelivered: newMeasure("template_delivered", "Deliveries of the template's sends", day, "", templateDims, templateLabels...),
	analytics.TemplateRead: newMeasure("template_read", "Reads of the template's sends", day,
		"; a day's reads keep growing for 7 days after it", templateDims, templateLabels...),
	analytics.TemplateClicked: newMeasure("template_clicked", "Clicks on a button of the template's sends", day,
		"; button_type and button_content are empty where the API reports one total", buttonDims, buttonLabels...),
	analytics.TemplateAmountSpent: newMeasure("template_amount_spent", "Amount spent on the template's sends", day, cost, templateDims, templateLabels...),
	analytics.TemplateUniqueClicks: {
		newest: newGauge("template_unique_url_clicks_newest",
			"Distinct users who clicked a unique URL button of the template's sends, on the newest day (UTC) with data; people, not clicks: never add it to clicks, nor over days.",
			"waba_id", "template_id", "product_type", "button_content"),
		labels: func(d analytics.Dimensions) []string { return []string{d.TemplateID, d.ProductType, d.ButtonContent} },
	},
	analytics.Calls:    newMeasure("calls", "Calls (WhatsApp Business Calling)", halfHour, "", callDims, callLabels...),
	analytics.CallCost: newMeasure("call_cost", "Approximate cost of the calls", halfHour, cost, callDims, callLabels...),
	analytics.CallAverageDuration: {
		newest: newGauge("call_average_duration_seconds_newest",
			"Mean length of the calls in the newest analytics bucket with data, in seconds; a ratio: never add it up.",
			callLabels...),
		labels: callDims,
	},
	analytics.TemplateUnitCost: {
		newest: newGauge("template_unit_cost_newest",
			"A ratio of the template's cost (cost_type cost_per_delivered or cost_per_url_button_click) on the newest day (UTC) with data, in the WABA's currency; never add it up.",
			"waba_id", "template_id", "product_type", "cost_type"),
		labels: func(d analytics.Dimensions) []string { return []string{d.TemplateID, d.ProductType, d.CostType} },
	},
}

// The exporter's own health, per WABA and family.
var (
	accountInfo = newGauge("exporter_account_info",
		"A configured WhatsApp Business Account, with the currency its costs are in (empty when unknown); always 1.",
		"waba_id", "name", "provider", "currency")
	downwardRevisions = newCounter("exporter_downward_revisions_total",
		"Times the API reported a bucket of the current month lower than before; the month-to-date counters keep the higher value.",
		"waba_id", "family")
	refreshSuccess = newGauge("exporter_refresh_success",
		"Whether the last refresh of the family succeeded (1) or failed (0).", "waba_id", "family")
	familyAvailable = newGauge("exporter_family_available",
		"Whether the API serves the family for this account (1), or says it does not, for the reason given (0; re-checked daily).",
		"waba_id", "family", "reason")
	refreshLastSuccess = newGauge("exporter_refresh_last_success_timestamp_seconds",
		"When the family last refreshed successfully, as a Unix timestamp.", "waba_id", "family")
	seriesDropped = newGauge("exporter_series_dropped",
		"Series of the family, or of account health (family health), left out of /metrics at the last refresh because the account has more than its max_series.",
		"waba_id", "family")
	dataAge = newGauge("exporter_data_age_seconds",
		"Time since the family last refreshed successfully; its values are dropped from /metrics once it is older than the account's max_data_age.",
		"waba_id", "family")
	refreshDuration = newGauge("exporter_refresh_duration_seconds",
		"How long the last refresh of the family took, throttling included.", "waba_id", "family")
	apiRequests = newCounter("exporter_api_requests_total",
		`API requests, by HTTP status code ("none" when no response arrived).`, "waba_id", "family", "code")
	apiErrors = newCounter("exporter_api_errors_total",
		"Failed API requests, by the API's error code (Graph's 4, 190, 80007, ...) or the exporter's own (timeout, connection, malformed_response, ...).",
		"waba_id", "family", "error_code")
	rateLimitUsage = newGauge("exporter_api_rate_limit_usage_ratio",
		"Share of the API rate limit used, as last reported by the API's usage headers (1 = the limit).", "waba_id", "usage_type", "resource")
	regainAccess = newGauge("exporter_api_rate_limit_regain_access_seconds",
		"Time until the API allows requests again, as last reported by its usage headers; 0 when not throttled.", "waba_id", "usage_type")
)

// allFamilies lists every family, sorted by name: the order /metrics
// writes them in.
var allFamilies = func() []*family {
	families := []*family{
		bucketEndTimestamp, accountInfo, downwardRevisions, refreshSuccess, refreshLastSuccess, refreshDuration, dataAge, seriesDropped,
		apiRequests, apiErrors, rateLimitUsage, regainAccess,
		apiVersionInfo, apiVersionExpiry, familyAvailable,
	}
	families = append(families, healthFamilies...)
	for _, m := range measures {
		families = append(families, m.newest)
		if m.total != nil {
			families = append(families, m.total)
		}
	}
	return indexFamilies(families)
}()
