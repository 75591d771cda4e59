package demo

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/webhook"
)

// The demo's status webhooks: the Meta WABAs' messages, the same traffic
// as their analytics, told status by status as Meta's webhooks tell them,
// signed with the demo's generated app secret and handed to the exporter's
// webhook endpoint. They go to its handler in-process, not over the
// network, so that they arrive whatever TLS or authentication the
// exporter's listener has; the handler checks them as it checks Meta's.
const (
	// webhookTick is how often the demo sends what happened since its last
	// send: statuses arrive within a quarter of a second of their time
	// (about two demo minutes on the end-to-end test's fast clock).
	webhookTick = 250 * time.Millisecond
	// webhookBacklog is how much of the past the first send holds, so that
	// every webhook panel has data at once: what a newly subscribed endpoint
	// does not get, but a demo should show.
	webhookBacklog = time.Hour
	// maxStatusesPerWebhook is how many statuses one POST holds at most.
	maxStatusesPerWebhook = 100
)

// SendWebhooks sends the statuses of the demo's Meta WABAs to h as they
// happen on the demo's clock, until ctx ends. A send under way when it ends
// is finished: the endpoint would refuse a request whose sender is gone.
func (d *Demo) SendWebhooks(ctx context.Context, h http.Handler) {
	ticker := time.NewTicker(webhookTick)
	defer ticker.Stop()
	from := d.Now().Add(-webhookBacklog)
	for {
		to := d.Now()
		for _, a := range d.metaWABAs {
			d.sendStatuses(context.WithoutCancel(ctx), h, a.Statuses(from, to))
		}
		from = to
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// sendStatuses posts events in webhooks of one phone number and at most
// maxStatusesPerWebhook statuses each.
func (d *Demo) sendStatuses(ctx context.Context, h http.Handler, events []fakeapi.StatusEvent) {
	byPhone := map[string][]fakeapi.StatusEvent{}
	var phones []string
	for _, e := range events {
		if _, ok := byPhone[e.PhoneNumberID]; !ok {
			phones = append(phones, e.PhoneNumberID)
		}
		byPhone[e.PhoneNumberID] = append(byPhone[e.PhoneNumberID], e)
	}
	secret := string(d.Config.Webhooks.AppSecrets[0])
	for _, p := range phones {
		for chunk := range slices.Chunk(byPhone[p], maxStatusesPerWebhook) {
			body := fakeapi.StatusWebhook(chunk)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Config.Webhooks.Path, bytes.NewReader(body))
			if err != nil {
				panic(err) // a POST to a path always makes a request
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, body))
			req.RemoteAddr = "demo"
			h.ServeHTTP(discard{}, req)
		}
	}
}

// discard is a ResponseWriter for answers nobody reads: the endpoint's
// metrics say what it made of each webhook.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
