package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
)

const namespace = "whatsapp"

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

// The analytics. Each gauge holds the value of the newest bucket that has
// data (see whatsapp_bucket_end_timestamp_seconds); the label names are fixed
// whatever the provider and the dimensions asked for, and a dimension that
// was not asked for is the empty string.
var (
	messageLabels      = []string{"waba_id", "phone_number", "country"}
	conversationLabels = []string{"waba_id", "phone_number", "country", "conversation_category", "conversation_type", "conversation_direction"}
	pricingLabels      = []string{"waba_id", "phone_number", "country", "pricing_category", "pricing_type", "tier"}
	templateLabels     = []string{"waba_id", "template_id"}

	bucketEndDesc = newDesc("bucket_end_timestamp_seconds",
		"End of the analytics bucket that the family's gauges report, as a Unix timestamp.", "waba_id", "family")
)

// measure is how one analytics.Measure is exported: its descriptor, and the
// label values after waba_id, in the descriptor's order.
type measure struct {
	desc   *prometheus.Desc
	labels func(analytics.Dimensions) []string
}

func messageDims(d analytics.Dimensions) []string { return []string{d.PhoneNumber, d.Country} }

func conversationDims(d analytics.Dimensions) []string {
	return []string{d.PhoneNumber, d.Country, d.ConversationCategory, d.ConversationType, d.ConversationDirection}
}

func pricingDims(d analytics.Dimensions) []string {
	return []string{d.PhoneNumber, d.Country, d.PricingCategory, d.PricingType, d.Tier}
}

func templateDims(d analytics.Dimensions) []string { return []string{d.TemplateID} }

var measures = map[analytics.Measure]measure{
	analytics.MessagesSent: {newDesc("messages_sent",
		"Messages sent in the newest analytics bucket with data.", messageLabels...), messageDims},
	analytics.MessagesDelivered: {newDesc("messages_delivered",
		"Messages delivered in the newest analytics bucket with data.", messageLabels...), messageDims},
	analytics.Conversations: {newDesc("conversations",
		"Conversations in the newest analytics bucket with data.", conversationLabels...), conversationDims},
	analytics.ConversationCost: {newDesc("conversation_cost",
		"Approximate cost of the conversations, in the WABA's currency; absent where the API does not report cost.", conversationLabels...), conversationDims},
	analytics.PricingVolume: {newDesc("pricing_volume",
		"Messages delivered, by pricing breakdown, in the newest analytics bucket with data.", pricingLabels...), pricingDims},
	analytics.PricingCost: {newDesc("pricing_cost",
		"Approximate charges for the delivered messages, in the WABA's currency; absent where the API does not report cost.", pricingLabels...), pricingDims},
	analytics.TemplateSent: {newDesc("template_sent",
		"Sends of the template on the newest day with data (UTC days).", templateLabels...), templateDims},
	analytics.TemplateDelivered: {newDesc("template_delivered",
		"Deliveries of the template on the newest day with data (UTC days).", templateLabels...), templateDims},
	analytics.TemplateRead: {newDesc("template_read",
		"Reads of the template on the newest day with data (UTC days); grows for days after a send.", templateLabels...), templateDims},
	analytics.TemplateClicked: {newDesc("template_clicked",
		"Clicks on a template button on the newest day with data (UTC days).", "waba_id", "template_id", "button_type", "button_content"),
		func(d analytics.Dimensions) []string { return []string{d.TemplateID, d.ButtonType, d.ButtonContent} }},
	analytics.TemplateCost: {newDesc("template_cost",
		"A template cost figure (amount_spent, cost_per_delivered, ...) on the newest day with data, in the WABA's currency.", "waba_id", "template_id", "cost_type"),
		func(d analytics.Dimensions) []string { return []string{d.TemplateID, d.CostType} }},
}

// The exporter's own health, per WABA and family.
var (
	accountInfoDesc = newDesc("exporter_account_info",
		"A configured WhatsApp Business Account; always 1.", "waba_id", "name", "provider")
	refreshSuccessDesc = newDesc("exporter_refresh_success",
		"Whether the last refresh of the family succeeded (1) or failed (0).", "waba_id", "family")
	refreshLastSuccessDesc = newDesc("exporter_refresh_last_success_timestamp_seconds",
		"When the family last refreshed successfully, as a Unix timestamp.", "waba_id", "family")
	refreshDurationDesc = newDesc("exporter_refresh_duration_seconds",
		"How long the last refresh of the family took, throttling included.", "waba_id", "family")
	requestsDesc = newDesc("exporter_api_requests_total",
		`API requests, by HTTP status code ("none" when no response arrived).`, "waba_id", "family", "code")
	errorsDesc = newDesc("exporter_api_errors_total",
		"Failed API requests, by the API's error code (Graph's 4, 190, 80007, ...) or the exporter's own (timeout, connection, malformed_response, ...).",
		"waba_id", "family", "error_code")
	usageDesc = newDesc("exporter_api_rate_limit_usage_ratio",
		"Share of the API rate limit used, as last reported by the API's usage headers (1 = the limit).", "waba_id", "usage_type", "resource")
	regainAccessDesc = newDesc("exporter_api_rate_limit_regain_access_seconds",
		"Time until the API allows requests again, as last reported by its usage headers; 0 when not throttled.", "waba_id", "usage_type")
)

// allDescs lists every descriptor, for Describe.
var allDescs = func() []*prometheus.Desc {
	descs := []*prometheus.Desc{
		bucketEndDesc, accountInfoDesc, refreshSuccessDesc, refreshLastSuccessDesc, refreshDurationDesc,
		requestsDesc, errorsDesc, usageDesc, regainAccessDesc,
	}
	for m := analytics.MessagesSent; m <= analytics.TemplateCost; m++ {
		descs = append(descs, measures[m].desc)
	}
	return descs
}()
