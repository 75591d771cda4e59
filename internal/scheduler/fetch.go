package scheduler

import (
	"context"
	"errors"
	"fmt"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// round is what one refresh met so far, across its families.
type round struct {
	// rateLimited is the rate limit that holds the account back.
	rateLimited *provider.APIError
	// transient holds the families whose failure may pass by itself.
	transient map[provider.Family]bool
	// noAnswer is the first failure of the refresh that got no answer at
	// all (a timeout, a refused connection): an API that does not answer
	// one request will not answer the next, so the rest are not sent,
	// and no family waits on it longer than one timeout.
	noAnswer error
}

func newRound() *round { return &round{transient: map[provider.Family]bool{}} }

// note adds a family's failure to what the round met.
func (r *round) note(f provider.Family, err error) {
	var apiErr *provider.APIError
	if !errors.As(err, &apiErr) {
		return
	}
	if apiErr.RateLimited {
		r.rateLimited = apiErr
	}
	r.transient[f] = r.transient[f] || apiErr.Transient
	if r.noAnswer == nil && (apiErr.Code == provider.CodeTimeout || apiErr.Code == provider.CodeConnection) && !errors.Is(err, context.Canceled) {
		r.noAnswer = err
	}
}

// hold says why nothing more is to be asked this refresh: the API said to
// slow down (by an error or its usage headers), or stopped answering. The
// error wraps errNotAsked, and the cause.
func (p *poller) hold(r *round) error {
	switch {
	case r.rateLimited != nil:
		return fmt.Errorf("%w: the API rate-limited this account: %w", errNotAsked, r.rateLimited)
	case p.tally.throttledFor() > 0:
		return fmt.Errorf("%w: the API's usage headers say this account's budget is spent", errNotAsked)
	case r.noAnswer != nil:
		return fmt.Errorf("%w: an earlier request of this refresh got no answer: %w", errNotAsked, r.noAnswer)
	}
	return nil
}

// errNotAsked is wrapped by the error of a request the refresh did not send.
var errNotAsked = errors.New("not asked")

// fetch asks for one chunk of one family: every cell of it, one request
// each, keeping the buckets the chunk owns.
func (p *poller) fetch(ctx context.Context, fp *familyPlan, c bucket.Chunk, cells []cell) ([]sample, error) {
	var out []sample
	for _, cl := range cells {
		samples, err := p.query(ctx, fp.f, cl, c.Query)
		if err != nil {
			return nil, err
		}
		out = append(out, owned(samples, c)...)
	}
	return out, nil
}

// owned keeps the samples of the buckets that the chunk owns: an API may
// answer a little more than was asked (a whole day, an end read as
// inclusive).
func owned(samples []sample, c bucket.Chunk) []sample {
	kept := samples[:0]
	for _, s := range samples {
		if c.Owns(s.end) {
			kept = append(kept, s)
		}
	}
	return kept
}

// query sends family f's request for one cell and window.
func (p *poller) query(ctx context.Context, f provider.Family, cl cell, w provider.Window) ([]sample, error) {
	ctx = provider.WithObserver(ctx, observer{t: p.tally, family: f})
	switch f {
	case provider.Messaging:
		points, err := p.source.Messaging(ctx, p.messagingQuery(cl, w))
		return messagingSamples(nil, points, cl.phone, cl.country), err
	case provider.Conversations:
		c := p.account.Conversations
		points, err := withCostFallback(p, f, config.WantCost(c.Cost), func(cost bool) ([]provider.ConversationPoint, error) {
			return p.source.Conversations(ctx, p.conversationQuery(w, cost))
		})
		return conversationSamples(points, c.Dimensions), err
	case provider.Pricing:
		pr := p.account.Pricing
		points, err := withCostFallback(p, f, config.WantCost(pr.Cost), func(cost bool) ([]provider.PricingPoint, error) {
			return p.source.Pricing(ctx, p.pricingQuery(w, cost))
		})
		return pricingSamples(points, pr.Dimensions), err
	case provider.Calls:
		points, err := withCostFallback(p, f, config.WantCost(p.account.Calls.Cost), func(cost bool) ([]provider.CallPoint, error) {
			return p.source.Calls(ctx, p.callQuery(cl, w, cost))
		})
		return callSamples(nil, points, cl.dims()), err
	case provider.Templates:
		return p.fetchTemplates(ctx, w)
	}
	return nil, fmt.Errorf("unknown family %q", f)
}

func (cl cell) dims() analytics.Dimensions {
	return analytics.Dimensions{PhoneNumber: clean(cl.phone), Country: clean(cl.country), Direction: clean(cl.direction)}
}

func (p *poller) messagingQuery(cl cell, w provider.Window) provider.MessagingQuery {
	m := p.account.Messaging
	q := provider.MessagingQuery{
		WABAID: p.account.WABAID, Window: w,
		PhoneNumbers: m.PhoneNumbers, CountryCodes: m.CountryCodes, ProductTypes: m.ProductTypes,
	}
	if cl.phone != "" {
		q.PhoneNumbers = []string{cl.phone}
	}
	if cl.country != "" {
		q.CountryCodes = []string{cl.country}
	}
	return q
}

func (p *poller) conversationQuery(w provider.Window, cost bool) provider.ConversationQuery {
	c := p.account.Conversations
	return provider.ConversationQuery{
		WABAID: p.account.WABAID, Window: w,
		PhoneNumbers: c.PhoneNumbers, CountryCodes: c.CountryCodes,
		Categories: c.ConversationCategories, Types: c.ConversationTypes, Directions: c.ConversationDirections,
		Dimensions: c.Dimensions, Cost: cost,
	}
}

func (p *poller) pricingQuery(w provider.Window, cost bool) provider.PricingQuery {
	pr := p.account.Pricing
	return provider.PricingQuery{
		WABAID: p.account.WABAID, Window: w,
		PhoneNumbers: pr.PhoneNumbers, CountryCodes: pr.CountryCodes,
		Categories: pr.PricingCategories, Types: pr.PricingTypes,
		Dimensions: pr.Dimensions, Cost: cost,
	}
}

func (p *poller) callQuery(cl cell, w provider.Window, cost bool) provider.CallQuery {
	c := p.account.Calls
	q := provider.CallQuery{
		WABAID: p.account.WABAID, Window: w,
		PhoneNumbers: c.PhoneNumbers, CountryCodes: c.CountryCodes, Directions: c.Directions, Cost: cost,
	}
	if cl.phone != "" {
		q.PhoneNumbers = []string{cl.phone}
	}
	if cl.country != "" {
		q.CountryCodes = []string{cl.country}
	}
	if cl.direction != "" {
		q.Directions = []string{cl.direction}
	}
	return q
}

// part is one family's chunk in a request for several families: the first
// cell of the chunk; the family's other cells go in requests of their own.
type part struct {
	fp   *familyPlan
	c    bucket.Chunk
	spec bucket.Spec
	// done says the part's first cell was answered in a shared request,
	// successfully or not (err).
	done bool
	// solo says the part was refused in a shared request, and is asked
	// alone.
	solo    bool
	samples []sample
	err     error
}

// shareParts asks for the first cell of parts, one chunk of each of several
// families, in one request where the API takes several fields at once, and
// marks the parts it answered. Families whose data the API refused together
// (Meta sends one error for the whole request: "Cost not available" for
// one field, a field a BSP does not forward) are left to be asked one by
// one, so that each gets its own answer: the cost fallback, or its own
// failure, which keeps it out of shared requests for a day.
//
// answered, when not nil, sees each part as soon as the shared request
// answered it in full, before the other families' pages: a family need not
// wait for another's long answer.
func (p *poller) shareParts(ctx context.Context, r *round, parts []*part, answered func(*part)) {
	fs, ok := p.source.(provider.FieldsSource)
	if !ok || !p.caps.CombinedFields {
		return
	}
	var shared []*part
	for _, pt := range parts {
		// A split over no phone numbers (a WABA without any) has no
		// cell to share: it asks nothing.
		if p.combinable(pt.fp.f) && pt.err == nil && len(pt.fp.cells) > 0 {
			shared = append(shared, pt)
		}
	}
	if len(shared) < 2 {
		return // one family: its own request is the same one call
	}
	if err := p.hold(r); err != nil {
		return
	}
	err := p.fetchShared(ctx, fs, shared, func(pt *part) {
		pt.done = true
		r.note(pt.fp.f, pt.err)
		if answered != nil {
			answered(pt)
		}
	})
	if refused(err) {
		for _, pt := range shared {
			pt.solo = true
		}
		return
	}
	if err != nil {
		for _, pt := range shared {
			pt.done, pt.err = true, err
			r.note(pt.fp.f, err)
		}
	}
}

// settleSolo keeps out of shared requests for a day the families that were
// refused in one and then failed alone: their field is the trouble, and
// asking it together would fail the others each time.
func (p *poller) settleSolo(parts []*part) {
	for _, pt := range parts {
		if pt.solo && refused(pt.err) && !errors.Is(pt.err, provider.ErrCostUnavailable) {
			p.solo[pt.fp.f] = p.now().Add(RecheckUnavailable)
		}
	}
}

// combinable says whether family f may share a request with others: every
// family a FieldsQuery takes, unless asking for it together failed where
// asking alone did not, within the last day.
func (p *poller) combinable(f provider.Family) bool {
	if f == provider.Templates {
		return false
	}
	if until, ok := p.solo[f]; ok {
		if p.now().Before(until) {
			return false
		}
		delete(p.solo, f)
	}
	return true
}

// fetchShared sends one request for every part, and sets each part's
// samples or error. The error is the request's own: then no part was set.
func (p *poller) fetchShared(ctx context.Context, fs provider.FieldsSource, parts []*part, answered func(*part)) error {
	q := provider.FieldsQuery{WABAID: p.account.WABAID}
	byFamily := map[provider.Family]*part{}
	for _, pt := range parts {
		cl, w := pt.fp.cells[0], pt.c.Query
		byFamily[pt.fp.f] = pt
		switch pt.fp.f {
		case provider.Messaging:
			mq := p.messagingQuery(cl, w)
			q.Messaging = &mq
		case provider.Conversations:
			cq := p.conversationQuery(w, p.askCost(provider.Conversations, p.account.Conversations.Cost))
			q.Conversations = &cq
		case provider.Pricing:
			pq := p.pricingQuery(w, p.askCost(provider.Pricing, p.account.Pricing.Cost))
			q.Pricing = &pq
		case provider.Calls:
			cq := p.callQuery(cl, w, p.askCost(provider.Calls, p.account.Calls.Cost))
			q.Calls = &cq
		}
	}
	ctx = provider.WithObserver(ctx, observer{t: p.tally, family: analytics.CombinedFamily})
	_, err := fs.Fields(ctx, q, func(res provider.FieldResult) {
		pt := byFamily[res.Family]
		if pt == nil {
			return
		}
		cl := pt.fp.cells[0]
		var samples []sample
		switch res.Family {
		case provider.Messaging:
			samples = messagingSamples(nil, res.Messaging, cl.phone, cl.country)
		case provider.Conversations:
			samples = conversationSamples(res.Conversations, p.account.Conversations.Dimensions)
		case provider.Pricing:
			samples = pricingSamples(res.Pricing, p.account.Pricing.Dimensions)
		case provider.Calls:
			samples = callSamples(nil, res.Calls, cl.dims())
		}
		if res.Err != nil {
			pt.err = res.Err
		} else {
			pt.samples = owned(samples, pt.c)
		}
		answered(pt)
	})
	return err
}

// askCost says whether a shared request asks family f for cost: as
// withCostFallback would ask a request of its own.
func (p *poller) askCost(f provider.Family, cost *bool) bool {
	refused, known := p.noCost[f]
	return config.WantCost(cost) && p.caps.Cost && (!known || p.now().Sub(refused) >= costReprobe)
}

// refused reports whether err is the API's refusal of what was asked, which
// asking differently may avoid: a bad request (HTTP 400: a parameter or
// field the API does not take, Meta's "Cost not available"), or an answer
// too long or malformed. Not a rate limit, a transient failure, no answer,
// nor a credential or WABA the API does not know (401, 403, 404, Graph code
// 190), which asking differently cannot help.
func refused(err error) bool {
	var apiErr *provider.APIError
	if !errors.As(err, &apiErr) || errors.Is(err, errNotAsked) {
		return false
	}
	switch apiErr.Code {
	case provider.CodeTooManyPages, provider.CodeResponseTooLarge, provider.CodeMalformedResponse:
		return true
	}
	return apiErr.Status == 400 && !apiErr.RateLimited && !apiErr.Transient && apiErr.Code != "190"
}

// shorterMayDo reports whether a request that reached back over the month
// so far may succeed for the recent buckets alone: it was refused (too long
// an answer among other reasons), or Graph answered code 1 with "Please
// reduce the amount of data you're asking for, then retry your request", as
// it does for a range too costly to compute (Graph's error codes,
// https://developers.facebook.com/docs/graph-api/guides/error-handling/).
// Not a rate limit, no answer, a server down, nor a credential or WABA the
// API does not take: asking for less cannot help those.
func shorterMayDo(err error) bool {
	var apiErr *provider.APIError
	return refused(err) || errors.As(err, &apiErr) && !errors.Is(err, errNotAsked) && apiErr.Code == "1"
}
