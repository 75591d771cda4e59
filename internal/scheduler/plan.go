package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// fetch refreshes one family: it asks for the buckets of the family's span
// and returns the newest complete one.
func (p *poller) fetch(ctx context.Context, f provider.Family) (newest, error) {
	ctx = provider.WithObserver(ctx, observer{t: p.tally, family: f})
	span := p.windows.Span(p.account.Spec(f))
	var samples []sample
	var err error
	switch f {
	case provider.Messaging:
		samples, err = p.fetchMessaging(ctx, span.Query)
	case provider.Conversations:
		samples, err = p.fetchConversations(ctx, span.Query)
	case provider.Pricing:
		samples, err = p.fetchPricing(ctx, span.Query)
	case provider.Templates:
		samples, err = p.fetchTemplates(ctx, span.Query)
	}
	if err != nil {
		return newest{}, err
	}
	return newestBucket(samples, span), nil
}

// fetchMessaging splits the query per phone number and country when asked
// to: the messaging APIs report totals only, so a per-phone figure takes a
// query filtered to that phone.
func (p *poller) fetchMessaging(ctx context.Context, w provider.Window) ([]sample, error) {
	m := p.account.Messaging
	phones, countries := []string{""}, []string{""}
	if slices.Contains(m.SplitBy, "PHONE") {
		phones = m.PhoneNumbers
		if len(phones) == 0 {
			var err error
			if phones, err = p.source.PhoneNumbers(ctx, p.account.WABAID); err != nil {
				return nil, fmt.Errorf("list phone numbers: %w", err)
			}
		}
	}
	if slices.Contains(m.SplitBy, "COUNTRY") {
		countries = m.CountryCodes
	}
	var out []sample
	for _, phone := range phones {
		for _, country := range countries {
			q := provider.MessagingQuery{
				WABAID: p.account.WABAID, Window: w,
				PhoneNumbers: m.PhoneNumbers, CountryCodes: m.CountryCodes, ProductTypes: m.ProductTypes,
			}
			if phone != "" {
				q.PhoneNumbers = []string{phone}
			}
			if country != "" {
				q.CountryCodes = []string{country}
			}
			points, err := p.source.Messaging(ctx, q)
			if err != nil {
				return nil, err
			}
			out = messagingSamples(out, points, phone, country)
		}
	}
	return out, nil
}

func (p *poller) fetchConversations(ctx context.Context, w provider.Window) ([]sample, error) {
	c := p.account.Conversations
	points, err := withCostFallback(p, provider.Conversations, config.WantCost(c.Cost), func(cost bool) ([]provider.ConversationPoint, error) {
		return p.source.Conversations(ctx, provider.ConversationQuery{
			WABAID: p.account.WABAID, Window: w,
			PhoneNumbers: c.PhoneNumbers, CountryCodes: c.CountryCodes,
			Categories: c.ConversationCategories, Types: c.ConversationTypes, Directions: c.ConversationDirections,
			Dimensions: c.Dimensions, Cost: cost,
		})
	})
	return conversationSamples(points, c.Dimensions), err
}

func (p *poller) fetchPricing(ctx context.Context, w provider.Window) ([]sample, error) {
	pr := p.account.Pricing
	points, err := withCostFallback(p, provider.Pricing, config.WantCost(pr.Cost), func(cost bool) ([]provider.PricingPoint, error) {
		return p.source.Pricing(ctx, provider.PricingQuery{
			WABAID: p.account.WABAID, Window: w,
			PhoneNumbers: pr.PhoneNumbers, CountryCodes: pr.CountryCodes,
			Categories: pr.PricingCategories, Types: pr.PricingTypes,
			Dimensions: pr.Dimensions, Cost: cost,
		})
	})
	return pricingSamples(points, pr.Dimensions), err
}

func (p *poller) fetchTemplates(ctx context.Context, w provider.Window) ([]sample, error) {
	t := p.account.Templates
	ids := t.TemplateIDs
	if len(ids) == 0 {
		var err error
		if ids, err = p.source.TemplateIDs(ctx, p.account.WABAID); err != nil {
			return nil, fmt.Errorf("list message templates: %w", err)
		}
		if len(ids) == 0 {
			return nil, nil
		}
	}
	points, err := withCostFallback(p, provider.Templates, config.WantCost(t.Cost), func(cost bool) ([]provider.TemplatePoint, error) {
		return p.source.Templates(ctx, provider.TemplateQuery{WABAID: p.account.WABAID, Window: w, TemplateIDs: ids, Cost: cost})
	})
	return templateSamples(points), err
}

// withCostFallback asks for cost until the API says it has none for this
// account (a WABA billed through a partner: Meta's "Cost not available"),
// then says so once and asks for the counts alone from then on: missing cost
// must not cost the user the counts. Cost is asked for only where the
// provider can report it at all; the config turned it off elsewhere.
func withCostFallback[P any](p *poller, f provider.Family, wantCost bool, query func(cost bool) ([]P, error)) ([]P, error) {
	cost := wantCost && p.caps.Cost && !p.noCost[f]
	points, err := query(cost)
	if cost && errors.Is(err, provider.ErrCostUnavailable) {
		p.noCost[f] = true
		level.Info(p.logger).Log("msg", "The API reports no cost for this account; exporting counts without cost from now on",
			"family", f, "reason", err)
		points, err = query(false)
	}
	return points, err
}
