package config

import (
	"net/url"
	"path"
	"strings"
	"time"
)

// Offer is how a provider serves one analytics family.
type Offer int

const (
	// Offered families are fetched unless the config disables them.
	Offered Offer = iota
	// OptIn families are off unless the config sets enabled: true. A
	// Graph passthrough BSP forwards Graph fields it does not document;
	// whether it forwards a given one is only known by trying, so the user
	// decides.
	OptIn
	// NotOffered families are off, and enabled: true is a config error:
	// the API has no endpoint for them, so a refresh could only ever fail.
	NotOffered
)

// providerFamilies lists, per provider, the families that are not simply
// Offered. The keys are the config's family keys.
//
//   - vonage: vonage-channel-manager-analytics.txt documents
//     messaging-analytics, template-analytics and pricing-analytics, and
//     no conversation analytics.
//   - graph_passthrough: graph-passthrough-bsp-conversation-analytics.txt
//     documents conversation_analytics and refers to the BSP's Message
//     Analytics as the same field passthrough, so conversations and
//     messaging are on. pricing_analytics and template_analytics (with
//     the message_templates edge) are not documented by the BSP: they are
//     opt-in, and a BSP that does not forward them makes the refresh fail
//     with its own HTTP error.
var providerFamilies = map[string]map[string]Offer{
	ProviderVonage:           {"conversations": NotOffered},
	ProviderGraphPassthrough: {"pricing": OptIn, "templates": OptIn},
}

// FamilyOffer is how provider serves the family with the given config key
// (messaging, conversations, pricing, templates).
func FamilyOffer(provider, family string) Offer {
	return providerFamilies[provider][family]
}

// ReportsCost reports whether a provider's API can return cost at all.
// Vonage's analytics carry counts only (vonage-channel-manager-analytics.txt);
// a passthrough BSP does not get cost from Meta for the WABAs it bills
// (graph-passthrough-bsp-conversation-analytics.txt: "Cost is not returned").
func ReportsCost(provider string) bool {
	return provider != ProviderVonage && provider != ProviderGraphPassthrough
}

// vonageHistory is the lookback of every Vonage analytics endpoint: "a
// lookback of up to 90 days" (messaging, templates) and at most 90 days
// between start and end (templates). Pricing documents no limit of its
// own; the same one is assumed, the Channel Manager being one API.
const vonageHistory = 90 * 24 * time.Hour

// applyProviderDefaults turns off the families a provider does not offer
// by default and stops asking for cost where none can come.
func (a *Account) applyProviderDefaults() {
	for key, f := range a.families() {
		if f.Enabled == nil && FamilyOffer(a.Provider, key) != Offered {
			off := false
			f.Enabled = &off
		}
	}
	// Vonage cannot list a WABA's templates: without template_ids there is
	// nothing to ask for, so the family is off unless the config lists some.
	if a.Provider == ProviderVonage && a.Templates.Enabled == nil && len(a.Templates.TemplateIDs) == 0 {
		off := false
		a.Templates.Enabled = &off
	}
	if !ReportsCost(a.Provider) {
		for _, c := range []**bool{&a.Conversations.Cost, &a.Pricing.Cost, &a.Templates.Cost} {
			if *c == nil {
				off := false
				*c = &off
			}
		}
	}
}

func (a *Account) families() map[string]*Family {
	return map[string]*Family{
		"messaging":     &a.Messaging.Family,
		"conversations": &a.Conversations.Family,
		"pricing":       &a.Pricing.Family,
		"templates":     &a.Templates.Family,
	}
}

// splitURLVersion accepts a Graph api_url given as a full prefix, version
// included (https://api.example.com/api/v25.0, as a BSP's documentation
// spells its endpoints): the version moves to APIVersion, where the client
// expects it, and the rest stays the API root.
func (a *Account) splitURLVersion() {
	if a.Provider != ProviderMeta && a.Provider != ProviderGraphPassthrough {
		return
	}
	u, err := url.Parse(a.APIURL)
	if err != nil || u.Host == "" {
		return // reported by validation
	}
	trimmed := strings.TrimRight(u.Path, "/")
	last := path.Base(trimmed)
	if !apiVersion.MatchString(last) {
		return
	}
	a.urlVersion = last
	u.Path = strings.TrimSuffix(trimmed, "/"+last)
	u.RawPath = ""
	a.APIURL = u.String()
	if a.APIVersion == "" {
		a.APIVersion = last
	}
}
