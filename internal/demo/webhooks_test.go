package demo

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/webhook"
)

// The demo signs its webhooks with the secret of its own configuration:
// the endpoint accepts every one; and in the delivery-drop scenario the
// dropping WABA's webhooks fail half its messages, as undeliverable,
// while the others fail few.
func TestWebhooks(t *testing.T) {
	now := time.Date(2026, 3, 2, 15, 10, 0, 0, time.UTC)
	d, err := Start(DeliveryDrop, func() time.Time { return now }, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r := webhook.New(d.Config.Webhooks, webhook.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.SendWebhooks(ctx, r)
	}()
	// The clock stands still: the first send, the last hour's, is all, and
	// it is finished whenever the context ends.
	cancel()
	<-done

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(r)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]map[string]float64{} // waba -> delivered, failed, 131026
	requests := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if w := labels["waba_id"]; w != "" && outcomes[w] == nil {
				outcomes[w] = map[string]float64{}
			}
			switch f.GetName() {
			case "whatsapp_webhook_statuses_total":
				outcomes[labels["waba_id"]][labels["status"]] += m.GetCounter().GetValue()
			case "whatsapp_webhook_failures_total":
				if labels["error_code"] == "131026" {
					outcomes[labels["waba_id"]]["131026"] += m.GetCounter().GetValue()
				}
			case "whatsapp_exporter_webhook_requests_total":
				requests[labels["code"]] = m.GetCounter().GetValue()
			}
		}
	}
	if requests["200"] == 0 {
		t.Fatal("no webhook accepted")
	}
	for code, n := range requests {
		if code != "200" && n > 0 {
			t.Errorf("%v webhooks answered %s", n, code)
		}
	}
	for _, a := range MetaWABAs() {
		o := outcomes[a.WABAID]
		ratio := o["failed"] / (o["delivered"] + o["failed"])
		switch {
		case o["sent"] < 30:
			t.Errorf("WABA %s: %v sent in the last hour", a.WABAID, o["sent"])
		case a.WABAID == DropWABA && (ratio < 0.4 || ratio > 0.6 || o["131026"] < 0.8*o["failed"]):
			t.Errorf("the dropping WABA: failure ratio %.2f, %v of %v failures undeliverable", ratio, o["131026"], o["failed"])
		case a.WABAID != DropWABA && ratio > 0.1:
			t.Errorf("WABA %s: failure ratio %.2f", a.WABAID, ratio)
		}
	}
	if len(outcomes) != len(MetaWABAs()) {
		t.Errorf("webhooks of %d WABAs, want the %d Meta ones", len(outcomes), len(MetaWABAs()))
	}
}
