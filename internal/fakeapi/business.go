package fakeapi

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Business is a business portfolio on the Graph fake: a BSP's, say, with
// the WABAs it owns and those its clients shared with it, which Meta lists
// on the business's owned_whatsapp_business_accounts and
// client_whatsapp_business_accounts edges
// (https://developers.facebook.com/documentation/ads-commerce/marketing-api/reference/business/owned_whatsapp_business_accounts,
// https://developers.facebook.com/docs/marketing-api/reference/business/client_whatsapp_business_accounts/,
// and "Manage WhatsApp Business accounts",
// https://developers.facebook.com/documentation/business-messaging/whatsapp/solution-providers/manage-accounts).
type Business struct {
	ID string
	// Token is the bearer token the fake accepts for the business's
	// listings: its system user's. (The WABAs take their own tokens; a
	// fleet gives them all this one, as a system user's token reads every
	// WABA the business can.)
	Token string
	// Owned and Client are the IDs of the WABAs on each edge, in the order
	// listed. An ID the fake holds no WABA for is left out of the listing.
	Owned, Client []string
}

// The business edges and the WABA fields they answer: those Meta's
// examples show, with id, name, currency and timezone_id by default (as
// the Client WhatsApp Business Accounts API reference says), and a field
// the fake does not know refused with code 100 as on the WABA's own edges.
const (
	ownedEdge  = "owned_whatsapp_business_accounts"
	clientEdge = "client_whatsapp_business_accounts"
)

var (
	businessEdges        = map[string]bool{ownedEdge: true, clientEdge: true}
	listedWABAFields     = []string{"id", "name", "currency", "timezone_id", "message_template_namespace", "account_review_status", "is_enabled_for_insights"}
	defaultListingFields = []string{"id", "name", "currency", "timezone_id"}
)

// Listing page sizes: Graph's edges answer 25 items unless asked for
// another limit, and the fake caps the limit at 100, as Graph caps large
// ones (the exporter asks for 100).
const (
	defaultListingLimit = 25
	maxListingLimit     = 100
)

func (b Business) clone() Business {
	b.Owned, b.Client = slices.Clone(b.Owned), slices.Clone(b.Client)
	return b
}

// SetBusiness adds a business to the fake, or replaces the one with its
// ID: its lists of WABAs change while the fake runs, as a BSP onboards and
// loses clients.
func (c *core) SetBusiness(b Business) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b = b.clone()
	c.businesses[b.ID] = &b
}

// Business returns a copy of a business the fake holds.
func (c *core) Business(id string) (Business, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.businesses[id]
	if !ok {
		return Business{}, false
	}
	return b.clone(), true
}

// AddWABA adds a WABA to the fake, or replaces the one with its ID. To
// list it, add its ID to a business too (SetBusiness).
func (c *core) AddWABA(a WABA) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a.m = nil
	c.wabas[a.WABAID] = &a
}

// RemoveWABA removes a WABA from the fake and from every business's
// listings: its node then answers as one that does not exist.
func (c *core) RemoveWABA(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.wabas, id)
	for _, b := range c.businesses {
		b.Owned = slices.DeleteFunc(b.Owned, func(v string) bool { return v == id })
		b.Client = slices.DeleteFunc(b.Client, func(v string) bool { return v == id })
	}
}

// BusinessStats returns a copy of what the fake saw of a business's
// listing requests; ByOperation counts them per edge. The Vonage fake
// keeps its WABA listings' by API key.
func (c *core) BusinessStats(id string) Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.listings[id]; ok {
		return s.copy()
	}
	return newStats().copy()
}

// listing answers a business edge: GET /{version}/{business-id}/{edge}.
func (g *Graph) listing(w http.ResponseWriter, r *http.Request, businessID, version, edge string) {
	q := r.URL.Query()
	g.mu.Lock()
	s, ok := g.listings[businessID]
	if !ok {
		s = newStats()
		g.listings[businessID] = s
	}
	s.count(edge, r.Host)
	g.totals.count(edge, r.Host, true)
	if q.Has("access_token") {
		s.CredentialsInURL++
	}
	app := g.recordApp()
	fault := g.takeFault(businessID, edge)
	b, known := g.businesses[businessID]
	var ids []string
	token := ""
	if known {
		token = b.Token
		list := b.Owned
		if edge == clientEdge {
			list = b.Client
		}
		for _, id := range list {
			if _, ok := g.wabas[id]; ok {
				ids = append(ids, id)
			}
		}
	}
	g.mu.Unlock()

	if !known {
		graphError(w, http.StatusBadRequest, 100, 33, fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", businessID), "GraphMethodException", false)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+token {
		graphError(w, http.StatusUnauthorized, 190, 0, "Invalid OAuth access token - Cannot parse access token", "OAuthException", false)
		return
	}
	if g.appLimited(w, app) {
		return
	}
	if fault != nil && g.misbehave(w, r, businessID, token, fault) {
		return
	}
	fields, ok := edgeFields(w, r, listedWABAFields, defaultListingFields, version, "WhatsAppBusinessAccount")
	if !ok {
		return
	}
	limit := defaultListingLimit
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			graphError(w, http.StatusBadRequest, 100, 0, "(#100) Param limit must be a positive integer", "OAuthException", false)
			return
		}
		limit = min(n, maxListingLimit)
	}
	from, to := pageRange(len(ids), q.Get("after"), limit)

	g.mu.Lock()
	items := make([]any, 0, to-from)
	for _, id := range ids[from:to] {
		if a, ok := g.wabas[id]; ok { // it may have gone meanwhile
			items = append(items, pick(listedWABA(a), fields))
		}
	}
	g.mu.Unlock()

	body := map[string]any{"data": items}
	if from < to {
		paging := map[string]any{"cursors": map[string]string{"before": cursor(from), "after": cursor(to)}}
		next := ""
		switch {
		case fault != nil && fault.Kind == EndlessPages:
			next = "endless"
		case to < len(ids):
			next = cursor(to)
		}
		if link := g.paging(r, next, fault); link != nil {
			paging["next"] = link["next"]
		}
		body["paging"] = paging
	}
	writeValue(w, http.StatusOK, body, fault)
}

// listedWABA is every field of a WABA a business edge can answer.
func listedWABA(a *WABA) map[string]any {
	return map[string]any{
		"id":                         a.WABAID,
		"name":                       a.name(),
		"currency":                   a.currency(),
		"timezone_id":                a.timezoneID(),
		"message_template_namespace": namespace(a.WABAID),
		"account_review_status":      "APPROVED",
		"is_enabled_for_insights":    !a.InsightsDisabled,
	}
}

// namespace is a WABA's message template namespace, in the shape of Meta's
// examples (05155c78_261e_4b2f_82b3_d7958d4cf75f), stable per WABA.
func namespace(wabaID string) string {
	var raw [16]byte
	for i := range 2 {
		s := seed(wabaID, "namespace", strconv.Itoa(i))
		for j := range 8 {
			raw[i*8+j] = byte(s >> (8 * j))
		}
	}
	h := hex.EncodeToString(raw[:])
	return strings.Join([]string{h[:8], h[8:12], h[12:16], h[16:20], h[20:]}, "_")
}
