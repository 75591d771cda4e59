package collector

import (
	"slices"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// Account health. Each enum the API reports is a state set, the
// Prometheus convention for an enum: one gauge series per state, 1 for the
// current state and 0 for the others, so that a change is a series that
// goes from 0 to 1 (and `== 1` selects the current state). The states are
// the documented ones (provider/health.go) plus, when the API says
// something else, that value as a state of its own. A field the API did not
// report has no series. What describes a number or template rather than
// its state is an _info gauge of 1.
type stateSet struct {
	family *family
	states []string
}

func newStateSet(name, label, help string, states []string, labels ...string) stateSet {
	return stateSet{
		family: newGauge(name, help+" State set: 1 for the current "+label+", 0 for the other known ones.", slices.Concat(labels, []string{label})...),
		states: states,
	}
}

var (
	phoneLabels = []string{"waba_id", "phone_number"}
	// A template's state is the template's, whatever product sends it:
	// no product_type, unlike its analytics.
	templateStateLabels = []string{"waba_id", "template_id"}

	phoneStatus = newStateSet("phone_number_status", "status",
		"The business phone number's status (CONNECTED to send; FLAGGED, RESTRICTED, BANNED, ...).",
		provider.PhoneStatuses, phoneLabels...)
	phoneQuality = newStateSet("phone_number_quality_rating", "quality_rating",
		"The business phone number's quality rating (GREEN, YELLOW, RED, UNKNOWN).",
		provider.QualityRatings, phoneLabels...)
	phoneNameStatus = newStateSet("phone_number_name_status", "name_status",
		"The review status of the business phone number's display name.",
		provider.NameStatuses, phoneLabels...)
	phoneThroughput = newStateSet("phone_number_throughput_level", "throughput_level",
		"The business phone number's throughput level (STANDARD 80 messages per second, HIGH up to 1,000).",
		provider.ThroughputLevels, phoneLabels...)
	phoneCanSend = newStateSet("phone_number_can_send_message", "can_send_message",
		"Whether the business phone number can send messages, from its health_status (AVAILABLE, LIMITED, BLOCKED).",
		provider.CanSendMessageStates, phoneLabels...)
	phoneLimit = newStateSet("phone_number_messaging_limit", "messaging_limit",
		"The messaging limit tier of the business phone number's portfolio (TIER_250 ... TIER_UNLIMITED).",
		provider.MessagingLimits, phoneLabels...)

	templateStatus = newStateSet("template_status", "status",
		"The message template's status (APPROVED; PAUSED, DISABLED, REJECTED, ...).",
		provider.TemplateStatuses, templateStateLabels...)
	templateCategory = newStateSet("template_category", "category",
		"The message template's category (MARKETING, UTILITY, AUTHENTICATION).",
		provider.TemplateCategories, templateStateLabels...)
	templateQuality = newStateSet("template_quality_score", "quality_score",
		"The message template's quality score (GREEN, YELLOW, RED, UNKNOWN).",
		provider.QualityRatings, templateStateLabels...)

	phoneLimitRecipients = newGauge("phone_number_messaging_limit_recipients",
		"Unique users the business phone number's portfolio may message outside a customer service window in a moving 24 hours, as its messaging limit tier says (+Inf: unlimited); absent for a tier that names no number.",
		phoneLabels...)
	phoneInfo = newGauge("phone_number_info",
		"A business phone number of the WABA, with its Graph ID, display number and verified name; always 1.",
		"waba_id", "phone_number", "phone_number_id", "display_phone_number", "verified_name")
	templateInfo = newGauge("template_info",
		"A message template of the WABA, with its name and language; always 1.",
		"waba_id", "template_id", "name", "language")

	healthFamilies = []*family{
		phoneStatus.family, phoneQuality.family, phoneNameStatus.family, phoneThroughput.family, phoneCanSend.family, phoneLimit.family,
		templateStatus.family, templateCategory.family, templateQuality.family,
		phoneLimitRecipients, phoneInfo, templateInfo,
	}
)

// add hands out the state set's series for current, after the label that
// identifies its number or template; nothing when current is empty.
func (s stateSet) add(w *walker, current, subject string) {
	if current == "" {
		return
	}
	for _, state := range s.states {
		v := 0.0
		if state == current {
			v = 1
		}
		w.add(s.family, v, subject, state)
	}
	if !slices.Contains(s.states, current) {
		w.add(s.family, 1, subject, current)
	}
}

// health finds the account health series of a snapshot: the health read's
// refresh outcome (as family "health"), then each phone number's and
// template's state sets and info.
func (w *walker) health(s *analytics.Snapshot) {
	h := s.Health
	if h == nil {
		return
	}
	family := string(analytics.HealthFamily)
	success := 0.0
	if h.Refresh.Success {
		success = 1
	}
	w.add(refreshSuccess, success, family)
	w.add(refreshDuration, h.Refresh.Duration.Seconds(), family)
	if !h.Refresh.LastSuccess.IsZero() {
		w.add(refreshLastSuccess, float64(h.Refresh.LastSuccess.UnixNano())/1e9, family)
	}
	for _, p := range h.Phones {
		w.add(phoneInfo, 1, p.PhoneNumber, p.ID, p.DisplayPhoneNumber, p.VerifiedName)
		phoneStatus.add(w, p.Status, p.PhoneNumber)
		phoneQuality.add(w, p.QualityRating, p.PhoneNumber)
		phoneNameStatus.add(w, p.NameStatus, p.PhoneNumber)
		phoneThroughput.add(w, p.ThroughputLevel, p.PhoneNumber)
		phoneCanSend.add(w, p.CanSendMessage, p.PhoneNumber)
		phoneLimit.add(w, p.MessagingLimit, p.PhoneNumber)
		if p.MessagingLimitRecipients != nil {
			w.add(phoneLimitRecipients, *p.MessagingLimitRecipients, p.PhoneNumber)
		}
	}
	for _, t := range h.Templates {
		w.add(templateInfo, 1, t.TemplateID, t.Name, t.Language)
		templateStatus.add(w, t.Status, t.TemplateID)
		templateCategory.add(w, t.Category, t.TemplateID)
		templateQuality.add(w, t.QualityScore, t.TemplateID)
	}
}
