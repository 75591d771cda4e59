package vonage

import (
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// Name is the provider's name as the config spells it.
const Name = "vonage"

// history is the lookback of every Channel Manager analytics endpoint
// (Vonage's WhatsApp Analytics guide,
// https://developer.vonage.com/en/channel-manager/guides/whatsapp/whatsapp-analytics):
// "a lookback of up to 90 days" (messaging, templates), and "The maximum
// difference between the start and end dates is 90 days" (templates).
// Pricing documents no limit of its own; the same one is assumed, the
// Channel Manager being one API.
const history = 90 * 24 * time.Hour

// Capabilities is what the Channel Manager serves: messaging, pricing and
// template analytics, no conversation analytics, and counts without cost.
// Requests name whole days (YYYY-MM-DD). It has no endpoint that lists a
// WABA's phone numbers or templates, and pricing-analytics filters by phone
// number, country and tier only. Its template-analytics take no product
// type, and so report what Meta's template_analytics reports without one:
// Cloud API sends only.
var Capabilities = provider.Capabilities{
	Name:             Name,
	DefaultURL:       "https://api.nexmo.com",
	Auth:             provider.KeyAndSecret,
	WholeDays:        true,
	TemplateProducts: []provider.TemplateProduct{provider.CloudAPI},
	// The listing of the WABAs linked to the API key (listing.go).
	Discovery: true,
	Families: map[provider.Family]provider.FamilyCapabilities{
		provider.Messaging: {Offer: provider.Offered, Granularities: provider.AllGranularities, History: history},
		provider.Pricing:   {Offer: provider.Offered, Granularities: provider.AllGranularities, History: history},
		provider.Templates: {Offer: provider.Offered, Granularities: []provider.Granularity{provider.Day}, History: history,
			Matures: provider.TemplateMaturity},
	},
}
