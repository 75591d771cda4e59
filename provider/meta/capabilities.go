package meta

import (
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// Names of the two providers this package serves, as the config spells them.
const (
	Name            = "meta"
	PassthroughName = "graph_passthrough"
)

// Limits Meta's Analytics page documents
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/analytics/).
const (
	// template_analytics answers for the last 90 days.
	templateHistory = 90 * 24 * time.Hour
	// analytics, conversation_analytics and pricing_analytics answer for
	// the last year: "Starting December 1, 2025, the maximum lookback
	// window for messaging, conversation, and pricing analytics is
	// changing from 10 years to 1 year".
	pricingHistory = 365 * 24 * time.Hour
)

// Capabilities is what Meta's Graph API serves: every family, cost (unless
// the WABA is billed through a partner, which only an answer tells), and
// the phone_numbers and message_templates edges for discovery and account
// health. Messaging, conversation and pricing analytics keep a year.
// Their day and month buckets begin at the WABA's local midnight: the
// Analytics page's examples start them at 07:00 and 08:00 UTC, Pacific
// midnight in summer and winter; template analytics snap to 00:00 UTC.
//
// Conversations are opt-in: Meta bills per message since 2025-07-01, and
// pricing_analytics is what it bills ("Per-message pricing",
// https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing);
// conversation_analytics is still documented on the Analytics page, but
// conversation-based pricing is "Deprecated" in Meta's own navigation
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/template-messages),
// and its cost is not what a WABA pays. Asking for it by default would cost
// requests (a day of half hours with every breakdown is many pages) for
// figures that mislead.
var Capabilities = provider.Capabilities{
	Name:              Name,
	DefaultURL:        "https://graph.facebook.com",
	Auth:              provider.BearerToken,
	AppSecretProof:    true,
	Versioned:         true,
	VersionExpiry:     VersionExpiry,
	Cost:              true,
	DiscoverPhones:    true,
	DiscoverTemplates: true,
	PricingFilters:    true,
	TemplateProducts:  []provider.TemplateProduct{provider.CloudAPI, provider.MarketingMessages},
	WABAFields:        true,
	AccountHealth:     true,
	// Field expansion: several fields of the WABA node in one request.
	CombinedFields: true,
	// The owned_whatsapp_business_accounts and
	// client_whatsapp_business_accounts edges of a business.
	Discovery: true, DiscoveryByBusiness: true,
	Families: map[provider.Family]provider.FamilyCapabilities{
		// The analytics field answers totals per bucket, unpaged (the
		// Analytics page's answers have no paging object).
		provider.Messaging:     {Offer: provider.Offered, Granularities: provider.AllGranularities, History: pricingHistory, LocalDays: true, OneAnswer: true},
		provider.Conversations: {Offer: provider.OptIn, Granularities: provider.AllGranularities, History: pricingHistory, LocalDays: true},
		provider.Pricing:       {Offer: provider.Offered, Granularities: provider.AllGranularities, History: pricingHistory, LocalDays: true},
		provider.Templates: {Offer: provider.Offered, Granularities: []provider.Granularity{provider.Day},
			History: templateHistory, Matures: provider.TemplateMaturity},
		// Opt-in: only WABAs that use WhatsApp Business Calling have
		// calls, and the Analytics page documents no history limit. Its
		// days are assumed to be the WABA's, like those of the other
		// analytics fields of the WABA node: no example shows them.
		provider.Calls: {Offer: provider.OptIn, Granularities: provider.AllGranularities, LocalDays: true, OneAnswer: true},
	},
}

// PassthroughCapabilities is what a BSP that passes the Graph API through
// under its own URL and API key serves. The one such BSP whose documentation
// this follows (a third party's: Splashify Pro,
// https://partner-docs.splashifypro.com/api-reference/whatsapp/analytics-conversations)
// specifies conversation_analytics as "the same WhatsApp Cloud API field
// passthrough as Message Analytics": conversations and messaging are offered
// (unlike on Meta, where conversations are opt-in: this BSP's documented
// analytics are those two, and its answers carry no cost either way). It
// documents neither pricing_analytics nor template_analytics, so whether it
// forwards them is only known by trying: they are opt-in. Cost is never
// returned ("Cost is not returned by this endpoint"): the BSP bills the
// WABA. It authenticates with its own key alone, so appsecret_proof, keyed
// with Meta's app secret, has no place there; and it has no default URL.
// Account health reads the same phone_numbers and message_templates edges
// as discovery, which such a BSP must forward anyway; one that does not
// fails the health read alone (the config can turn it off).
var PassthroughCapabilities = provider.Capabilities{
	Name:              PassthroughName,
	Auth:              provider.BearerToken,
	Versioned:         true,
	VersionExpiry:     VersionExpiry,
	DiscoverPhones:    true,
	DiscoverTemplates: true,
	PricingFilters:    true,
	TemplateProducts:  Capabilities.TemplateProducts,
	WABAFields:        true,
	AccountHealth:     true,
	// The BSP passes Graph's field syntax through, field expansion
	// included ("the same WhatsApp Cloud API field passthrough"), and so
	// the business edges, under its own root.
	CombinedFields: true,
	Discovery:      true, DiscoveryByBusiness: true,
	Families: map[provider.Family]provider.FamilyCapabilities{
		provider.Messaging:     Capabilities.Families[provider.Messaging],
		provider.Conversations: offered(Capabilities.Families[provider.Conversations]),
		provider.Pricing:       optIn(Capabilities.Families[provider.Pricing]),
		provider.Templates:     optIn(Capabilities.Families[provider.Templates]),
		provider.Calls:         optIn(Capabilities.Families[provider.Calls]),
	},
}

func offered(f provider.FamilyCapabilities) provider.FamilyCapabilities {
	f.Offer = provider.Offered
	return f
}

func optIn(f provider.FamilyCapabilities) provider.FamilyCapabilities {
	f.Offer = provider.OptIn
	return f
}
