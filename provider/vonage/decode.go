package vonage

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/internal/wire"
)

// page is one answer of an analytics endpoint: a HAL body whose entries sit
// in _embedded under the endpoint's name, and whose next page is linked
// either Graph-style (paging.next: messaging and pricing examples) or
// HAL-style (_links.next.href).
type page struct {
	Embedded map[string]json.RawMessage `json:"_embedded"`
	Paging   *wire.Paging               `json:"paging"`
	Links    struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
}

func (p *page) next() string {
	if p.Paging != nil && p.Paging.Next != "" {
		return p.Paging.Next
	}
	if p.Links.Next != nil {
		return p.Links.Next.Href
	}
	return ""
}

// The entries of each endpoint. Counts are wire.Number, JSON numbers or
// numeric strings; a pointer, so that a count left out stays unknown.

// messagingWire is one entry of messaging_analytics. Its start and end are
// Unix seconds as strings ("1543543200").
type messagingWire struct {
	Start     wire.Time    `json:"start"`
	End       wire.Time    `json:"end"`
	Sent      *wire.Number `json:"sent"`
	Delivered *wire.Number `json:"delivered"`
}

func (w messagingWire) point(g provider.Granularity) provider.MessagingPoint {
	return provider.MessagingPoint{
		Start: w.Start.Time, End: bucketEnd(w.Start.Time, w.End.Time, g),
		Sent: w.Sent.Value(), Delivered: w.Delivered.Value(),
	}
}

// pricingWire is one entry of pricing_analytics. There is no cost field.
type pricingWire struct {
	Start           wire.Time    `json:"start"`
	End             wire.Time    `json:"end"`
	Volume          *wire.Number `json:"volume"`
	PhoneNumber     string       `json:"phone_number"`
	Country         string       `json:"country"`
	Tier            string       `json:"tier"`
	PricingType     string       `json:"pricing_type"`
	PricingCategory string       `json:"pricing_category"`
}

func (w pricingWire) point(g provider.Granularity) provider.PricingPoint {
	return provider.PricingPoint{
		Start: w.Start.Time, End: bucketEnd(w.Start.Time, w.End.Time, g),
		PhoneNumber: w.PhoneNumber, Country: w.Country,
		Category: w.PricingCategory, Type: w.PricingType, Tier: w.Tier,
		Volume: w.Volume.Value(),
	}
}

// templateWire is one entry of template_analytics. clicked is a plain
// number, all buttons together, where the Graph API lists each button.
type templateWire struct {
	TemplateID wire.ID      `json:"template_id"`
	Start      wire.Time    `json:"start"`
	End        wire.Time    `json:"end"`
	Sent       *wire.Number `json:"sent"`
	Delivered  *wire.Number `json:"delivered"`
	Read       *wire.Number `json:"read"`
	Clicked    *wire.Number `json:"clicked"`
}

func (w templateWire) point() provider.TemplatePoint {
	p := provider.TemplatePoint{
		TemplateID: string(w.TemplateID),
		Start:      w.Start.Time, End: bucketEnd(w.Start.Time, w.End.Time, provider.Day),
		Sent: w.Sent.Value(), Delivered: w.Delivered.Value(), Read: w.Read.Value(),
	}
	if w.Clicked != nil {
		// One total: the provider contract's single entry with empty
		// button type and content.
		p.Clicked = []provider.ButtonClicks{{Count: float64(*w.Clicked)}}
	}
	return p
}

// bucketEnd is when a bucket really ends. The document's template and
// pricing examples label a day by its date twice ("start" and "end" both
// 2024-11-11T00:00:00Z): the end is the last day the bucket covers, not the
// instant it closes. The scheduler needs the instant, to tell complete
// buckets from the one still filling, so an end that is not after the start,
// or a midnight inside the bucket, is read as that inclusive last day.
func bucketEnd(start, end time.Time, g provider.Granularity) time.Time {
	next := bucket.Next(start, g, time.UTC)
	switch {
	case start.IsZero():
		return end
	case !end.After(start):
		return next
	case g != provider.HalfHour && end.Before(next) && end.Equal(bucket.Start(end, provider.Day, time.UTC)):
		return end.AddDate(0, 0, 1)
	}
	return end
}

// problem is an RFC 7807 problem body, the form in which Vonage's APIs
// report errors.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// explanations say what a status means for the analytics endpoints; 403 and
// 404 are the document's own ("API key is not linked to this WABA ID",
// "WABA ID is invalid").
var explanations = map[int]string{
	http.StatusBadRequest:          "Vonage rejected the request parameters",
	http.StatusUnauthorized:        "Vonage rejected the credentials: check api_key and api_secret",
	http.StatusForbidden:           "the API key is not linked to this WABA ID",
	http.StatusNotFound:            "the WABA ID is invalid (resource not found)",
	http.StatusUnprocessableEntity: "Vonage rejected the request parameters",
	http.StatusTooManyRequests:     "Vonage rate limit reached",
}

// apiError turns an error answer into the exporter's typed error. The code
// is the HTTP status (http_403), since Vonage has no numeric error codes;
// wire marks 429 as rate limited (with Retry-After) and 5xx as transient.
func apiError(status int, _ http.Header, body []byte) *provider.APIError {
	msg := explanations[status]
	if msg == "" {
		msg = "Vonage answered " + http.StatusText(status)
		if status >= 500 {
			msg = "Vonage server error (" + http.StatusText(status) + ")"
		}
	}
	var p problem
	if json.Unmarshal(body, &p) == nil {
		var said []string
		for _, s := range []string{p.Title, p.Detail} {
			if s = strings.TrimSpace(s); s != "" {
				said = append(said, s)
			}
		}
		if len(said) > 0 {
			msg += "; Vonage says: " + strings.Join(said, ": ")
		}
	}
	return &provider.APIError{Code: provider.HTTPStatusCode(status), Message: msg}
}
