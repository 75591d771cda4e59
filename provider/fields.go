package provider

import (
	"context"
	"time"
)

// FieldsQuery asks, in one request, for several analytics families of one
// WABA and, if WABAFields, the WABA's own fields: Graph's field expansion
// takes several fields in one fields= list
// (https://developers.facebook.com/docs/graph-api/guides/field-expansion/),
// and every request counts against the WABA's rate limit as one call
// (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/).
// Each family's query has its own window and granularity; a nil one is not
// asked for. Field aliases and multi-ID requests (?ids=) are not used:
// Graph v27.0 no longer offers them to new apps
// (https://developers.facebook.com/blog/post/2026/11/04/introducing-graph-api-v27-and-marketing-api-v27/),
// so a family appears at most once per request.
type FieldsQuery struct {
	WABAID        string
	Messaging     *MessagingQuery
	Conversations *ConversationQuery
	Pricing       *PricingQuery
	Calls         *CallQuery
	// WABAFields also reads the WABA's own fields (Source.WABA).
	WABAFields bool
}

// Families lists the families the query asks for, in refresh order.
func (q FieldsQuery) Families() []Family {
	var out []Family
	for _, f := range Families {
		if q.asks(f) {
			out = append(out, f)
		}
	}
	return out
}

func (q FieldsQuery) asks(f Family) bool {
	switch f {
	case Messaging:
		return q.Messaging != nil
	case Conversations:
		return q.Conversations != nil
	case Pricing:
		return q.Pricing != nil
	case Calls:
		return q.Calls != nil
	}
	return false
}

// FieldResult is one family's share of a FieldsQuery: its data points (in
// the slice of its family's type) or why it failed. A family whose first
// page came with the combined answer but whose later pages failed has Err
// set and no points: a family is delivered whole or not at all.
type FieldResult struct {
	Family        Family
	Messaging     []MessagingPoint
	Conversations []ConversationPoint
	Pricing       []PricingPoint
	Calls         []CallPoint
	Err           error
	// Pages is how many answers the family took, the combined one
	// included.
	Pages int
}

// FieldsSource is a Source whose API can answer a FieldsQuery
// (Capabilities.CombinedFields).
type FieldsSource interface {
	Source
	// Fields sends q as one request and hands each family's result to
	// deliver as soon as the family is complete: a family answered in
	// full by the first answer (messaging, calls) comes at once, a paged
	// one after its last page, each paged on its own. The error is the
	// first request's: when it is not nil, no family was answered and
	// deliver was not called, and the WABA fields (if asked) are unknown.
	Fields(ctx context.Context, q FieldsQuery, deliver func(FieldResult)) (WABA, error)
}

// Observers bind an Observer to one family. The observer of a context may
// implement it, so that a request for several families reports its first
// answer to the context's observer and each family's further pages to that
// family's.
type Observers interface {
	Family(f Family) Observer
}

// WithFamily returns ctx with the observer for family f, where the
// context's observer tells families apart; ctx itself otherwise.
func WithFamily(ctx context.Context, f Family) context.Context {
	if o, ok := ObserverFrom(ctx).(Observers); ok {
		return WithObserver(ctx, o.Family(f))
	}
	return ctx
}

// DiscoveredWABA is one WhatsApp Business Account a business can read, as
// its listing reports it.
type DiscoveredWABA struct {
	ID   string
	Name string
	// Currency and Location as Source.WABA reads them; empty or nil when
	// the listing did not say (or named a zone the exporter does not know:
	// its days are then UTC's, as when Source.WABA says the same).
	Currency string
	Location *time.Location
	// Complete says the listing gave both fields, whatever their values,
	// so that the WABA's own need not be read; a BSP that does not forward
	// them leaves the exporter to read them as for an account listed by
	// hand.
	Complete bool
	// Ownership is "owned" for a business's own WABAs and "client" for
	// those it manages for clients.
	Ownership string
}

// Ownership of a discovered WABA, and the listing edges that report them.
const (
	Owned  = "owned"
	Client = "client"
)

// ListQuery asks a business for its WABAs.
type ListQuery struct {
	// BusinessID is the business (Meta's business portfolio) whose WABAs
	// to list; empty where the credential itself names the account (a
	// Vonage API key).
	BusinessID string
	// Ownerships are the kinds of WABA to list: Owned, Client or both.
	Ownerships []string
}

// Lister is a client that can list the WABAs a business reads
// (Capabilities.Discovery).
type Lister interface {
	ListWABAs(ctx context.Context, q ListQuery) ([]DiscoveredWABA, error)
}
