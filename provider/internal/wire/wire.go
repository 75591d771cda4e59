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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// Limits that keep one misbehaving API from exhausting the process. They are
// generous: the largest real answers (a month of half-hour buckets with every
// breakdown) are a few megabytes over a handful of pages.
const (
	DefaultMaxBodyBytes = provider.MaxResponseBytes
	DefaultMaxPages     = 200
	maxMessageLen       = 300
)

// Client performs the requests of one configured account.
type Client struct {
	HTTP     *http.Client
	Throttle *provider.AccountThrottle
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
	// AppLimit reports whether an answer says the app's budget on the API
	// is spent, for every account of the app, and how long until it
	// returns when it says so. apiErr is nil for the headers alone, and
	// for a 2xx answer. The throttle then holds back every account's
	// requests to the host. Nil for an API without app-wide limits.
	AppLimit func(header http.Header, apiErr *provider.APIError) (wait time.Duration, limited bool)
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
	return c.pages(ctx, op, base, first, 0, page)
}

// PagesAfter goes on from a paging link that an answer already read gave
// (the next page of one field of a request for several): the same guards
// apply, and the pages already read count against the cap.
func (c *Client) PagesAfter(ctx context.Context, op string, base *url.URL, next string, read int, page func(body []byte) (next string, err error)) error {
	u, err := NextPage(base, next)
	if err != nil {
		return c.Fail(ctx, &provider.APIError{Op: op, Code: provider.CodeForeignNextURL, Message: err.Error()})
	}
	if c.PrepareNext != nil {
		c.PrepareNext(u)
	}
	return c.pages(ctx, op, base, u, read, page)
}

func (c *Client) pages(ctx context.Context, op string, base, first *url.URL, read int, page func(body []byte) (next string, err error)) error {
	maxPages := c.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	u := first
	for range max(maxPages-read, 0) {
		body, release, err := c.get(ctx, op, u)
		if err != nil {
			return err
		}
		// The body counts against the bytes in flight until its page
		// has been read out of it.
		next, err := page(body)
		release()
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
// reported. The body no longer counts against the throttle's bound on bytes
// in flight once Get returns; Pages keeps it counted until its page is done.
func (c *Client) Get(ctx context.Context, op string, u *url.URL) ([]byte, error) {
	body, release, err := c.get(ctx, op, u)
	release()
	return body, err
}

// get is Get, and returns the function that lets the body's bytes go.
func (c *Client) get(ctx context.Context, op string, u *url.URL) (body []byte, release func(), err error) {
	release = func() {}
	obs := provider.ObserverFrom(ctx)
	turn, err := c.Throttle.Acquire(ctx, u)
	if err != nil {
		return nil, release, fmt.Errorf("%s: waiting for the request throttle: %w", op, err)
	}
	var outcome provider.Outcome
	defer func() { turn.End(outcome) }()

	// A request that the caller gave up on (the exporter shutting down, a
	// reload stopping the account) failed for no fault of the API: it is
	// neither counted nor held against the host.
	caller := ctx
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		outcome.NoAnswer = true
		return nil, release, fmt.Errorf("%s: building request: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.Authorize != nil {
		c.Authorize(req)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil && caller.Err() != nil {
		return nil, release, fmt.Errorf("%s: %w", op, caller.Err())
	}
	if err != nil {
		outcome.NoAnswer = true
		obs.ObserveResponse(provider.NoResponse)
		return nil, release, c.fail(obs, transportError(ctx, op, err))
	}
	defer resp.Body.Close()
	obs.ObserveResponse(strconv.Itoa(resp.StatusCode))
	if c.Inspect != nil {
		c.Inspect(obs, resp.StatusCode, resp.Header)
	}
	// The answer's headers are in: whatever the body holds, the app-wide
	// limit they may report holds.
	c.appLimit(&outcome, resp.Header, nil)

	body, release, apiErr := c.readBody(ctx, op, resp)
	if apiErr != nil && caller.Err() != nil {
		return nil, release, fmt.Errorf("%s: %w", op, caller.Err())
	}
	if apiErr != nil {
		outcome.NoAnswer = apiErr.Code == provider.CodeTimeout || apiErr.Code == provider.CodeConnection
		return nil, release, c.fail(obs, apiErr)
	}
	if resp.StatusCode/100 == 2 {
		return body, release, nil
	}

	if c.APIError != nil {
		apiErr = c.APIError(resp.StatusCode, resp.Header, body)
	}
	release()
	release = func() {}
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
	c.appLimit(&outcome, resp.Header, apiErr)
	return nil, release, c.fail(obs, apiErr)
}

// appLimit notes in o an answer that says the app-wide budget is spent.
func (c *Client) appLimit(o *provider.Outcome, header http.Header, apiErr *provider.APIError) {
	if c.AppLimit == nil {
		return
	}
	if wait, limited := c.AppLimit(header, apiErr); limited {
		o.AppLimited = true
		o.RegainAccess = max(o.RegainAccess, wait)
	}
}

// readBody reads the body, at most the client's cap, holding its bytes
// against the throttle's bound first, until release. A body of known length
// holds that many bytes. One of unknown length holds the whole cap while it
// is read, and then only what it turned out to be: holding a little and
// growing later could leave every reader holding a part and waiting for more.
// The error is what the API did: too large a body, or one that broke off or
// outlasted the timeout.
func (c *Client) readBody(ctx context.Context, op string, resp *http.Response) (body []byte, release func(), apiErr *provider.APIError) {
	limit := c.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	tooLarge := &provider.APIError{
		Op: op, Status: resp.StatusCode, Code: provider.CodeResponseTooLarge,
		Message: fmt.Sprintf("response body larger than %d bytes", limit),
	}
	if resp.ContentLength > limit {
		return nil, func() {}, tooLarge
	}
	hold := c.Throttle.Bytes()
	fail := func(err error) ([]byte, func(), *provider.APIError) {
		hold.Release()
		return nil, func() {}, transportError(ctx, op, err)
	}

	if n := resp.ContentLength; n >= 0 {
		if err := hold.Grow(ctx, n); err != nil {
			return fail(err)
		}
		body = make([]byte, n)
		if _, err := io.ReadFull(resp.Body, body); err != nil {
			return fail(err)
		}
		return body, hold.Release, nil
	}
	if err := hold.Grow(ctx, limit); err != nil {
		return fail(err)
	}
	body, err := readUpTo(resp.Body, nil, limit)
	if err != nil {
		return fail(err)
	}
	if int64(len(body)) == limit {
		// One byte more, read aside, tells a body of exactly the cap
		// from a larger one without holding more than the cap.
		var extra [1]byte
		if n, _ := io.ReadFull(resp.Body, extra[:]); n > 0 {
			hold.Release()
			return nil, func() {}, tooLarge
		}
	}
	hold.Shrink(int64(len(body)))
	return body, hold.Release, nil
}

// readUpTo appends r's bytes to buf until EOF or until buf holds limit
// bytes, growing buf no further than limit.
func readUpTo(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(int64(max(cap(buf), 512)), limit-int64(len(buf)))))
		}
		n, err := r.Read(buf[len(buf):min(int64(cap(buf)), limit)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
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
