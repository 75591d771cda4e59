package meta

import (
	"context"
	"fmt"
	"strings"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/internal/wire"
)

var _ provider.Lister = (*Client)(nil)

// businessEdges are the edges of a business that list its WABAs: those it
// owns (https://developers.facebook.com/docs/marketing-api/reference/business/owned_whatsapp_business_accounts/)
// and those it manages for its clients, which takes a system-user token of
// the business
// (https://developers.facebook.com/docs/marketing-api/reference/business/client_whatsapp_business_accounts/).
var businessEdges = map[string]string{
	provider.Owned:  "owned_whatsapp_business_accounts",
	provider.Client: "client_whatsapp_business_accounts",
}

// listFields are read for each WABA in the listing itself, so that a
// discovered WABA needs no request of its own for its name, currency and
// time zone.
const listFields = "id,name,currency,timezone_id"

// ListWABAs lists the WABAs of a business, 100 a page (the most those edges
// take), in the order of q.Ownerships and then of the API. A WABA listed
// on both edges is reported once, as the first of q.Ownerships listed it
// (owned, in the default order).
func (c *Client) ListWABAs(ctx context.Context, q provider.ListQuery) ([]provider.DiscoveredWABA, error) {
	if q.BusinessID == "" {
		return nil, fmt.Errorf("list WABAs: a business ID is required")
	}
	type item struct {
		ID         wire.ID `json:"id"`
		Name       string  `json:"name"`
		Currency   string  `json:"currency"`
		TimezoneID wire.ID `json:"timezone_id"`
	}
	var out []provider.DiscoveredWABA
	seen := map[string]bool{}
	for _, ownership := range q.Ownerships {
		edge, ok := businessEdges[ownership]
		if !ok {
			return nil, fmt.Errorf("list WABAs: unknown ownership %q", ownership)
		}
		u := c.edgeURL(q.BusinessID, edge)
		v := u.Query()
		v.Set("fields", listFields)
		v.Set("limit", "100")
		u.RawQuery = v.Encode()
		err := c.wire.Pages(ctx, edge, c.base, u, func(body []byte) (string, error) {
			var p struct {
				Data   []item       `json:"data"`
				Paging *wire.Paging `json:"paging"`
			}
			if err := c.wire.Decode(ctx, edge, body, &p); err != nil {
				return "", err
			}
			for _, it := range p.Data {
				id := string(it.ID)
				if !isID(id) || seen[id] {
					continue
				}
				seen[id] = true
				loc, _ := Location(string(it.TimezoneID))
				out = append(out, provider.DiscoveredWABA{ID: id, Name: it.Name, Currency: it.Currency, Location: loc, Ownership: ownership,
					Complete: it.Currency != "" && it.TimezoneID != ""})
			}
			if p.Paging == nil {
				return "", nil
			}
			return p.Paging.Next, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// isID reports whether s is a Graph object ID: digits only. Anything else
// from the API cannot name a WABA (nor a path to request).
func isID(s string) bool {
	return s != "" && len(s) <= 32 && strings.Trim(s, "0123456789") == ""
}
