package provider

import (
	"fmt"
	"strings"
	"time"
)

// MaxUpstreamWait caps any wait an API asks for (Retry-After, Graph's
// estimated_time_to_regain_access). Those values are untrusted input: a
// broken proxy's Retry-After of a year must not park an account for a year.
const MaxUpstreamWait = 24 * time.Hour

// MaxResponseBytes is the largest response body the clients read; a larger
// one fails as CodeResponseTooLarge. The largest real answers (a month of
// half-hour buckets with every breakdown) are a few megabytes.
const MaxResponseBytes = 32 << 20

// Error codes for failures that carry no API error code of their own. They are
// the values of the exporter's error_code label next to the API's own codes
// (Graph's "4", "190", "80007", ...), so they must stay stable.
const (
	CodeTimeout           = "timeout"            // the per-request timeout ended the request
	CodeConnection        = "connection"         // no HTTP response: refused, reset, DNS, TLS
	CodeMalformedResponse = "malformed_response" // the body is not the JSON the API documents
	CodeResponseTooLarge  = "response_too_large" // the body exceeded the size cap
	CodeTooManyPages      = "too_many_pages"     // paging went on past the page cap
	CodeForeignNextURL    = "foreign_next_url"   // a paging link pointed away from the configured API
)

// HTTPStatusCode is the error code of an HTTP error whose body names no API
// error code, such as a proxy's 502 page.
func HTTPStatusCode(status int) string { return fmt.Sprintf("http_%d", status) }

// APIError is a failed exchange with an analytics API. Its text never
// contains a URL or a credential: URLs can carry secrets (a Graph paging link
// may hold an access_token) and error texts end up in logs.
type APIError struct {
	// Op names what was being fetched, e.g. "conversation_analytics".
	Op string
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Code is the API's error code ("4", "190") or one of the Code*
	// constants; it becomes the error_code label.
	Code    string
	Subcode int
	// Message is the API's own explanation, with credentials removed.
	Message string
	// RateLimited means the API asked us to slow down; RetryAfter, when
	// positive, is how long it said to wait, at most MaxUpstreamWait.
	RateLimited bool
	RetryAfter  time.Duration
	// Transient means the same request may succeed later without any change
	// on our side (5xx, timeouts, Graph's is_transient).
	Transient bool
	// Err is the underlying cause, for errors.Is: ErrCostUnavailable, a
	// context error, ...
	Err error
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	switch {
	case e.Message != "":
		b.WriteString(e.Message)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString("request failed")
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (code %s", e.Code)
		if e.Subcode != 0 {
			fmt.Fprintf(&b, ", subcode %d", e.Subcode)
		}
		if e.Status != 0 {
			fmt.Fprintf(&b, ", HTTP %d", e.Status)
		}
		b.WriteString(")")
	} else if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.RateLimited && e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }
