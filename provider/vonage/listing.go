package vonage

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/internal/wire"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
)

var _ provider.Lister = (*Client)(nil)

// opListing names the listing of WABAs in errors and logs.
const opListing = "wabas"

// listPageSize is how many WABAs a page of the listing asks for: the Channel
// Manager API reference's example page size; it documents no maximum.
const listPageSize = 50

// ListWABAs lists the WABAs linked to the API key, as the Channel Manager
// API reference documents GET /v1/channel-manager/whatsapp/wabas
// (https://developer.vonage.com/en/api/channel-manager; code snippet:
// https://developer.vonage.com/en/channel-manager/code-snippets/whatsapp-waba-management/list-waba-accounts):
// a HAL body whose _embedded.wabas entries carry waba_id, name, currency
// and timezone_id, pages linked by _links.next. The key names the account:
// there is no business to name, and every WABA is the key's own.
func (c *Client) ListWABAs(ctx context.Context, q provider.ListQuery) ([]provider.DiscoveredWABA, error) {
	type entry struct {
		WABAID     wire.ID `json:"waba_id"`
		Name       string  `json:"name"`
		Currency   string  `json:"currency"`
		TimezoneID wire.ID `json:"timezone_id"`
	}
	u := c.base.JoinPath("whatsapp", "wabas")
	u.RawQuery = url.Values{"page_size": {strconv.Itoa(listPageSize)}}.Encode()
	raw, err := fetchPages[entry](ctx, c, opListing, "wabas", u)
	if err != nil {
		return nil, err
	}
	var out []provider.DiscoveredWABA
	seen := map[string]bool{}
	for _, e := range raw {
		id := string(e.WABAID)
		if id == "" || len(id) > 32 || strings.Trim(id, "0123456789") != "" || seen[id] {
			continue // not a WABA ID: it could name no path to request
		}
		seen[id] = true
		// The Channel Manager passes Meta's WABA fields through: its
		// timezone_id is Meta's.
		loc, _ := meta.Location(string(e.TimezoneID))
		out = append(out, provider.DiscoveredWABA{ID: id, Name: e.Name, Currency: e.Currency, Location: loc, Ownership: provider.Owned,
			Complete: e.Currency != "" && e.TimezoneID != ""})
	}
	return out, nil
}
