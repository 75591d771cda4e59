package collector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// Target is one configured WABA and the API it is read from.
type Target struct {
	Config config.Account
	Source provider.Source
}

// account is the refresh state of one WABA. Only its own refresh goroutine
// touches the fields; the collector only loads snapshot.
type account struct {
	cfg      config.Account
	source   provider.Source
	logger   log.Logger
	metrics  *selfMetrics
	snapshot atomicSnapshot

	// Cost the API refused to report, per family: asked for once, then
	// not again for the life of the process.
	noCost map[provider.Family]bool
	// The last error logged per family, so that a failure is logged when it
	// starts or changes, not on every attempt.
	lastErr map[provider.Family]string
	// Consecutive refreshes that were rate limited or failed transiently,
	// for the backoff.
	rateLimitedStreak, failureStreak int
	// throttledFor is the longest wait the API's usage headers asked for
	// during the current refresh (0: none). Written by the observer while a
	// family is fetched, read by refresh between families.
	throttledFor atomic.Int64
	// The rate-limit budget types reported during the current refresh, and
	// those whose gauges are exported, to drop the ones no longer reported.
	// Only the account's own refresh goroutine touches them.
	usageSeen, usageExported map[string]bool
}

func newAccount(t Target, logger log.Logger, m *selfMetrics) *account {
	a := &account{
		cfg:           t.Config,
		source:        t.Source,
		logger:        log.With(logger, "waba_id", t.Config.WABAID),
		metrics:       m,
		noCost:        map[provider.Family]bool{},
		usageSeen:     map[string]bool{},
		usageExported: map[string]bool{},
		lastErr:       map[provider.Family]string{},
	}
	a.snapshot.Store(newSnapshot(t.Config))
	return a
}

func (a *account) familyConfig(f provider.Family) *config.Family {
	switch f {
	case provider.Messaging:
		return &a.cfg.Messaging.Family
	case provider.Conversations:
		return &a.cfg.Conversations.Family
	case provider.Pricing:
		return &a.cfg.Pricing.Family
	default:
		return &a.cfg.Templates.Family
	}
}

// window is what a refresh at now asks for: from lookback before the cutoff,
// aligned to the bucket size so the first bucket is whole, to the cutoff.
func window(f *config.Family, now time.Time) (provider.Window, time.Time) {
	g := provider.Granularity(config.NormalizeGranularity(f.Granularity))
	cutoff := now.Add(-f.DelayOrZero())
	start := cutoff.Add(-f.Lookback).UTC()
	switch g {
	case provider.HalfHour:
		start = start.Truncate(30 * time.Minute)
	case provider.Day:
		start = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
	case provider.Month:
		start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return provider.Window{Start: start, End: cutoff, Granularity: g}, cutoff
}

// fetch refreshes one family and returns its new gauges.
func (a *account) fetch(ctx context.Context, f provider.Family, now time.Time) (family, error) {
	ctx = provider.WithObserver(ctx, observer{m: a.metrics, waba: a.cfg.WABAID, family: string(f), throttledFor: &a.throttledFor, usageSeen: a.usageSeen})
	w, cutoff := window(a.familyConfig(f), now)
	var samples []sample
	var err error
	switch f {
	case provider.Messaging:
		samples, err = a.fetchMessaging(ctx, w)
	case provider.Conversations:
		samples, err = a.fetchConversations(ctx, w)
	case provider.Pricing:
		samples, err = a.fetchPricing(ctx, w)
	case provider.Templates:
		samples, err = a.fetchTemplates(ctx, w)
	}
	if err != nil {
		return family{}, err
	}
	return newestBucket(a.cfg.WABAID, samples, cutoff), nil
}

// fetchMessaging splits the query per phone number and country when asked
// to: the messaging APIs report totals only, so a per-phone figure takes a
// query filtered to that phone.
func (a *account) fetchMessaging(ctx context.Context, w provider.Window) ([]sample, error) {
	m := a.cfg.Messaging
	phones, countries := []string{""}, []string{""}
	if slices.Contains(m.SplitBy, "PHONE") {
		phones = m.PhoneNumbers
		if len(phones) == 0 {
			var err error
			if phones, err = a.source.PhoneNumbers(ctx, a.cfg.WABAID); err != nil {
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
				WABAID: a.cfg.WABAID, Window: w,
				PhoneNumbers: m.PhoneNumbers, CountryCodes: m.CountryCodes, ProductTypes: m.ProductTypes,
			}
			if phone != "" {
				q.PhoneNumbers = []string{phone}
			}
			if country != "" {
				q.CountryCodes = []string{country}
			}
			points, err := a.source.Messaging(ctx, q)
			if err != nil {
				return nil, err
			}
			out = messagingSamples(out, points, phone, country)
		}
	}
	return out, nil
}

func (a *account) fetchConversations(ctx context.Context, w provider.Window) ([]sample, error) {
	c := a.cfg.Conversations
	points, err := withCostFallback(a, ctx, provider.Conversations, config.WantCost(c.Cost), func(cost bool) ([]provider.ConversationPoint, error) {
		return a.source.Conversations(ctx, provider.ConversationQuery{
			WABAID: a.cfg.WABAID, Window: w,
			PhoneNumbers: c.PhoneNumbers, CountryCodes: c.CountryCodes,
			Categories: c.ConversationCategories, Types: c.ConversationTypes, Directions: c.ConversationDirections,
			Dimensions: c.Dimensions, Cost: cost,
		})
	})
	return conversationSamples(points, c.Dimensions), err
}

func (a *account) fetchPricing(ctx context.Context, w provider.Window) ([]sample, error) {
	p := a.cfg.Pricing
	points, err := withCostFallback(a, ctx, provider.Pricing, config.WantCost(p.Cost), func(cost bool) ([]provider.PricingPoint, error) {
		return a.source.Pricing(ctx, provider.PricingQuery{
			WABAID: a.cfg.WABAID, Window: w,
			PhoneNumbers: p.PhoneNumbers, CountryCodes: p.CountryCodes,
			Categories: p.PricingCategories, Types: p.PricingTypes,
			Dimensions: p.Dimensions, Cost: cost,
		})
	})
	return pricingSamples(points, p.Dimensions), err
}

func (a *account) fetchTemplates(ctx context.Context, w provider.Window) ([]sample, error) {
	t := a.cfg.Templates
	ids := t.TemplateIDs
	if len(ids) == 0 {
		var err error
		if ids, err = a.source.TemplateIDs(ctx, a.cfg.WABAID); err != nil {
			return nil, fmt.Errorf("list message templates: %w", err)
		}
		if len(ids) == 0 {
			return nil, nil
		}
	}
	points, err := withCostFallback(a, ctx, provider.Templates, config.WantCost(t.Cost), func(cost bool) ([]provider.TemplatePoint, error) {
		return a.source.Templates(ctx, provider.TemplateQuery{WABAID: a.cfg.WABAID, Window: w, TemplateIDs: ids, Cost: cost})
	})
	return templateSamples(points), err
}

// withCostFallback asks for cost until the API says it has none for this
// account (a WABA billed through a partner, as "Analytics" documents), then
// says so once and asks for the counts alone from then on: missing cost must
// not cost the user the counts.
func withCostFallback[P any](a *account, ctx context.Context, f provider.Family, wantCost bool, query func(cost bool) ([]P, error)) ([]P, error) {
	cost := wantCost && !a.noCost[f]
	points, err := query(cost)
	if cost && errors.Is(err, provider.ErrCostUnavailable) {
		a.noCost[f] = true
		level.Info(a.logger).Log("msg", "The API reports no cost for this account; exporting counts without cost from now on",
			"family", f, "reason", err)
		points, err = query(false)
	}
	return points, err
}
