// Package vonage reads WhatsApp Business Account analytics from Vonage's
// Channel Manager API: the messaging-analytics, template-analytics and
// pricing-analytics endpoints of a WABA, as Vonage's WhatsApp Analytics guide
// specifies them (https://developer.vonage.com/en/channel-manager/guides/whatsapp/whatsapp-analytics;
// the document quoted in comments here).
//
// The Channel Manager wraps the same Meta analytics as the Graph API, so the
// data maps onto the provider types one to one; what differs is the wire:
// query parameters instead of field expansions, YYYY-MM-DD dates, HAL bodies
// (_embedded, _links), timestamps as strings, a template's clicks as one
// number, and no cost. The package never calls enable_insights: it changes
// the account for good, and is the user's decision (docs/providers.md,
// "Enabling template analytics on Vonage").
package vonage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/internal/wire"
)

// apiPrefix is the root of the Channel Manager API under the host.
const apiPrefix = "/v1/channel-manager"

// templateIDsPerRequest is the template_ids limit: "Maximum 10."
const templateIDsPerRequest = 10

// Operation names: the endpoints, as they appear in errors and logs.
const (
	opMessaging = "messaging-analytics"
	opTemplates = "template-analytics"
	opPricing   = "pricing-analytics"
)

// Options configure a Client.
type Options struct {
	// BaseURL is the API host, optionally with the /v1/channel-manager
	// root or a proxy's path prefix; Capabilities.DefaultURL when empty.
	BaseURL string
	// APIKey and APISecret are sent as HTTP Basic auth, as with every
	// Vonage API that takes a key and secret; never in a URL.
	APIKey    string
	APISecret string

	HTTP         *http.Client
	Throttle     *provider.AccountThrottle
	Timeout      time.Duration
	MaxBodyBytes int64
	MaxPages     int
}

// Client is a provider.Source backed by the Channel Manager API.
type Client struct {
	base *url.URL // ends in /v1/channel-manager
	wire *wire.Client
}

var _ provider.Source = (*Client)(nil)

// New returns a client for the Channel Manager API at opts.BaseURL.
func New(opts Options) (*Client, error) {
	raw := opts.BaseURL
	if raw == "" {
		raw = Capabilities.DefaultURL
	}
	base, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("invalid API URL %q: want scheme://host[/prefix]", opts.BaseURL)
	}
	if opts.APIKey == "" || opts.APISecret == "" {
		return nil, fmt.Errorf("the Vonage API key and API secret are both required")
	}
	if !strings.HasSuffix(base.Path, apiPrefix) {
		base.Path += apiPrefix
	}
	base.RawPath = ""
	c := &Client{base: base}
	credential := base64.StdEncoding.EncodeToString([]byte(opts.APIKey + ":" + opts.APISecret))
	c.wire = &wire.Client{
		HTTP:         opts.HTTP,
		Throttle:     opts.Throttle,
		Timeout:      opts.Timeout,
		MaxBodyBytes: opts.MaxBodyBytes,
		MaxPages:     opts.MaxPages,
		Authorize:    func(r *http.Request) { r.Header.Set("Authorization", "Basic "+credential) },
		// The encoded pair is as good as the secret: an API that echoes
		// the Authorization header must not leak it either.
		Secrets:  []string{opts.APISecret, credential},
		APIError: apiError,
	}
	return c, nil
}

// Messaging reads messaging-analytics.
func (c *Client) Messaging(ctx context.Context, q provider.MessagingQuery) ([]provider.MessagingPoint, error) {
	v := dateRange(q.Window)
	v.Set("granularity", string(q.Window.Granularity))
	// The messaging endpoint spells this filter phone_number, the pricing
	// endpoint phone_numbers: both as documented.
	setList(v, "phone_number", q.PhoneNumbers, true)
	setList(v, "country_codes", q.CountryCodes, true)
	setList(v, "product_types", ints(q.ProductTypes), false)
	raw, err := fetchPages[messagingWire](ctx, c, opMessaging, "messaging_analytics", c.endpoint(q.WABAID, opMessaging, v))
	if err != nil {
		return nil, err
	}
	out := make([]provider.MessagingPoint, len(raw))
	for i, w := range raw {
		out[i] = w.point(q.Window.Granularity)
	}
	return out, nil
}

// Pricing reads pricing-analytics. The endpoint has no cost, so q.Cost is
// ignored and Cost is always nil: the cost series are absent, not zero.
func (c *Client) Pricing(ctx context.Context, q provider.PricingQuery) ([]provider.PricingPoint, error) {
	if len(q.Categories) > 0 || len(q.Types) > 0 {
		return nil, fmt.Errorf("%s: filtering by pricing category or type: %w", opPricing, provider.ErrUnsupported)
	}
	v := dateRange(q.Window)
	v.Set("granularity", string(q.Window.Granularity))
	setList(v, "phone_numbers", q.PhoneNumbers, true)
	setList(v, "country_codes", q.CountryCodes, true)
	setList(v, "dimensions", q.Dimensions, true)
	raw, err := fetchPages[pricingWire](ctx, c, opPricing, "pricing_analytics", c.endpoint(q.WABAID, opPricing, v))
	if err != nil {
		return nil, err
	}
	out := make([]provider.PricingPoint, len(raw))
	for i, w := range raw {
		out[i] = w.point(q.Window.Granularity)
	}
	return out, nil
}

// Templates reads template-analytics, ten template IDs a request. The
// granularity is DAILY whatever the window says: "Must be DAILY."
func (c *Client) Templates(ctx context.Context, q provider.TemplateQuery) ([]provider.TemplatePoint, error) {
	var all []provider.TemplatePoint
	for ids := range slices.Chunk(q.TemplateIDs, templateIDsPerRequest) {
		v := dateRange(q.Window)
		v.Set("granularity", string(provider.Day))
		// The document's own link spells the IDs unquoted:
		// template_ids=[458951126288937].
		setList(v, "template_ids", ids, false)
		raw, err := fetchPages[templateWire](ctx, c, opTemplates, "template_analytics", c.endpoint(q.WABAID, opTemplates, v))
		if err != nil {
			return nil, err
		}
		for _, w := range raw {
			all = append(all, w.point())
		}
	}
	return all, nil
}

// Conversations is not offered: the Channel Manager has no conversation
// analytics. The exporter's config turns the family off for Vonage.
func (c *Client) Conversations(context.Context, provider.ConversationQuery) ([]provider.ConversationPoint, error) {
	return nil, fmt.Errorf("conversation analytics: %w (Vonage's Channel Manager has messaging, pricing and template analytics only)", provider.ErrUnsupported)
}

// Calls is not offered: the Channel Manager has no call analytics. The
// exporter's config turns the family off for Vonage.
func (c *Client) Calls(context.Context, provider.CallQuery) ([]provider.CallPoint, error) {
	return nil, fmt.Errorf("call analytics: %w (Vonage's Channel Manager has messaging, pricing and template analytics only)", provider.ErrUnsupported)
}

// PhoneNumbers is not offered by the analytics API: the config lists the
// numbers to split messaging by.
func (c *Client) PhoneNumbers(context.Context, string) ([]string, error) {
	return nil, fmt.Errorf("listing a WABA's phone numbers: %w; list them in messaging.phone_numbers", provider.ErrUnsupported)
}

// TemplateIDs is not offered by the analytics API: the config lists the
// templates to report.
func (c *Client) TemplateIDs(context.Context, string) ([]string, error) {
	return nil, fmt.Errorf("listing a WABA's templates: %w; list them in templates.template_ids", provider.ErrUnsupported)
}

func (c *Client) endpoint(wabaID, op string, query url.Values) *url.URL {
	u := c.base.JoinPath("whatsapp", "wabas", wabaID, op)
	u.RawQuery = query.Encode()
	return u
}

// fetchPages follows the next links from u until the last page and returns
// the entries of _embedded[key] of all pages.
func fetchPages[W any](ctx context.Context, c *Client, op, key string, u *url.URL) ([]W, error) {
	var all []W
	err := c.wire.Pages(ctx, op, c.base, u, func(body []byte) (string, error) {
		var p page
		if err := c.wire.Decode(ctx, op, body, &p); err != nil {
			return "", err
		}
		if entries, ok := p.Embedded[key]; ok {
			var items []W
			if err := c.wire.Decode(ctx, op, entries, &items); err != nil {
				return "", err
			}
			all = append(all, items...)
		}
		return p.next(), nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

// dateRange spells a window as the API takes it: whole days, YYYY-MM-DD.
// The scheduler already asks for whole days (Capabilities.WholeDays); this
// keeps any other window correct too. end is the first midnight at or after
// the window's last instant, so that a partial last day is asked for
// whether the API reads end as inclusive or as exclusive; the scheduler
// drops buckets past its cutoff either way. The span is kept within the 90
// days the API allows by moving start forward: older data is not there to
// be had.
func dateRange(w provider.Window) url.Values {
	start := bucket.Start(w.Start, provider.Day, time.UTC)
	end := bucket.Start(w.End, provider.Day, time.UTC)
	if end.Before(w.End) || !end.After(start) {
		end = bucket.Next(end, provider.Day, time.UTC)
	}
	if end.Sub(start) > history {
		start = end.Add(-history)
	}
	return url.Values{"start": {start.Format(time.DateOnly)}, "end": {end.Format(time.DateOnly)}}
}

// setList adds a list parameter as a JSON array, as the document's examples
// spell them: [ "16505550111" ], or [458951126288937] unquoted for IDs and
// numbers. Empty lists are left out: the API reads a missing filter as all.
func setList(v url.Values, name string, values []string, quote bool) {
	if len(values) == 0 {
		return
	}
	if quote {
		encoded, _ := json.Marshal(values) // a []string always marshals
		v.Set(name, string(encoded))
		return
	}
	v.Set(name, "["+strings.Join(values, ",")+"]")
}

func ints(values []int) []string {
	out := make([]string, len(values))
	for i, n := range values {
		out[i] = strconv.Itoa(n)
	}
	return out
}

// WABA is not offered: the Channel Manager's analytics carry no account
// fields, and no cost that a currency would qualify.
func (c *Client) WABA(context.Context, string) (provider.WABA, error) {
	return provider.WABA{}, fmt.Errorf("reading the WABA's fields: %w", provider.ErrUnsupported)
}
