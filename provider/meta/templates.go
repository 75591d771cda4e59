package meta

import (
	"context"
	"errors"
	"strings"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// productTypes are template_analytics' product_type values, as the current
// Analytics page spells them
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/analytics/).
var productTypes = map[provider.TemplateProduct]string{
	provider.CloudAPI:          "CLOUD_API",
	provider.MarketingMessages: "MARKETING_MESSAGES_API_FOR_WHATSAPP",
}

// formerProductTypes are the names Meta used before, which its Business SDK
// still lists
// (https://github.com/facebook/facebook-python-business-sdk/blob/main/facebook_business/adobjects/whatsappbusinessaccount.py):
// an API (or a BSP's passthrough of it) that refuses the current name gets
// the former one.
var formerProductTypes = map[string]string{
	"MARKETING_MESSAGES_API_FOR_WHATSAPP": "MARKETING_MESSAGES_LITE_API",
}

// productType is the product_type to send for p: "" (the API's default,
// Cloud API only) for none.
func (c *Client) productType(p provider.TemplateProduct) string {
	name := productTypes[p]
	if former := formerProductTypes[name]; former != "" && c.formerNames.Load() {
		return former
	}
	return name
}

// rejectsProductType recognises an answer that refuses the product_type
// parameter itself: an invalid-parameter error (code 100) that names it.
func rejectsProductType(err error) bool {
	var apiErr *provider.APIError
	return errors.As(err, &apiErr) && apiErr.Code == "100" && strings.Contains(strings.ToLower(apiErr.Message), "product_type")
}

// Graph error codes of an access token that no longer works
// (https://developers.facebook.com/docs/graph-api/guides/error-handling):
// an answer with one says nothing about template analytics.
var tokenCodes = map[string]bool{"102": true, "190": true}

// templatesUnavailable recognises an answer of template_analytics that says
// the WABA has no template analytics at all, and gives it a
// provider.Unavailable cause. Meta's Analytics page says template analytics
// are "not supported" for WABAs in the European Union or Japan (earlier
// also the United Kingdom), and that they must be enabled once per WABA
// (POST /{WABA_ID}?is_enabled_for_insights=true), but it documents no error
// for either. So: a refusal (HTTP 4xx) that is neither a rate limit, nor
// transient, nor about the token or cost, and whose text names the reason
// or whose WABA has insights off (its is_enabled_for_insights field, read
// once the refusal came), or that is a 403 or carries a subcode third
// parties report for it. Anything else stays an ordinary failure.
func (c *Client) templatesUnavailable(ctx context.Context, wabaID string, err error) error {
	var apiErr *provider.APIError
	if !errors.As(err, &apiErr) || apiErr.Status < 400 || apiErr.Status >= 500 || apiErr.RateLimited || apiErr.Transient ||
		apiErr.Err != nil || tokenCodes[apiErr.Code] || rejectsProductType(err) {
		return err
	}
	text := strings.ToLower(apiErr.Message)
	switch {
	case containsAny(text, "european union", "japan", "united kingdom", "not supported", "not available in"):
		apiErr.Err = &provider.Unavailable{Reason: provider.ReasonNotSupported}
	case c.insightsDisabled(ctx, wabaID):
		apiErr.Err = &provider.Unavailable{Reason: provider.ReasonInsightsDisabled}
	case apiErr.Status == 403 || strings.Contains(text, "insight") || unavailableSubcodes[apiErr.Subcode]:
		apiErr.Err = &provider.Unavailable{Reason: provider.ReasonNotSupported}
	}
	return err
}

// unavailableSubcodes are the subcodes third parties handle as "template
// insights unavailable"; Meta documents none.
var unavailableSubcodes = map[int]bool{4182004: true, 4182005: true}

// insightsDisabled reads the WABA's is_enabled_for_insights field: true only
// when the API says false. A failure, or an answer without the field, tells
// nothing.
func (c *Client) insightsDisabled(ctx context.Context, wabaID string) bool {
	const op = "whatsapp_business_account"
	body, err := c.wire.Get(ctx, op, c.nodeURL(wabaID, "is_enabled_for_insights"))
	if err != nil {
		return false
	}
	var node struct {
		Enabled *bool `json:"is_enabled_for_insights"`
	}
	if c.wire.Decode(ctx, op, body, &node) != nil {
		return false
	}
	return node.Enabled != nil && !*node.Enabled
}

func containsAny(s string, parts ...string) bool {
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
