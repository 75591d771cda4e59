package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// pending is a family's month so far after the first step of a refresh:
// the buckets the refresh still has to fetch for its month-to-date sums.
type pending struct {
	f          provider.Family
	l          *ledger
	query      querier
	spec       bucket.Spec
	span       bucket.Span
	recentFrom time.Time
	gaps       []gap
}

// fetchRecent is the first step of a family's refresh: it asks for the
// buckets the newest-bucket gauges need and, where the family keeps
// month-to-date sums, those that can still change, and returns the newest
// complete bucket. What the month-to-date sums need besides comes in a
// second step (catchUp), after every family's first: the gauges of all
// families do not wait for a month's worth of one.
func (p *poller) fetchRecent(ctx context.Context, f provider.Family) (newest, *pending, error) {
	ctx = provider.WithObserver(ctx, observer{t: p.tally, family: f})
	spec := p.spec(f)
	span := p.windows.Span(spec)
	query, err := p.querier(ctx, f)
	if err != nil {
		return newest{}, nil, err
	}
	l := p.ledgers[f]
	if l == nil {
		samples, err := p.fetchRange(query, f, spec, span.From, span.Cutoff)
		return newestBucket(samples, span), nil, err
	}
	l.startMonth(span.Cutoff)
	// The buckets that may still change are fetched again each time: the
	// lookback's, and a week's for templates, whose figures grow for that
	// long.
	mutable := max(span.Cutoff.Sub(span.From), p.caps.Family(f).Matures+bucket.Longest(spec.Granularity, spec.Zoned))
	recentFrom := earlier(span.From, later(bucket.Start(span.Cutoff.Add(-mutable), spec.Granularity, time.UTC), l.month))
	gaps := l.plan(recentFrom)
	samples, err := p.fetchRange(query, f, spec, recentFrom, span.Cutoff)
	if err != nil {
		return newest{}, nil, err
	}
	l.absorb(samples, recentFrom, span.Cutoff)
	l.fetched = span.Cutoff
	return newestBucket(samples, span), &pending{f: f, l: l, query: query, spec: spec, span: span, recentFrom: recentFrom, gaps: gaps}, nil
}

// catchUp is the second step: it fetches what of the month was never
// fetched, oldest first, each range kept as soon as it is in, so that a
// failure midway loses nothing and the next refresh goes on from there. It
// fetches nothing while the API says to slow down (hold), and returns the
// month-to-date sums (nil while incomplete) and why it stopped short.
func (p *poller) catchUp(ctx context.Context, pd *pending, hold bool) (*analytics.MonthToDate, error) {
	var failed error
	l := pd.l
backlog:
	for _, g := range pd.gaps {
		for _, c := range bucket.Chunks(g.from, g.to, pd.spec, chunkLength(pd.f, pd.spec)) {
			if hold || p.tally.throttledFor() > 0 || ctx.Err() != nil {
				break backlog
			}
			samples, err := p.fetchChunk(pd.query, pd.spec, c)
			if err != nil {
				failed = fmt.Errorf("fetch the buckets from %s: %w", c.From.Format(time.RFC3339), err)
				break backlog
			}
			l.absorb(samples, c.From, pd.span.Cutoff)
			l.filled(c.To)
		}
	}
	l.settle(pd.recentFrom)
	if len(l.gaps) == 0 {
		l.complete = true
	}
	return l.monthToDate(), failed
}

// fetchRange fetches the buckets from from until to, in chunks.
func (p *poller) fetchRange(query querier, f provider.Family, spec bucket.Spec, from, to time.Time) ([]sample, error) {
	var out []sample
	for _, c := range bucket.Chunks(from, to, spec, chunkLength(f, spec)) {
		samples, err := p.fetchChunk(query, spec, c)
		if err != nil {
			return nil, err
		}
		out = append(out, samples...)
	}
	return out, nil
}

// chunkLength is the longest range one request asks for: a day of half
// hours where a family's answers are large (one row per breakdown and
// bucket), so that a month's worth does not need more pages than a client
// follows; no limit elsewhere.
func chunkLength(f provider.Family, spec bucket.Spec) time.Duration {
	if spec.Granularity == provider.HalfHour && (f == provider.Conversations || f == provider.Pricing) {
		return 24 * time.Hour
	}
	return 0
}

// fetchChunk fetches one chunk and keeps the buckets it owns. A chunk whose
// answer still runs past the page cap is split in two, down to one bucket.
func (p *poller) fetchChunk(query querier, spec bucket.Spec, c bucket.Chunk) ([]sample, error) {
	samples, err := query(c.Query)
	var apiErr *provider.APIError
	if errors.As(err, &apiErr) && apiErr.Code == provider.CodeTooManyPages {
		if a, b, ok := bucket.Halve(c, spec); ok {
			first, err := p.fetchChunk(query, spec, a)
			if err != nil {
				return nil, err
			}
			second, err := p.fetchChunk(query, spec, b)
			return append(first, second...), err
		}
	}
	if err != nil {
		return nil, err
	}
	owned := samples[:0]
	for _, s := range samples {
		if c.Owns(s.end) {
			owned = append(owned, s)
		}
	}
	return owned, nil
}

// querier fetches one window of a family's buckets, as samples.
type querier func(w provider.Window) ([]sample, error)

// querier returns the family's query, with what it discovers (the phone
// numbers to split by, the templates) looked up once per refresh.
func (p *poller) querier(ctx context.Context, f provider.Family) (querier, error) {
	switch f {
	case provider.Messaging:
		phones, err := p.splitPhones(ctx)
		if err != nil {
			return nil, err
		}
		return func(w provider.Window) ([]sample, error) { return p.fetchMessaging(ctx, w, phones) }, nil
	case provider.Conversations:
		return func(w provider.Window) ([]sample, error) { return p.fetchConversations(ctx, w) }, nil
	case provider.Pricing:
		return func(w provider.Window) ([]sample, error) { return p.fetchPricing(ctx, w) }, nil
	case provider.Templates:
		ids := p.account.Templates.TemplateIDs
		if len(ids) == 0 {
			var err error
			if ids, err = p.source.TemplateIDs(ctx, p.account.WABAID); err != nil {
				return nil, fmt.Errorf("list message templates: %w", err)
			}
		}
		return func(w provider.Window) ([]sample, error) { return p.fetchTemplates(ctx, w, ids) }, nil
	case provider.Calls:
		return p.callsQuerier(ctx)
	}
	return nil, fmt.Errorf("unknown family %q", f)
}

// splitPhones is the phone numbers messaging is split by: those the config
// lists, or all the WABA's, or one query for all ("") without a split.
func (p *poller) splitPhones(ctx context.Context) ([]string, error) {
	m := p.account.Messaging
	if !slices.Contains(m.SplitBy, "PHONE") {
		return []string{""}, nil
	}
	if len(m.PhoneNumbers) > 0 {
		return m.PhoneNumbers, nil
	}
	phones, err := p.source.PhoneNumbers(ctx, p.account.WABAID)
	if err != nil {
		return nil, fmt.Errorf("list phone numbers: %w", err)
	}
	return phones, nil
}

// fetchMessaging splits the query per phone number and country when asked
// to: the messaging APIs report totals only, so a per-phone figure takes a
// query filtered to that phone.
func (p *poller) fetchMessaging(ctx context.Context, w provider.Window, phones []string) ([]sample, error) {
	m := p.account.Messaging
	countries := []string{""}
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

// fetchTemplates asks for the sends of each API the provider tells apart
// (the Cloud API's, the Marketing Messages API's), one query each, and
// labels them with it. The first product's failure is the family's; a later
// one that the API refuses is left out for a day (refuseProduct).
func (p *poller) fetchTemplates(ctx context.Context, w provider.Window, ids []string) ([]sample, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	t := p.account.Templates
	products := p.caps.TemplateProducts
	if len(products) == 0 {
		products = []provider.TemplateProduct{provider.CloudAPI} // the API's default
	}
	var out []sample
	for i, product := range products {
		if i > 0 && p.productRefused(product) {
			continue
		}
		points, err := withCostFallback(p, provider.Templates, config.WantCost(t.Cost), func(cost bool) ([]provider.TemplatePoint, error) {
			return p.source.Templates(ctx, provider.TemplateQuery{WABAID: p.account.WABAID, Window: w, TemplateIDs: ids, Cost: cost, Product: product})
		})
		if err != nil {
			if i > 0 && p.refuseProduct(product, err) {
				continue
			}
			return nil, err
		}
		out = append(out, templateSamples(points, product)...)
	}
	return out, nil
}

// withCostFallback asks for cost until the API says it has none for this
// account (a WABA billed through a partner: Meta's "Cost not available"),
// then says so once and asks for the counts alone, asking for cost again
// once a day: billing can change, and missing cost must not cost the user
// the counts meanwhile. Cost is asked for only where the provider can report
// it at all; the config turned it off elsewhere.
func withCostFallback[P any](p *poller, f provider.Family, wantCost bool, query func(cost bool) ([]P, error)) ([]P, error) {
	refused, known := p.noCost[f]
	cost := wantCost && p.caps.Cost && (!known || p.now().Sub(refused) >= costReprobe)
	points, err := query(cost)
	if cost && errors.Is(err, provider.ErrCostUnavailable) {
		p.noCost[f] = p.now()
		logger := level.Info(p.logger)
		if known {
			logger = level.Debug(p.logger) // asked again, a day on: still none
		}
		logger.Log("msg", "The API reports no cost for this account; exporting counts without cost, asking again in a day",
			"family", f, "reason", err)
		return query(false)
	}
	if cost && err == nil && known {
		delete(p.noCost, f)
		level.Info(p.logger).Log("msg", "The API reports cost for this account again", "family", f)
	}
	return points, err
}

// costReprobe is how long the exporter goes without asking for cost after
// the API refused it.
const costReprobe = 24 * time.Hour
