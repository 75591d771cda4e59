package analytics

import "github.com/whatsapp-exporter/whatsapp_exporter/provider"

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
