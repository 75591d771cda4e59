package analytics

import (
	"slices"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// HealthFamily is the family of the requests that read account health, in
// Requests and Errors, and of its refresh outcome. It is not an analytics
// family: account health has no buckets, only what the API says now.
const HealthFamily provider.Family = "health"

// Health is the account's health as the API last reported it: the status,
// quality and limits of its phone numbers and the status, category and
// quality of its templates.
type Health struct {
	// Refresh is the outcome of the latest read (Success, LastSuccess,
	// Duration); it has no buckets or values.
	Refresh Refresh
	// Phones and Templates are what the last successful read of each
	// said; a failed read keeps them. Templates is nil when not read.
	Phones    []PhoneHealth
	Templates []TemplateHealth
}

// PhoneHealth is one business phone number's health. The enum fields hold
// the API's value (upper case), "OTHER" for a value that is no enum, and ""
// when the API did not report the field.
type PhoneHealth struct {
	// PhoneNumber is the number in digits, as the analytics' phone_number.
	PhoneNumber        string
	ID                 string
	DisplayPhoneNumber string
	VerifiedName       string

	Status          string
	QualityRating   string
	NameStatus      string
	ThroughputLevel string
	MessagingLimit  string
	CanSendMessage  string
	// MessagingLimitRecipients is the number MessagingLimit stands for
	// (+Inf when unlimited); nil when it names none.
	MessagingLimitRecipients *float64
}

// TemplateHealth is one message template's status, category and quality,
// with the same conventions as PhoneHealth.
type TemplateHealth struct {
	TemplateID string
	Name       string
	Language   string

	Status       string
	Category     string
	QualityScore string
}

// Series is how many series the health exports: a state set has a series
// per documented state, and one more for a value the API reported that is
// not one of them; a field not reported has none; each number and template
// has an info series, and a number its messaging limit in recipients where
// its tier names one. The collector renders exactly these (its tests hold
// the two together); max_series counts them with the analytics.
func (h *Health) Series() int {
	if h == nil {
		return 0
	}
	n := 0
	for _, p := range h.Phones {
		n += p.Series()
	}
	for _, t := range h.Templates {
		n += t.Series()
	}
	return n
}

// Series is the series of one number (Health.Series).
func (p PhoneHealth) Series() int {
	n := 1 + stateSeries(p.Status, provider.PhoneStatuses) + stateSeries(p.QualityRating, provider.QualityRatings) +
		stateSeries(p.NameStatus, provider.NameStatuses) + stateSeries(p.ThroughputLevel, provider.ThroughputLevels) +
		stateSeries(p.CanSendMessage, provider.CanSendMessageStates) + stateSeries(p.MessagingLimit, provider.MessagingLimits)
	if p.MessagingLimitRecipients != nil {
		n++
	}
	return n
}

// Series is the series of one template (Health.Series).
func (t TemplateHealth) Series() int {
	return 1 + stateSeries(t.Status, provider.TemplateStatuses) + stateSeries(t.Category, provider.TemplateCategories) +
		stateSeries(t.QualityScore, provider.QualityRatings)
}

func stateSeries(value string, documented []string) int {
	switch {
	case value == "":
		return 0
	case slices.Contains(documented, value):
		return len(documented)
	}
	return len(documented) + 1
}
