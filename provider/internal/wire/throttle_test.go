package wire

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// The client's side of the throttle, in synctest bubbles (virtual time, and
// synctest.Wait to see who is blocked) with an in-memory transport.

// transport answers each request with respond's answer, without a network.
type transport func(r *http.Request) *http.Response

func (f transport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp := f(r)
	resp.Request = r
	return resp, nil
}

func answer(status int, header http.Header, body string, knownLength bool) *http.Response {
	n := int64(-1)
	if knownLength {
		n = int64(len(body))
	}
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body)), ContentLength: n}
}

// TestBytesInFlight: the bodies held at once, from reading to the end of
// their page's decoding, stay within the throttle's bound, however many
// requests are in flight; once read, a body of unknown length holds only
// what it turned out to be, so small ones are not held up for long by the
// room a large one might have needed.
func TestBytesInFlight(t *testing.T) {
	const bound, bodyCap = 3 << 20, 2 << 20
	tests := []struct {
		name        string
		size        int
		knownLength bool
		wantAtOnce  int // pages being read out at once, of 10
	}{
		{"1 MiB bodies of known length", 1 << 20, true, 3},
		// Each needs room for the whole cap while it is read.
		{"1 MiB bodies of unknown length", 1 << 20, false, 2},
		{"small bodies of unknown length", 1 << 10, false, 10},
		{"bodies at the cap", bodyCap, true, 1},
		{"bodies at the cap, of unknown length", bodyCap, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				th := provider.NewThrottle(provider.ThrottleOptions{RequestsPerSecond: 1000, Burst: 100, MaxConcurrent: 100, MaxBytesInFlight: bound})
				body := `{"x":"` + strings.Repeat("x", tt.size-8) + `"}`
				var mu sync.Mutex
				reading, most, done := 0, 0, 0
				proceed := make(chan struct{})
				var wg sync.WaitGroup
				for i := range 10 {
					c := newClient()
					c.MaxBodyBytes = bodyCap
					c.HTTP = &http.Client{Transport: transport(func(*http.Request) *http.Response {
						return answer(http.StatusOK, nil, body, tt.knownLength)
					})}
					c.Throttle = th.Account(fmt.Sprint(i), 0)
					wg.Go(func() {
						u := mustURL(t, "https://graph.example.com/v21.0/1")
						err := c.Pages(context.Background(), "op", u, u, func(b []byte) (string, error) {
							if len(b) != len(body) {
								t.Errorf("page of %d bytes, want %d", len(b), len(body))
							}
							mu.Lock()
							reading++
							most = max(most, reading)
							mu.Unlock()
							<-proceed
							mu.Lock()
							reading--
							done++
							mu.Unlock()
							return "", nil
						})
						if err != nil {
							t.Error(err)
						}
					})
				}
				synctest.Wait()
				mu.Lock()
				atOnce := reading
				mu.Unlock()
				if atOnce != tt.wantAtOnce {
					t.Errorf("%d pages of %d bytes held at once, want %d within the bound of %d", atOnce, len(body), tt.wantAtOnce, bound)
				}
				close(proceed)
				wg.Wait()
				if done != 10 || most > tt.wantAtOnce {
					t.Errorf("%d pages done (want 10), at most %d at once (want %d)", done, most, tt.wantAtOnce)
				}
			})
		})
	}
}

// TestAppLimitHook: an answer the provider calls app-limited holds back
// the next request to the same host, of any account, for the time the
// answer names; a request to another host goes at once. A request that got
// no answer marks nothing.
func TestAppLimitHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := provider.NewThrottle(provider.ThrottleOptions{RequestsPerSecond: 1000, Burst: 100, MaxConcurrent: 10})
		start := time.Now()
		var calls []string
		client := func(account string) *Client {
			c := newClient()
			c.Throttle = th.Account(account, 0)
			c.HTTP = &http.Client{Transport: transport(func(r *http.Request) *http.Response {
				calls = append(calls, fmt.Sprintf("%s %s at %s", account, r.URL.Host, time.Since(start)))
				if r.URL.Path == "/limited" {
					return answer(http.StatusTooManyRequests, http.Header{"X-Limit": {"app"}}, `{"error":{"code":4}}`, true)
				}
				return answer(http.StatusOK, nil, `{}`, true)
			})}
			c.AppLimit = func(h http.Header, apiErr *provider.APIError) (time.Duration, bool) {
				if apiErr != nil && h.Get("X-Limit") == "app" {
					return 2 * time.Minute, true
				}
				return 0, false
			}
			return c
		}
		ctx := context.Background()
		if _, err := client("a").Get(ctx, "op", mustURL(t, "https://graph.example.com/limited")); err == nil {
			t.Fatal("the limited answer is no error")
		}
		if _, err := client("b").Get(ctx, "op", mustURL(t, "https://bsp.example.net/ok")); err != nil {
			t.Fatal(err)
		}
		if _, err := client("c").Get(ctx, "op", mustURL(t, "https://graph.example.com/ok")); err != nil {
			t.Fatal(err)
		}
		want := []string{"a graph.example.com at 0s", "b bsp.example.net at 0s", "c graph.example.com at 2m0s"}
		if got := strings.Join(calls, ", "); got != strings.Join(want, ", ") {
			t.Errorf("requests: %s\nwant: %s", got, strings.Join(want, ", "))
		}
	})
}

// TestBodyHeldUntilPageDone: the body's bytes count until the page callback
// returns, not only while the body is read, since the callback works on them.
func TestBodyHeldUntilPageDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := provider.NewThrottle(provider.ThrottleOptions{RequestsPerSecond: 1000, Burst: 100, MaxConcurrent: 10, MaxBytesInFlight: 1 << 20})
		big := bytes.Repeat([]byte("x"), 1<<20)
		c := newClient()
		c.Throttle = th.Account("a", 0)
		c.HTTP = &http.Client{Transport: transport(func(*http.Request) *http.Response {
			return answer(http.StatusOK, nil, string(big), true)
		})}
		u := mustURL(t, "https://graph.example.com/v21.0/1")
		inPage := make(chan struct{})
		finish := make(chan struct{})
		go c.Pages(context.Background(), "op", u, u, func([]byte) (string, error) {
			close(inPage)
			<-finish
			return "", nil
		})
		<-inPage
		second := make(chan error, 1)
		go func() { _, err := c.Get(context.Background(), "op", u); second <- err }()
		synctest.Wait()
		select {
		case err := <-second:
			t.Fatalf("a second body was read while the first page was still being read out (err %v)", err)
		default:
		}
		close(finish)
		if err := <-second; err != nil {
			t.Fatal(err)
		}
	})
}
