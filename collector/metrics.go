package collector

import "github.com/prometheus/client_golang/prometheus"

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

	messagesSentDesc = newDesc("messages_sent",
		"Messages sent in the newest analytics bucket with data.", messageLabels...)
	messagesDeliveredDesc = newDesc("messages_delivered",
		"Messages delivered in the newest analytics bucket with data.", messageLabels...)
	conversationsDesc = newDesc("conversations",
		"Conversations in the newest analytics bucket with data.", conversationLabels...)
	conversationCostDesc = newDesc("conversation_cost",
		"Approximate cost of the conversations, in the WABA's currency; absent where the API does not report cost.", conversationLabels...)
	pricingVolumeDesc = newDesc("pricing_volume",
		"Messages delivered, by pricing breakdown, in the newest analytics bucket with data.", pricingLabels...)
	pricingCostDesc = newDesc("pricing_cost",
		"Approximate charges for the delivered messages, in the WABA's currency; absent where the API does not report cost.", pricingLabels...)
	templateSentDesc = newDesc("template_sent",
		"Sends of the template on the newest day with data (UTC days).", templateLabels...)
	templateDeliveredDesc = newDesc("template_delivered",
		"Deliveries of the template on the newest day with data (UTC days).", templateLabels...)
	templateReadDesc = newDesc("template_read",
		"Reads of the template on the newest day with data (UTC days); grows for days after a send.", templateLabels...)
	templateClickedDesc = newDesc("template_clicked",
		"Clicks on a template button on the newest day with data (UTC days).", "waba_id", "template_id", "button_type", "button_content")
	templateCostDesc = newDesc("template_cost",
		"A template cost figure (amount_spent, cost_per_delivered, ...) on the newest day with data, in the WABA's currency.", "waba_id", "template_id", "cost_type")
	bucketEndDesc = newDesc("bucket_end_timestamp_seconds",
		"End of the analytics bucket that the family's gauges report, as a Unix timestamp.", "waba_id", "family")
)

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
)

// selfMetrics are the exporter's live counters, updated by providers through
// their Observer as requests happen.
type selfMetrics struct {
	requests     *prometheus.CounterVec
	errors       *prometheus.CounterVec
	usage        *prometheus.GaugeVec
	regainAccess *prometheus.GaugeVec
}

func newSelfMetrics() *selfMetrics {
	return &selfMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "exporter_api_requests_total",
			Help: `API requests, by HTTP status code ("none" when no response arrived).`,
		}, []string{"waba_id", "family", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "exporter_api_errors_total",
			Help: "Failed API requests, by the API's error code (Graph's 4, 190, 80007, ...) or the exporter's own (timeout, connection, malformed_response, ...).",
		}, []string{"waba_id", "family", "error_code"}),
		usage: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "exporter_api_rate_limit_usage_ratio",
			Help: "Share of the API rate limit used, as last reported by the API's usage headers (1 = the limit).",
		}, []string{"waba_id", "usage_type", "resource"}),
		regainAccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "exporter_api_rate_limit_regain_access_seconds",
			Help: "Time until the API allows requests again, as last reported by its usage headers; 0 when not throttled.",
		}, []string{"waba_id", "usage_type"}),
	}
}

func (m *selfMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.errors, m.usage, m.regainAccess}
}

// allDescs lists every descriptor the const metrics use, for Describe.
var allDescs = []*prometheus.Desc{
	messagesSentDesc, messagesDeliveredDesc, conversationsDesc, conversationCostDesc,
	pricingVolumeDesc, pricingCostDesc, templateSentDesc, templateDeliveredDesc,
	templateReadDesc, templateClickedDesc, templateCostDesc, bucketEndDesc,
	accountInfoDesc, refreshSuccessDesc, refreshLastSuccessDesc, refreshDurationDesc,
}
