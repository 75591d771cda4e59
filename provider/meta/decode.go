package meta

import (
	"cmp"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/internal/wire"
)

// page is one answer of an analytics field or edge. The documents show three
// shapes, and all three reach us:
//   - analytics: {"analytics": {"data_points": [...]}} with no data wrapper;
//   - conversation_analytics, pricing_analytics: {"<field>": {"data": [{"data_points": [...]}]}};
//   - template_analytics, and any paging link we follow: {"data": [{"data_points": [...]}], "paging": {...}}.
type page[P any] struct {
	DataPoints []P `json:"data_points"`
	Data       []struct {
		DataPoints []P `json:"data_points"`
	} `json:"data"`
	Paging *wire.Paging `json:"paging"`
}

func (p *page[P]) points() []P {
	all := p.DataPoints
	for _, d := range p.Data {
		all = append(all, d.DataPoints...)
	}
	return all
}

func (p *page[P]) next() string {
	if p.Paging == nil {
		return ""
	}
	return p.Paging.Next
}

// The wire forms of the data points. Every value is a pointer: a field the
// API leaves out is unknown, not zero. Counts and costs are wire.Number,
// which takes them as JSON numbers or as numeric strings.

type messagingWire struct {
	Start     wire.Time    `json:"start"`
	End       wire.Time    `json:"end"`
	Sent      *wire.Number `json:"sent"`
	Delivered *wire.Number `json:"delivered"`
}

type conversationWire struct {
	Start                 wire.Time    `json:"start"`
	End                   wire.Time    `json:"end"`
	Conversation          *wire.Number `json:"conversation"`
	PhoneNumber           string       `json:"phone_number"`
	Country               string       `json:"country"`
	ConversationType      string       `json:"conversation_type"`
	ConversationDirection string       `json:"conversation_direction"`
	ConversationCategory  string       `json:"conversation_category"`
	Cost                  *wire.Number `json:"cost"`
}

type pricingWire struct {
	Start           wire.Time    `json:"start"`
	End             wire.Time    `json:"end"`
	Volume          *wire.Number `json:"volume"`
	Cost            *wire.Number `json:"cost"`
	PhoneNumber     string       `json:"phone_number"`
	Country         string       `json:"country"`
	Tier            string       `json:"tier"`
	PricingType     string       `json:"pricing_type"`
	PricingCategory string       `json:"pricing_category"`
}

type templateWire struct {
	TemplateID wire.ID      `json:"template_id"`
	Start      wire.Time    `json:"start"`
	End        wire.Time    `json:"end"`
	Sent       *wire.Number `json:"sent"`
	Delivered  *wire.Number `json:"delivered"`
	Read       *wire.Number `json:"read"`
	// The document's text says click entries have "a type and value";
	// its example, like the API, says count. Both are read, and an entry
	// with neither is left out rather than reported as 0 clicks.
	Clicked []struct {
		Type          string       `json:"type"`
		ButtonContent string       `json:"button_content"`
		Count         *wire.Number `json:"count"`
		Value         *wire.Number `json:"value"`
	} `json:"clicked"`
	Cost []struct {
		Type  string       `json:"type"`
		Value *wire.Number `json:"value"`
	} `json:"cost"`
}

func (w messagingWire) point() provider.MessagingPoint {
	return provider.MessagingPoint{Start: w.Start.Time, End: w.End.Time, Sent: w.Sent.Value(), Delivered: w.Delivered.Value()}
}

func (w conversationWire) point() provider.ConversationPoint {
	return provider.ConversationPoint{
		Start: w.Start.Time, End: w.End.Time,
		PhoneNumber: w.PhoneNumber, Country: w.Country,
		Category: w.ConversationCategory, Type: w.ConversationType, Direction: w.ConversationDirection,
		Conversations: w.Conversation.Value(), Cost: w.Cost.Value(),
	}
}

func (w pricingWire) point() provider.PricingPoint {
	return provider.PricingPoint{
		Start: w.Start.Time, End: w.End.Time,
		PhoneNumber: w.PhoneNumber, Country: w.Country,
		Category: w.PricingCategory, Type: w.PricingType, Tier: w.Tier,
		Volume: w.Volume.Value(), Cost: w.Cost.Value(),
	}
}

func (w templateWire) point() provider.TemplatePoint {
	p := provider.TemplatePoint{
		TemplateID: string(w.TemplateID), Start: w.Start.Time, End: w.End.Time,
		Sent: w.Sent.Value(), Delivered: w.Delivered.Value(), Read: w.Read.Value(),
	}
	for _, c := range w.Clicked {
		count := c.Count
		if count == nil {
			count = c.Value
		}
		if count != nil {
			p.Clicked = append(p.Clicked, provider.ButtonClicks{Type: c.Type, Content: c.ButtonContent, Count: float64(*count)})
		}
	}
	for _, c := range w.Cost {
		if c.Value != nil {
			p.Cost = append(p.Cost, provider.TemplateCost{Type: c.Type, Value: float64(*c.Value)})
		}
	}
	return p
}

// graphErrorBody is the Graph API's error envelope
// (https://developers.facebook.com/docs/graph-api/guides/error-handling; is_transient from
// Meta's OpenAPI description, https://github.com/facebook/openapi/blob/main/business-messaging-api_v23.0.yaml).
type graphErrorBody struct {
	Error *struct {
		Message        string `json:"message"`
		Type           string `json:"type"`
		Code           int    `json:"code"`
		ErrorSubcode   int    `json:"error_subcode"`
		ErrorUserTitle string `json:"error_user_title"`
		ErrorUserMsg   string `json:"error_user_msg"`
		IsTransient    bool   `json:"is_transient"`
	} `json:"error"`
}

// Graph error codes that mean "slow down": 4 application, 17 user/account,
// 32 page, 613 custom rate limit, 341 application limit reached
// (https://developers.facebook.com/docs/graph-api/guides/error-handling,
// https://developers.facebook.com/docs/graph-api/overview/rate-limiting/), 80007 WABA rate limit
// (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes) and 80008 too
// many calls to this WABA (Meta's message template reference,
// https://developers.facebook.com/docs/graph-api/reference/whats-app-business-hsm).
var rateLimitCodes = map[int]bool{4: true, 17: true, 32: true, 341: true, 613: true, 80007: true, 80008: true}

// Of those, 4 (application request limit) and 341 (application limit
// reached) are the app's own budget, which every WABA the app reads shares:
// the WABA that sees one is not the only one that should slow down.
var appLimitCodes = map[string]bool{"4": true, "341": true}

// Codes 1 and 2 are Graph's "unknown error" and "service temporarily
// unavailable": retry.
var transientCodes = map[int]bool{1: true, 2: true}

// graphError turns a non-2xx Graph answer into a typed error, or returns nil
// when the body is not a Graph error (a proxy's HTML page, say).
func graphError(status int, header http.Header, body []byte) *provider.APIError {
	var envelope graphErrorBody
	if err := json.Unmarshal(body, &envelope); err != nil || envelope.Error == nil {
		return nil
	}
	e := envelope.Error
	msg := e.Message
	if e.ErrorUserTitle != "" && !strings.Contains(msg, e.ErrorUserTitle) {
		msg = e.ErrorUserTitle + ": " + msg
	}
	code := strconv.Itoa(e.Code)
	if e.Code == 0 {
		// An envelope without a code (some proxies and BSPs answer so)
		// would otherwise report the error code "0".
		code = provider.HTTPStatusCode(status)
	}
	apiErr := &provider.APIError{
		Code:        code,
		Subcode:     e.ErrorSubcode,
		Message:     msg,
		RateLimited: rateLimitCodes[e.Code],
		Transient:   e.IsTransient || transientCodes[e.Code],
	}
	if apiErr.RateLimited {
		apiErr.RetryAfter = regainAccess(header)
	}
	if costUnavailable(e.ErrorUserTitle, e.Message, e.ErrorUserMsg) {
		apiErr.Err = provider.ErrCostUnavailable
	}
	return apiErr
}

// costUnavailable recognises the exception that "Analytics" documents for
// businesses billed through a partner: title "Cost not available", message
// "Cost is no longer shown for businesses who bill through a partner". Its
// error code is not documented, so the texts are matched.
func costUnavailable(texts ...string) bool {
	for _, t := range texts {
		t = strings.ToLower(t)
		if strings.Contains(t, "cost not available") || strings.Contains(t, "cost is no longer shown") {
			return true
		}
	}
	return false
}

// bucUsage is one entry of X-Business-Use-Case-Usage; the first three
// figures are percentages, the last is minutes
// (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/).
type bucUsage struct {
	Type                        string   `json:"type"`
	CallCount                   *float64 `json:"call_count"`
	TotalCPUTime                *float64 `json:"total_cputime"`
	TotalTime                   *float64 `json:"total_time"`
	EstimatedTimeToRegainAccess *float64 `json:"estimated_time_to_regain_access"`
}

// usageReports reads Graph's usage headers. Headers that do not parse are
// ignored: they are advisory, and their absence does not mean zero usage.
func usageReports(header http.Header) []provider.Usage {
	var reports []provider.Usage
	if v := header.Get("X-Business-Use-Case-Usage"); v != "" {
		var byObject map[string][]bucUsage
		if json.Unmarshal([]byte(v), &byObject) == nil {
			type key struct{ object, typ string }
			byKey := map[key]provider.Usage{}
			for object, entries := range byObject {
				if !isID(object) {
					object = "" // not an object ID: whose budget is unknown
				}
				for _, u := range entries {
					r := provider.Usage{
						Type:         u.Type,
						Object:       object,
						CallCount:    percent(u.CallCount),
						TotalCPUTime: percent(u.TotalCPUTime),
						TotalTime:    percent(u.TotalTime),
					}
					if u.EstimatedTimeToRegainAccess != nil && *u.EstimatedTimeToRegainAccess > 0 {
						// Capped before the conversion, which could overflow.
						minutes := min(*u.EstimatedTimeToRegainAccess, provider.MaxUpstreamWait.Minutes())
						r.RegainAccess = time.Duration(minutes * float64(time.Minute))
					}
					if r.Type == "" {
						r.Type = "unknown"
					}
					k := key{object, r.Type}
					byKey[k] = worst(byKey[k], r)
				}
			}
			// One report per object and budget type, in a stable order:
			// a gauge must not flap with map order.
			for _, k := range slices.SortedFunc(maps.Keys(byKey), func(a, b key) int {
				return cmp.Or(strings.Compare(a.object, b.object), strings.Compare(a.typ, b.typ))
			}) {
				reports = append(reports, byKey[k])
			}
		}
	}
	if v := header.Get("X-App-Usage"); v != "" {
		var u bucUsage
		if json.Unmarshal([]byte(v), &u) == nil {
			reports = append(reports, provider.Usage{
				Type: "app", CallCount: percent(u.CallCount), TotalCPUTime: percent(u.TotalCPUTime), TotalTime: percent(u.TotalTime),
			})
		}
	}
	return reports
}

// worst merges two reports of the same budget type, keeping the higher use
// and the longer wait.
func worst(a, b provider.Usage) provider.Usage {
	if a.Type == "" {
		return b
	}
	a.CallCount = max(a.CallCount, b.CallCount)
	a.TotalCPUTime = max(a.TotalCPUTime, b.TotalCPUTime)
	a.TotalTime = max(a.TotalTime, b.TotalTime)
	a.RegainAccess = max(a.RegainAccess, b.RegainAccess)
	return a
}

func percent(v *float64) float64 {
	if v == nil {
		return -1
	}
	return *v
}

// regainAccess is the longest wait any usage report asks for.
func regainAccess(header http.Header) time.Duration {
	var longest time.Duration
	for _, u := range usageReports(header) {
		longest = max(longest, u.RegainAccess)
	}
	return longest
}

// appLimit reports an answer that says the app's budget is spent: an error
// with an app-wide code, or X-App-Usage at 100% of any of its figures.
func appLimit(header http.Header, apiErr *provider.APIError) (wait time.Duration, limited bool) {
	if apiErr != nil && appLimitCodes[apiErr.Code] {
		return apiErr.RetryAfter, true
	}
	for _, u := range usageReports(header) {
		if u.Type == "app" && max(u.CallCount, u.TotalCPUTime, u.TotalTime) >= 100 {
			return u.RegainAccess, true
		}
	}
	return 0, false
}

// inspect reports what every answer's headers say: the rate-limit usage, and
// the Graph API version that served it (facebook-api-version, which Meta's
// own SDK reads as "the version of Graph that returned this response",
// https://github.com/facebookarchive/php-graph-sdk/blob/master/src/Facebook/FacebookResponse.php):
// a request for a version Meta no longer serves is answered in another one.
func inspect(obs provider.Observer, _ int, header http.Header) {
	for _, u := range usageReports(header) {
		obs.ObserveUsage(u)
	}
	provider.ObserveVersion(obs, strings.TrimSpace(header.Get("Facebook-API-Version")))
}
