package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"path"
	"reflect"
	"regexp"
	"strconv"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/internal/wire"
)

// The fields of the phone_numbers and message_templates edges that make a
// WABA's health. Graph returns only the fields asked for.
const (
	phoneHealthFields    = "id,display_phone_number,verified_name,status,quality_rating,name_status,throughput,health_status"
	templateHealthFields = "id,name,language,status,category,quality_score"
)

// A phone number's messaging limit moved to a new field in v24.0: "request
// the whatsapp_business_manager_messaging_limit field (for v24.0 and newer)
// or messaging_limit_tier field (for 23.0 and older)", and the old one is
// deprecated (Meta's Messaging limits page,
// https://developers.facebook.com/documentation/business-messaging/whatsapp/messaging-limits).
// Asking a version for a field it does not have fails the whole request.
const (
	messagingLimitField       = "whatsapp_business_manager_messaging_limit"
	legacyMessagingLimitField = "messaging_limit_tier"
	messagingLimitSince       = 24
)

var versionNumber = regexp.MustCompile(`^v([0-9]+)\.[0-9]+$`)

// messagingLimitFieldFor is the messaging limit field of a Graph API version
// ("v23.0"). A version that does not parse gets the current field: the
// versions before v24.0 expire first (v23.0 on 2027-10-08).
func messagingLimitFieldFor(version string) string {
	m := versionNumber.FindStringSubmatch(version)
	if m == nil {
		return messagingLimitField
	}
	if major, err := strconv.Atoi(m[1]); err == nil && major < messagingLimitSince {
		return legacyMessagingLimitField
	}
	return messagingLimitField
}

// apiVersion is the version in the client's paths: the configured one, or
// the one its base URL ends in (a BSP's https://api.example.com/api/v25.0).
func (c *Client) apiVersion() string {
	if c.version != "" {
		return c.version
	}
	return path.Base(c.base.Path)
}

// PhoneHealth reads the phone_numbers edge with the fields of each number's
// status, quality rating, display name review, throughput, messaging limit
// (in the field of the client's API version) and health_status.
func (c *Client) PhoneHealth(ctx context.Context, wabaID string) ([]provider.PhoneNumber, error) {
	limitField := messagingLimitFieldFor(c.apiVersion())
	raw, err := edgeItems[phoneWire](ctx, c, wabaID, "phone_numbers", phoneHealthFields+","+limitField)
	if err != nil {
		return nil, err
	}
	out := make([]provider.PhoneNumber, len(raw))
	for i, w := range raw {
		out[i] = w.phone(limitField)
	}
	return out, nil
}

// TemplateHealth reads the message_templates edge with each template's
// name, language, status, category and quality score.
func (c *Client) TemplateHealth(ctx context.Context, wabaID string) ([]provider.Template, error) {
	raw, err := edgeItems[templateHealthWire](ctx, c, wabaID, "message_templates", templateHealthFields)
	if err != nil {
		return nil, err
	}
	out := make([]provider.Template, len(raw))
	for i, w := range raw {
		out[i] = provider.Template{
			ID: string(w.ID), Name: w.Name, Language: w.Language,
			Status: w.Status, Category: w.Category, QualityScore: w.QualityScore.value,
		}
	}
	return out, nil
}

// phoneWire is one item of the phone_numbers edge. Both messaging limit
// fields are read: a BSP may answer with either, whichever was asked for.
type phoneWire struct {
	ID                 wire.ID    `json:"id"`
	DisplayPhoneNumber string     `json:"display_phone_number"`
	VerifiedName       string     `json:"verified_name"`
	Status             string     `json:"status"`
	QualityRating      string     `json:"quality_rating"`
	NameStatus         string     `json:"name_status"`
	Throughput         throughput `json:"throughput"`
	// health_status holds the overall can_send_message and, per entity
	// (the number, its WABA, business and app), why
	// (https://developers.facebook.com/documentation/business-messaging/whatsapp/support/health-status).
	// Only the overall verdict is exported.
	HealthStatus *struct {
		CanSendMessage string `json:"can_send_message"`
	} `json:"health_status"`
	MessagingLimit     string `json:"whatsapp_business_manager_messaging_limit"`
	MessagingLimitTier string `json:"messaging_limit_tier"`
}

func (w phoneWire) phone(limitField string) provider.PhoneNumber {
	limit := w.MessagingLimit
	if limitField == legacyMessagingLimitField || limit == "" {
		limit = cmpOr(w.MessagingLimitTier, w.MessagingLimit)
	}
	p := provider.PhoneNumber{
		Number: digits(w.DisplayPhoneNumber), ID: string(w.ID),
		DisplayPhoneNumber: w.DisplayPhoneNumber, VerifiedName: w.VerifiedName,
		Status: w.Status, QualityRating: w.QualityRating, NameStatus: w.NameStatus,
		ThroughputLevel: w.Throughput.value, MessagingLimit: limit,
	}
	if w.HealthStatus != nil {
		p.CanSendMessage = w.HealthStatus.CanSendMessage
	}
	return p
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// templateHealthWire is one item of the message_templates edge, with the
// fields the health read asks for (Meta's template reference: quality_score
// is an object whose score is GREEN, YELLOW, RED or UNKNOWN,
// https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/template-quality/).
type templateHealthWire struct {
	ID           wire.ID      `json:"id"`
	Name         string       `json:"name"`
	Language     string       `json:"language"`
	Status       string       `json:"status"`
	Category     string       `json:"category"`
	QualityScore qualityScore `json:"quality_score"`
}

// throughput is a phone number's {"level": "STANDARD"}. Meta's pages do not
// show the object (https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput),
// and BSPs flatten such objects: a bare string is taken as the level.
type throughput struct{ value string }

func (t *throughput) UnmarshalJSON(b []byte) error {
	v, err := objectOrString(b, "level")
	t.value = v
	return err
}

// qualityScore is a template's {"score": "GREEN", ...}, or a bare score.
type qualityScore struct{ value string }

func (q *qualityScore) UnmarshalJSON(b []byte) error {
	v, err := objectOrString(b, "score")
	q.value = v
	return err
}

// objectOrString reads an enum the API wraps in an object under key, or
// sends bare. Anything else is the malformed answer it is, not an empty
// value.
func objectOrString(b []byte, key string) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return "", nil
	case len(b) > 0 && b[0] == '"':
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	case len(b) > 0 && b[0] == '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			return "", err
		}
		raw, ok := obj[key]
		if !ok {
			return "", nil
		}
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", &json.UnmarshalTypeError{Value: "non-string " + key, Type: reflect.TypeFor[string]()}
		}
		if s == nil {
			return "", nil
		}
		return *s, nil
	}
	return "", &json.UnmarshalTypeError{Value: "neither string nor object", Type: reflect.TypeFor[string]()}
}
