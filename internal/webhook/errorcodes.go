package webhook

// errorTitles names the error codes of Meta's WhatsApp error codes page
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes),
// with the page's titles. It is the only source of the error_title label:
// the title a webhook carries is free text, which Meta says it will
// deprecate, and which would mint a series per wording. A code missing
// here is still counted under its own error_code, with error_title "".
//
// The first group are the codes Meta reports asynchronously, on a failed
// status of the messages webhook; the rest are the page's other codes, which
// a status rarely carries but which cost nothing to name.
var errorTitles = map[string]string{
	// Delivery: the recipient, the business's standing, Meta's limits.
	"131026": "Message undeliverable",
	"131049": "Meta chose not to deliver",
	"131047": "Re-engagement message",
	"130472": "User's number is part of an experiment",
	"131050": "User has stopped receiving marketing messages",
	"131000": "Something went wrong",
	"131048": "Spam rate limit hit",
	"131056": "(Business Account, Consumer Account) pair rate limit hit",
	"131042": "Business eligibility payment issue",
	"131031": "Account has been locked",
	"130497": "Business account is restricted from messaging users in this country",
	"130429": "Rate limit hit",
	"131051": "Unsupported message type",
	"131052": "Media download error",
	"131053": "Media upload error",
	"131045": "Incorrect certificate",
	"131057": "Account in maintenance mode",
	"131016": "Service unavailable",
	"131021": "Recipient cannot be sender",
	"131037": "WhatsApp provided number needs display name approval before message can be sent",
	"368":    "Temporarily blocked for policies violations",
	// Templates and flows.
	"132000": "Template Param Count Mismatch",
	"132001": "Template does not exist",
	"132005": "Template Hydrated Text Too Long",
	"132007": "Template Format Character Policy Violated",
	"132012": "Template Parameter Format Mismatch",
	"132015": "Template is Paused",
	"132016": "Template is Disabled",
	"132068": "Flow is blocked",
	"132069": "Flow is throttled",
	// Requests, authorization, registration.
	"0":      "AuthException",
	"1":      "API Unknown",
	"2":      "API Service",
	"3":      "API Method",
	"4":      "API Too Many Calls",
	"10":     "Permission Denied",
	"33":     "Parameter value is not valid",
	"100":    "Invalid parameter",
	"190":    "Access token has expired",
	"80007":  "Rate limit issues",
	"131005": "Access denied",
	"131008": "Required parameter is missing",
	"131009": "Parameter value is not valid",
	"133000": "Incomplete Deregistration",
	"133004": "Server Temporarily Unavailable",
	"133005": "Two step verification PIN Mismatch",
	"133006": "Phone number Re-verification Needed",
	"133008": "Too Many two step verification PIN Guesses",
	"133009": "Two step verification PIN Guessed Too Fast",
	"133010": "Phone number Not Registered",
	"133015": "Please wait a few minutes before attempting to register this phone number",
	"133016": "Account register deregister rate limit exceeded",
	"135000": "Generic user error",
}

// ErrorTitle is the title of an error code, "" for a code the table lacks.
func ErrorTitle(code string) string { return errorTitles[code] }
