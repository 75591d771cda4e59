package meta

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

var _ provider.FieldsSource = (*Client)(nil)

// Fields asks for every family of q in one request: the fields of the WABA
// node, comma-separated in one fields= list (field expansion,
// https://developers.facebook.com/docs/graph-api/guides/field-expansion/),
// each with its own window. Meta counts the request as one call against the
// WABA's budget, however many fields it names. Each paged field
// (conversation_analytics, pricing_analytics) is then followed on its own,
// through the paging links of its own answer; the analytics and
// call_analytics fields are answered whole. Each family goes to deliver as
// soon as it is complete, so that messaging is not held up by a long
// pricing answer.
func (c *Client) Fields(ctx context.Context, q provider.FieldsQuery, deliver func(provider.FieldResult)) (provider.WABA, error) {
	var list, names []string
	if q.WABAFields {
		list = append(list, "currency", "timezone_id")
	}
	type field struct {
		family provider.Family
		name   string
		expand string
	}
	var fields []field
	if q.Messaging != nil {
		fields = append(fields, field{provider.Messaging, "analytics", messagingFields(*q.Messaging)})
	}
	if q.Conversations != nil {
		fields = append(fields, field{provider.Conversations, "conversation_analytics", conversationFields(*q.Conversations)})
	}
	if q.Pricing != nil {
		fields = append(fields, field{provider.Pricing, "pricing_analytics", pricingFields(*q.Pricing)})
	}
	if q.Calls != nil {
		fields = append(fields, field{provider.Calls, "call_analytics", callFields(*q.Calls)})
	}
	for _, f := range fields {
		list = append(list, f.expand)
		names = append(names, f.name)
	}
	if q.WABAFields {
		names = append(names, "whatsapp_business_account")
	}
	op := strings.Join(names, ",")
	body, err := c.wire.Get(ctx, op, c.nodeURL(q.WABAID, strings.Join(list, ",")))
	if err != nil {
		return provider.WABA{}, err
	}
	var answer map[string]json.RawMessage
	if err := c.wire.Decode(ctx, op, body, &answer); err != nil {
		return provider.WABA{}, err
	}
	var waba provider.WABA
	if q.WABAFields {
		// Read alone, so that a WABA field of the wrong type fails the
		// WABA's fields, not the analytics beside them.
		waba, err = c.decodeWABA(ctx, body)
		if err != nil {
			waba = provider.WABA{}
		}
	}
	for _, f := range fields {
		r := provider.FieldResult{Family: f.family}
		raw := answer[f.name]
		ctx := provider.WithFamily(ctx, f.family)
		switch f.family {
		case provider.Messaging:
			points, pages, err := fieldPages[messagingWire](ctx, c, f.name, raw)
			r.Messaging, r.Pages, r.Err = convert(points, messagingWire.point), pages, err
		case provider.Conversations:
			points, pages, err := fieldPages[conversationWire](ctx, c, f.name, raw)
			r.Conversations, r.Pages, r.Err = convert(points, conversationWire.point), pages, err
		case provider.Pricing:
			points, pages, err := fieldPages[pricingWire](ctx, c, f.name, raw)
			r.Pricing, r.Pages, r.Err = convert(points, pricingWire.point), pages, err
		case provider.Calls:
			points, pages, err := fieldPages[callWire](ctx, c, f.name, raw)
			r.Calls, r.Pages, r.Err = convert(points, callWire.point), pages, err
		}
		deliver(r)
	}
	return waba, nil
}

// fieldPages reads one field of a combined answer, and then its further
// pages, on their own. It returns
// the points of every page, or none and why it failed, and how many answers
// it took, the combined one included.
func fieldPages[P any](ctx context.Context, c *Client, op string, raw json.RawMessage) ([]P, int, error) {
	pages := 1
	if len(raw) == 0 {
		// Graph answers every field asked for; one left out is a BSP
		// that dropped it, not a field without data.
		return nil, pages, c.wire.Fail(ctx, &provider.APIError{Op: op, Code: provider.CodeMalformedResponse,
			Message: "malformed response: the answer has no " + op})
	}
	var first page[P]
	if err := c.wire.Decode(ctx, op, raw, &first); err != nil {
		return nil, pages, err
	}
	all := first.points()
	next := first.next()
	if next == "" {
		return all, pages, nil
	}
	err := c.wire.PagesAfter(ctx, op, c.base, next, 1, func(body []byte) (string, error) {
		pages++
		var p page[P]
		if err := c.decodePage(ctx, op, body, &p); err != nil {
			return "", err
		}
		all = append(all, p.points()...)
		return p.next(), nil
	})
	if err != nil {
		return nil, pages, err
	}
	return all, pages, nil
}
