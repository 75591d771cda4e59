// Package meta reads WhatsApp Business Account analytics from Meta's Graph
// API: the analytics, conversation_analytics and pricing_analytics fields of a
// WABA and its template_analytics edge, as Meta's Analytics page
// (https://developers.facebook.com/docs/whatsapp/business-management-api/analytics,
// now also at https://developers.facebook.com/documentation/business-messaging/whatsapp/analytics/;
// the comments here quote its v21 edition) and the WABA Analytics reference
// (https://developers.facebook.com/docs/graph-api/reference/waba-analytics/) specify them.
// BSPs that pass the Graph API through under their own URL use this package
// too (provider graph_passthrough, PassthroughCapabilities).
package meta

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/internal/wire"
)

// templateIDsPerRequest is the template_analytics limit on template_ids
// ("Maximum 10", Analytics page, "Template Analytics").
const templateIDsPerRequest = 10

// Options configure a Client.
type Options struct {
	// BaseURL is the API root, including any path prefix a BSP puts in
	// front of the Graph paths ("https://api.example.com/api").
	BaseURL    string
	APIVersion string
	// AccessToken is sent as "Authorization: Bearer", never in a URL.
	AccessToken string
	// AppSecret, when set, signs every request with appsecret_proof, for
	// apps that require it.
	AppSecret    string
	HTTP         *http.Client
	Throttle     *provider.AccountThrottle
	Timeout      time.Duration
	MaxBodyBytes int64
	MaxPages     int
}

// Client is a provider.Source backed by the Graph API.
type Client struct {
	base    *url.URL
	version string
	proof   string
	wire    *wire.Client
	// formerNames is set once the API took a former product_type name
	// where it refused the current one.
	formerNames atomic.Bool
}

var _ provider.Source = (*Client)(nil)

// New returns a client for the Graph API at opts.BaseURL.
func New(opts Options) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("invalid API URL %q: want scheme://host[/prefix]", opts.BaseURL)
	}
	c := &Client{
		base:    base,
		version: strings.Trim(opts.APIVersion, "/"),
	}
	if opts.AppSecret != "" {
		mac := hmac.New(sha256.New, []byte(opts.AppSecret))
		mac.Write([]byte(opts.AccessToken))
		c.proof = hex.EncodeToString(mac.Sum(nil))
	}
	var signNext func(*url.URL)
	if c.proof != "" {
		signNext = c.signNext
	}
	token := opts.AccessToken
	c.wire = &wire.Client{
		HTTP:         opts.HTTP,
		Throttle:     opts.Throttle,
		Timeout:      opts.Timeout,
		MaxBodyBytes: opts.MaxBodyBytes,
		MaxPages:     opts.MaxPages,
		Authorize: func(r *http.Request) {
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
		},
		Secrets:  []string{opts.AccessToken, opts.AppSecret},
		APIError: graphError,
		Inspect:  inspect,
		AppLimit: appLimit,

		PrepareNext: signNext,
	}
	return c, nil
}

// Messaging reads the analytics field.
func (c *Client) Messaging(ctx context.Context, q provider.MessagingQuery) ([]provider.MessagingPoint, error) {
	raw, err := fetchPages[messagingWire](ctx, c, "analytics", c.nodeURL(q.WABAID, messagingFields(q)))
	return convert(raw, messagingWire.point), err
}

// Conversations reads the conversation_analytics field.
func (c *Client) Conversations(ctx context.Context, q provider.ConversationQuery) ([]provider.ConversationPoint, error) {
	raw, err := fetchPages[conversationWire](ctx, c, "conversation_analytics", c.nodeURL(q.WABAID, conversationFields(q)))
	return convert(raw, conversationWire.point), err
}

// Pricing reads the pricing_analytics field.
func (c *Client) Pricing(ctx context.Context, q provider.PricingQuery) ([]provider.PricingPoint, error) {
	raw, err := fetchPages[pricingWire](ctx, c, "pricing_analytics", c.nodeURL(q.WABAID, pricingFields(q)))
	return convert(raw, pricingWire.point), err
}

func messagingFields(q provider.MessagingQuery) string {
	return newExpansion("analytics", q.Window, messagingGranularity(q.Window.Granularity)).
		strings("phone_numbers", q.PhoneNumbers).
		strings("country_codes", q.CountryCodes).
		ints("product_types", q.ProductTypes).String()
}

func conversationFields(q provider.ConversationQuery) string {
	metrics := []string{"CONVERSATION"}
	if q.Cost {
		metrics = append(metrics, "COST")
	}
	return newExpansion("conversation_analytics", q.Window, analyticsGranularity(q.Window.Granularity)).
		strings("phone_numbers", q.PhoneNumbers).
		strings("country_codes", q.CountryCodes).
		strings("metric_types", metrics).
		strings("conversation_categories", q.Categories).
		strings("conversation_types", q.Types).
		strings("conversation_directions", q.Directions).
		strings("dimensions", q.Dimensions).String()
}

func pricingFields(q provider.PricingQuery) string {
	metrics := []string{"VOLUME"}
	if q.Cost {
		metrics = append(metrics, "COST")
	}
	return newExpansion("pricing_analytics", q.Window, analyticsGranularity(q.Window.Granularity)).
		strings("phone_numbers", q.PhoneNumbers).
		strings("country_codes", q.CountryCodes).
		strings("metric_types", metrics).
		strings("pricing_types", q.Types).
		strings("pricing_categories", q.Categories).
		strings("dimensions", q.Dimensions).String()
}

// Templates reads the template_analytics edge, ten template IDs a request,
// for the sends of q.Product. Granularity is DAILY whatever the window says:
// it is the only one the edge accepts. An answer that says the WABA has no
// template analytics at all comes back with a provider.Unavailable cause
// (templatesUnavailable).
func (c *Client) Templates(ctx context.Context, q provider.TemplateQuery) ([]provider.TemplatePoint, error) {
	metrics := []string{"SENT", "DELIVERED", "READ", "CLICKED"}
	if q.Cost {
		metrics = append(metrics, "COST")
	}
	var all []provider.TemplatePoint
	for ids := range slices.Chunk(q.TemplateIDs, templateIDsPerRequest) {
		raw, err := c.templatePages(ctx, q, ids, metrics)
		if err != nil {
			return nil, c.templatesUnavailable(ctx, q.WABAID, err)
		}
		all = append(all, convert(raw, templateWire.point)...)
	}
	return all, nil
}

// templatePages reads one request's pages, with the product type's current
// name, or its former one where the API knows only that.
func (c *Client) templatePages(ctx context.Context, q provider.TemplateQuery, ids, metrics []string) ([]templateWire, error) {
	query := func(productType string) ([]templateWire, error) {
		u := c.edgeURL(q.WABAID, "template_analytics")
		v := u.Query()
		v.Set("start", unix(q.Window.Start))
		v.Set("end", unix(q.Window.End))
		v.Set("granularity", "DAILY")
		v.Set("metric_types", `["`+strings.Join(metrics, `","`)+`"]`)
		v.Set("template_ids", "["+strings.Join(ids, ",")+"]")
		if productType != "" {
			v.Set("product_type", productType)
		}
		u.RawQuery = v.Encode()
		return fetchPages[templateWire](ctx, c, "template_analytics", u)
	}
	name := c.productType(q.Product)
	raw, err := query(name)
	if former := formerProductTypes[name]; former != "" && rejectsProductType(err) {
		if raw, err = query(former); err == nil {
			c.formerNames.Store(true)
		}
	}
	return raw, err
}

// PhoneNumbers lists the phone_numbers edge, digits only: "+1 631-555-5555"
// becomes "16315555555", the form the analytics filters take.
func (c *Client) PhoneNumbers(ctx context.Context, wabaID string) ([]string, error) {
	type number struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
	}
	numbers, err := listEdge(ctx, c, wabaID, "phone_numbers", "display_phone_number", func(n number) string {
		return digits(n.DisplayPhoneNumber)
	})
	return numbers, err
}

// TemplateIDs lists the message_templates edge.
func (c *Client) TemplateIDs(ctx context.Context, wabaID string) ([]string, error) {
	type template struct {
		ID wire.ID `json:"id"`
	}
	return listEdge(ctx, c, wabaID, "message_templates", "id", func(t template) string { return string(t.ID) })
}

func (c *Client) nodeURL(wabaID, fields string) *url.URL {
	u := c.edgeURL(wabaID, "")
	v := u.Query()
	v.Set("fields", fields)
	u.RawQuery = v.Encode()
	return u
}

func (c *Client) edgeURL(wabaID, edge string) *url.URL {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/")
	if c.version != "" {
		// No version: the base URL already ends in one, as some BSPs
		// document theirs (https://api.example.com/api/v25.0).
		u.Path += "/" + c.version
	}
	u.Path += "/" + url.PathEscape(wabaID)
	if edge != "" {
		u.Path += "/" + edge
	}
	if c.proof != "" {
		u.RawQuery = url.Values{"appsecret_proof": {c.proof}}.Encode()
	}
	return &u
}

// fetchPages follows paging.next from u until the last page and returns the
// data points of all pages.
func fetchPages[P any](ctx context.Context, c *Client, op string, u *url.URL) ([]P, error) {
	var all []P
	err := c.wire.Pages(ctx, op, c.base, u, func(body []byte) (string, error) {
		var p page[P]
		if err := c.decodePage(ctx, op, body, &p); err != nil {
			return "", err
		}
		all = append(all, p.points()...)
		return p.next(), nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

// decodePage accepts a field wrapped in its name ({"conversation_analytics": {...}})
// or bare, as edges and paging links answer.
func (c *Client) decodePage(ctx context.Context, op string, body []byte, into any) error {
	var wrapped map[string]json.RawMessage
	if err := c.wire.Decode(ctx, op, body, &wrapped); err != nil {
		return err
	}
	if inner, ok := wrapped[op]; ok {
		body = inner
	}
	return c.wire.Decode(ctx, op, body, into)
}

// signNext adds appsecret_proof to a paging link, which Graph does not
// repeat in the links it returns.
func (c *Client) signNext(u *url.URL) {
	v := u.Query()
	v.Set("appsecret_proof", c.proof)
	u.RawQuery = v.Encode()
}

// listEdge reads every page of a WABA edge such as message_templates and
// returns the distinct non-empty keys of its items, in order.
func listEdge[T any](ctx context.Context, c *Client, wabaID, edge, fields string, key func(T) string) ([]string, error) {
	items, err := edgeItems[T](ctx, c, wabaID, edge, fields)
	if err != nil {
		return nil, err
	}
	var keys []string
	seen := map[string]bool{}
	for _, item := range items {
		if k := key(item); k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// edgeItems reads every item of every page of a WABA edge, asking for
// fields.
func edgeItems[T any](ctx context.Context, c *Client, wabaID, edge, fields string) ([]T, error) {
	u := c.edgeURL(wabaID, edge)
	v := u.Query()
	v.Set("fields", fields)
	v.Set("limit", "100")
	u.RawQuery = v.Encode()
	var items []T
	err := c.wire.Pages(ctx, edge, c.base, u, func(body []byte) (string, error) {
		var p struct {
			Data   []T          `json:"data"`
			Paging *wire.Paging `json:"paging"`
		}
		if err := c.wire.Decode(ctx, edge, body, &p); err != nil {
			return "", err
		}
		items = append(items, p.Data...)
		if p.Paging == nil {
			return "", nil
		}
		return p.Paging.Next, nil
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

func convert[W any, P any](raw []W, f func(W) P) []P {
	if raw == nil {
		return nil
	}
	out := make([]P, len(raw))
	for i, w := range raw {
		out[i] = f(w)
	}
	return out
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// WABA reads the WABA node's currency and timezone_id fields. A time zone
// id it does not know leaves Location nil.
func (c *Client) WABA(ctx context.Context, wabaID string) (provider.WABA, error) {
	body, err := c.wire.Get(ctx, wabaOp, c.nodeURL(wabaID, "currency,timezone_id"))
	if err != nil {
		return provider.WABA{}, err
	}
	return c.decodeWABA(ctx, body)
}

const wabaOp = "whatsapp_business_account"

// decodeWABA reads the WABA node's currency and timezone_id from an answer
// that may hold other fields too.
func (c *Client) decodeWABA(ctx context.Context, body []byte) (provider.WABA, error) {
	var node struct {
		Currency   string  `json:"currency"`
		TimezoneID wire.ID `json:"timezone_id"`
	}
	if err := c.wire.Decode(ctx, wabaOp, body, &node); err != nil {
		return provider.WABA{}, err
	}
	loc, _ := Location(string(node.TimezoneID))
	return provider.WABA{Currency: node.Currency, Location: loc}, nil
}
