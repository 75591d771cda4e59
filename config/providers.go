package config

import (
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/registry"
)

// Capabilities is what the account's provider can do, as the provider's own
// package declares it; the zero value (nothing offered) for an unknown
// provider, which validation reports.
func (a *Account) Capabilities() provider.Capabilities {
	p, _ := registry.Lookup(a.Provider)
	return p.Capabilities
}

// Family returns the settings of one family of the account.
func (a *Account) Family(f provider.Family) *FamilySettings {
	switch f {
	case provider.Messaging:
		return &a.Messaging.FamilySettings
	case provider.Conversations:
		return &a.Conversations.FamilySettings
	case provider.Pricing:
		return &a.Pricing.FamilySettings
	case provider.Templates:
		return &a.Templates.FamilySettings
	case provider.Calls:
		return &a.Calls.FamilySettings
	}
	return nil
}

// Spec is what a refresh of family f asks for, for the bucket arithmetic.
func (a *Account) Spec(f provider.Family) bucket.Spec {
	s := a.Family(f)
	caps := a.Capabilities()
	return bucket.Spec{
		Granularity: provider.Granularity(NormalizeGranularity(s.Granularity)),
		Lookback:    s.Lookback,
		Delay:       s.DelayOrZero(),
		WholeDays:   caps.WholeDays,
		Zoned:       caps.Family(f).LocalDays,
	}
}

// costs are the cost switches of the families that have one.
func (a *Account) costs() map[provider.Family]**bool {
	return map[provider.Family]**bool{
		provider.Conversations: &a.Conversations.Cost,
		provider.Pricing:       &a.Pricing.Cost,
		provider.Templates:     &a.Templates.Cost,
		provider.Calls:         &a.Calls.Cost,
	}
}

// applyProviderDefaults turns off the families a provider does not offer by
// default, and those it could only serve from lists the config lacks, and
// stops asking for cost where none can come.
func (a *Account) applyProviderDefaults() {
	caps := a.Capabilities()
	off := func(s *FamilySettings) {
		if s.Enabled == nil {
			no := false
			s.Enabled = &no
		}
	}
	for _, f := range provider.Families {
		if caps.Family(f).Offer != provider.Offered {
			off(a.Family(f))
		}
	}
	// Without a way to list the templates, and without template_ids, there
	// is nothing to ask for.
	if !caps.DiscoverTemplates && len(a.Templates.TemplateIDs) == 0 {
		off(&a.Templates.FamilySettings)
	}
	a.applyHealthDefaults()
	if !caps.Cost {
		for _, c := range a.costs() {
			if *c == nil {
				no := false
				*c = &no
			}
		}
	}
}

// defaultLookback is the built-in lookback of a family, shortened to whole
// days where the API keeps less history than it and its alignment need
// (Vonage's 90 days cannot hold 62 days plus a month of alignment).
func defaultLookback(spec bucket.Spec, history time.Duration) time.Duration {
	if history == 0 || bucket.Reach(spec) <= history {
		return spec.Lookback
	}
	room := history - spec.Delay - (bucket.Reach(spec) - spec.Lookback - spec.Delay)
	return max(room.Truncate(24*time.Hour), 0)
}

// splitURLVersion accepts a Graph api_url given as a full prefix, version
// included (https://api.example.com/api/v25.0, as a BSP's documentation
// spells its endpoints): the version moves to APIVersion, where the client
// expects it, and the rest stays the API root.
func (a *Account) splitURLVersion() {
	if !a.Capabilities().Versioned {
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
