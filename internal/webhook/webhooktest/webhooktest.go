// Package webhooktest builds Meta-shaped status webhooks and sends them, for
// the webhook endpoint's tests and its load measurement.
package webhooktest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Status is one status of a test webhook; empty fields are left out of the
// JSON, so that a test can leave out what Meta would send.
type Status struct {
	ID, Status  string
	Timestamp   int64
	RecipientID string
	ErrorCode   int
	// Pricing is the category and type, lower case, or empty for none.
	PricingCategory, PricingType string
}

// Change is the statuses of one phone number of one WABA.
type Change struct {
	WABAID, PhoneNumberID, DisplayPhoneNumber string
	Statuses                                  []Status
}

// Body is a messages webhook holding the changes, an entry each.
func Body(changes ...Change) []byte {
	var entries []any
	for _, c := range changes {
		var statuses []any
		for _, s := range c.Statuses {
			st := map[string]any{"id": s.ID, "status": s.Status, "timestamp": strconv.FormatInt(s.Timestamp, 10)}
			if s.RecipientID != "" {
				st["recipient_id"] = s.RecipientID
			}
			if s.PricingCategory != "" || s.PricingType != "" {
				st["pricing"] = map[string]any{"billable": true, "pricing_model": "PMP", "category": s.PricingCategory, "type": s.PricingType}
			}
			if s.ErrorCode != 0 {
				st["errors"] = []any{map[string]any{"code": s.ErrorCode, "title": "free text the exporter must not use",
					"message": "free text", "error_data": map[string]any{"details": "free text"}}}
			}
			statuses = append(statuses, st)
		}
		entries = append(entries, map[string]any{"id": c.WABAID, "changes": []any{map[string]any{
			"field": "messages",
			"value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]any{"display_phone_number": c.DisplayPhoneNumber, "phone_number_id": c.PhoneNumberID},
				"statuses":          statuses,
			},
		}}})
	}
	body, err := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": entries})
	if err != nil {
		panic(err)
	}
	return body
}

// Signature is the X-Hub-Signature-256 of body under secret, computed as
// Meta's "Getting started with webhooks" page says: "sha256=" and the
// HMAC-SHA256 of the raw body keyed with the app secret, in hex. It does not
// call the endpoint's own code, so that the tests check that against it.
func Signature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Post sends a webhook body signed with secret to url.
func Post(ctx context.Context, client *http.Client, url, secret string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", Signature(secret, body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// LoadBodies are the bodies of a load of posts webhooks of perPost
// statuses each: perPost*posts/2 messages, each sent then delivered 1 to
// 60 seconds later, spread over posts so that a message's two statuses
// are in different webhooks and often arrive in reverse order. They are of
// 10 WABAs of 2 phone numbers each, to recipients in 5 countries.
func LoadBodies(posts, perPost int, start time.Time) [][]byte {
	total := posts * perPost
	statuses := make([]Status, 0, total)
	recipients := []string{"16505551234", "5511955550113", "919876543210", "4915155550199", "33612345678"}
	for m := range total / 2 {
		id := fmt.Sprintf("wamid.load.%08d", m)
		sent := start.Unix() + int64(m%3600)
		statuses = append(statuses,
			Status{ID: id, Status: "sent", Timestamp: sent, RecipientID: recipients[m%len(recipients)]},
			Status{ID: id, Status: "delivered", Timestamp: sent + 1 + int64(m%60), RecipientID: recipients[m%len(recipients)],
				PricingCategory: "utility", PricingType: "regular"})
	}
	// A fixed shuffle (a multiplier prime to the total visits each status
	// once): each post takes every posts-th status of it.
	step := 7919
	for gcd(step, total) != 1 {
		step += 2
	}
	bodies := make([][]byte, posts)
	for p := range posts {
		var mine []Status
		for i := p; i < total; i += posts {
			mine = append(mine, statuses[(i*step)%total])
		}
		waba := p % 10
		bodies[p] = Body(Change{WABAID: fmt.Sprint(1000 + waba), PhoneNumberID: fmt.Sprint(2000 + waba*2 + p%2),
			DisplayPhoneNumber: fmt.Sprint(15550100000 + waba*2 + p%2), Statuses: mine})
	}
	return bodies
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Load posts every body, signed, from senders goroutines at once, and
// returns each post's latency. Any answer but 200 is an error.
func Load(ctx context.Context, url, secret string, senders int, bodies [][]byte) ([]time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	defer client.CloseIdleConnections()
	next := make(chan []byte)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		firstErr  error
		wg        sync.WaitGroup
	)
	for range senders {
		wg.Go(func() {
			for body := range next {
				start := time.Now()
				code, err := Post(ctx, client, url, secret, body)
				took := time.Since(start)
				mu.Lock()
				latencies = append(latencies, took)
				if err == nil && code != http.StatusOK {
					err = fmt.Errorf("answer %d", code)
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for _, b := range bodies {
		next <- b
	}
	close(next)
	wg.Wait()
	return latencies, firstErr
}

// Quantile is the q-quantile of latencies (nearest rank).
func Quantile(latencies []time.Duration, q float64) time.Duration {
	if len(latencies) == 0 {
		return 0
	}
	s := slices.Clone(latencies)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
