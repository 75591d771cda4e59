// Package wire holds the HTTP and JSON plumbing shared by the providers: one
// bounded, throttled, observed GET; paging links that cannot lead a credential
// astray; and JSON types that accept the several spellings the APIs use.
package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// Limits that keep one misbehaving API from exhausting the process. They are
// generous: the largest real answers (a month of half-hour buckets with every
// breakdown) are a few megabytes over a handful of pages.
const (
	DefaultMaxBodyBytes = 32 << 20
	DefaultMaxPages     = 200
	maxMessageLen       = 300
)

// Client performs the requests of one configured account.
type Client struct {
	HTTP     *http.Client
	Throttle *provider.Throttle
	// Timeout bounds one request, from sending it to reading its last byte.
	Timeout      time.Duration
	MaxBodyBytes int64
	// Authorize adds the account's credentials to a request.
	Authorize func(*http.Request)
	// Secrets are removed from any API text that reaches an error.
	Secrets []string
	// APIError turns a non-2xx answer into the provider's typed error; it
	// may return nil to fall back to a generic HTTP error.
	APIError func(status int, header http.Header, body []byte) *provider.APIError
	// Inspect sees every answer's headers, for rate-limit usage reports.
	Inspect func(obs provider.Observer, status int, header http.Header)
	// MaxPages caps the pages Pages follows; DefaultMaxPages when 0.
	MaxPages int
	// PrepareNext adjusts a checked paging link before it is followed,
	// e.g. to sign it as the first request was.
	PrepareNext func(*url.URL)
}

// Pages fetches first and then every page its answers link to. Each body
// goes to page, which keeps what it wants and returns the page's next link
// ("" on the last page). The guards every paged API needs live here, once: a
// link must stay on base's scheme and host (foreign_next_url), and an API
// that never stops paging fails as too_many_pages.
func (c *Client) Pages(ctx context.Context, op string, base, first *url.URL, page func(body []byte) (next string, err error)) error {
	maxPages := c.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	u := first
	for range maxPages {
		body, err := c.Get(ctx, op, u)
		if err != nil {
			return err
		}
		next, err := page(body)
		if err != nil || next == "" {
			return err
		}
		if u, err = NextPage(base, next); err != nil {
			return c.Fail(ctx, &provider.APIError{Op: op, Code: provider.CodeForeignNextURL, Message: err.Error()})
		}
		if c.PrepareNext != nil {
			c.PrepareNext(u)
		}
	}
	return c.Fail(ctx, &provider.APIError{Op: op, Code: provider.CodeTooManyPages,
		Message: fmt.Sprintf("more than %d pages", maxPages)})
}

// Get fetches u and returns the body of a 2xx answer. The outcome of every
// request sent is reported to the context's Observer exactly once; a wait for
// the throttle that ends with the context (shutdown) sent nothing and is not
// reported.
func (c *Client) Get(ctx context.Context, op string, u *url.URL) ([]byte, error) {
	obs := provider.ObserverFrom(ctx)
	release, err := c.Throttle.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: waiting for the request throttle: %w", op, err)
	}
	defer release()

	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: building request: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.Authorize != nil {
		c.Authorize(req)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		obs.ObserveResponse(provider.NoResponse)
		return nil, c.fail(obs, transportError(ctx, op, err))
	}
	defer resp.Body.Close()
	obs.ObserveResponse(strconv.Itoa(resp.StatusCode))
	if c.Inspect != nil {
		c.Inspect(obs, resp.StatusCode, resp.Header)
	}

	limit := c.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, c.fail(obs, transportError(ctx, op, err))
	}
	if int64(len(body)) > limit {
		return nil, c.fail(obs, &provider.APIError{
			Op: op, Status: resp.StatusCode, Code: provider.CodeResponseTooLarge,
			Message: fmt.Sprintf("response body larger than %d bytes", limit),
		})
	}
	if resp.StatusCode/100 == 2 {
		return body, nil
	}

	var apiErr *provider.APIError
	if c.APIError != nil {
		apiErr = c.APIError(resp.StatusCode, resp.Header, body)
	}
	if apiErr == nil {
		apiErr = &provider.APIError{Code: provider.HTTPStatusCode(resp.StatusCode)}
	}
	apiErr.Op = op
	apiErr.Status = resp.StatusCode
	if resp.StatusCode == http.StatusTooManyRequests {
		apiErr.RateLimited = true
	}
	if resp.StatusCode >= 500 {
		apiErr.Transient = true
	}
	if apiErr.RetryAfter == 0 {
		apiErr.RetryAfter = RetryAfter(resp.Header)
	}
	return nil, c.fail(obs, apiErr)
}

// Decode unmarshals a body into v; a body that does not fit is reported as a
// malformed response, naming the offending field where encoding/json can.
func (c *Client) Decode(ctx context.Context, op string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return c.fail(provider.ObserverFrom(ctx), &provider.APIError{
			Op: op, Code: provider.CodeMalformedResponse, Message: describeJSONError(err),
		})
	}
	return nil
}

// Fail reports a failure the provider found itself (a foreign paging link, a
// page cap) and returns it.
func (c *Client) Fail(ctx context.Context, err *provider.APIError) error {
	return c.fail(provider.ObserverFrom(ctx), err)
}

func (c *Client) fail(obs provider.Observer, err *provider.APIError) error {
	err.Message = c.Redact(err.Message)
	obs.ObserveError(err.Code)
	return err
}

// Redact removes the client's secrets from s and shortens it to a log line.
func (c *Client) Redact(s string) string {
	for _, secret := range c.Secrets {
		if secret == "" {
			continue
		}
		// An API that echoes the request URL back in its error text
		// shows the secret query-escaped.
		for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
			s = strings.ReplaceAll(s, form, "<redacted>")
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxMessageLen {
		s = s[:maxMessageLen] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// transportError classifies a request that got no complete answer. The
// error text of net/http names the URL; it is deliberately dropped.
func transportError(ctx context.Context, op string, err error) *provider.APIError {
	var netErr net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return &provider.APIError{Op: op, Code: provider.CodeTimeout, Message: "request timed out", Transient: true, Err: context.DeadlineExceeded}
	case errors.Is(err, context.Canceled):
		return &provider.APIError{Op: op, Code: provider.CodeConnection, Message: "request canceled", Err: context.Canceled}
	}
	msg := "connection failed"
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		msg = "connection failed: " + urlErr.Err.Error()
	}
	return &provider.APIError{Op: op, Code: provider.CodeConnection, Message: msg, Transient: true}
}

func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Sprintf("malformed response: field %s is a JSON %s, want %s", field, typeErr.Value, typeErr.Type)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("malformed response: invalid JSON at byte %d: %v", syntaxErr.Offset, err)
	}
	return "malformed response: " + err.Error()
}

// RetryAfter reads an HTTP Retry-After header, given in seconds or as an
// HTTP date, capped at provider.MaxUpstreamWait.
func RetryAfter(h http.Header) time.Duration { return retryAfter(h, time.Now()) }

func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	secs, err := strconv.Atoi(v)
	if errors.Is(err, strconv.ErrRange) {
		err = nil // more seconds than an int holds: Atoi clamps, and the cap applies
	}
	if err == nil && secs > 0 {
		// Capped before the multiplication, which could overflow.
		return min(time.Duration(min(secs, int(provider.MaxUpstreamWait/time.Second)))*time.Second, provider.MaxUpstreamWait)
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, provider.MaxUpstreamWait)
		}
	}
	return 0
}

// NextPage resolves a paging link and checks that following it cannot send the
// account's credentials anywhere but the configured API: it must use the
// same scheme, host and port as base. A query-string access_token, which the
// Graph API echoes into its links when a token was sent that way, is
// removed; the credential travels in the Authorization header only.
func NextPage(base *url.URL, next string) (*url.URL, error) {
	u, err := base.Parse(next)
	if err != nil {
		return nil, fmt.Errorf("unparsable paging link")
	}
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return nil, fmt.Errorf("paging link points to %s://%s, outside the configured API", u.Scheme, u.Hostname())
	}
	q := u.Query()
	if q.Has("access_token") {
		q.Del("access_token")
		u.RawQuery = q.Encode()
	}
	return u, nil
}
