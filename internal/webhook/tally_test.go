package webhook

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	wt "github.com/whatsapp-exporter/whatsapp_exporter/internal/webhook/webhooktest"
)

// postOK posts a body signed with the first secret and fails unless it is
// accepted.
func postOK(t *testing.T, r *Receiver, body []byte) {
	t.Helper()
	if rec := post(r, body, nil); rec.Code != 200 {
		t.Fatalf("answer %d %q", rec.Code, rec.Body.String())
	}
}

func compare(t *testing.T, r *Receiver, want string, names ...string) {
	t.Helper()
	if err := testutil.CollectAndCompare(r, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

const statusesHelp = `# HELP whatsapp_webhook_statuses_total Message statuses received by webhook, each (message, status) once: sent, delivered, read, failed, played, or other. A read without a delivered before it counts as delivered too.
# TYPE whatsapp_webhook_statuses_total counter
`

const failuresHelp = `# HELP whatsapp_webhook_failures_total Failed message statuses received by webhook, by the code of their first error and its title in Meta's error codes page ("" for a code the exporter does not know).
# TYPE whatsapp_webhook_failures_total counter
`

const pricedHelp = `# HELP whatsapp_webhook_priced_messages_total Delivered messages by the pricing their delivered or read status carried, counted once per message.
# TYPE whatsapp_webhook_priced_messages_total counter
`

const skippedHelp = `# HELP whatsapp_exporter_webhook_skipped_total Parts of accepted webhooks left out, by reason: bodies, entries, changes or statuses that are not what Meta documents.
# TYPE whatsapp_exporter_webhook_skipped_total counter
`

const duplicatesHelp = `# HELP whatsapp_exporter_webhook_duplicates_total Statuses received again for a message whose status the dedup window had counted already, by status; not counted again.
# TYPE whatsapp_exporter_webhook_duplicates_total counter
`

// Everything that is not what Meta documents is skipped, each counted by
// reason, and exactly the good statuses beside it count.
func TestAbsurdValues(t *testing.T) {
	long := strings.Repeat("7", 10<<10)
	good := `{"id":"wamid.good.%d","status":"sent","timestamp":"1750857384"}`
	body := `{"object":"whatsapp_business_account","entry":[
	{"id":"` + waba + `","changes":[{"field":"messages","value":{
		"metadata":{"display_phone_number":"+1 555-078-3881","phone_number_id":"` + phoneID + `"},
		"statuses":[
			{"id":"wamid.1","status":"sent","timestamp":"1750857384","recipient_id":"16505551234"},
			{"id":"wamid.2","status":"sent","timestamp":"soon","recipient_id":"16505551234"},
			{"id":"` + long + `","status":"sent","timestamp":"1750857384"},
			{"status":"sent","timestamp":"1750857384"},
			{"id":"wamid.3","status":"DELIVERED!","timestamp":"1750857384"},
			"not an object",
			{"id":"wamid.4","status":"failed","timestamp":1750857390,"recipient_id":"447400123456","errors":[{"code":"131026"}]},
			{"id":"wamid.5","status":"deleted","timestamp":"1750857391"},
			{"id":"wamid.6","status":"failed","timestamp":"1750857392","errors":"oops"},
			{"id":"wamid.7","status":"sent","timestamp":"99999999999"},
			{"id":"wamid.8","status":"sent","timestamp":"-5"},
			{"id":"wamid.9","status":"sent","timestamp":"0"},
			{"id":"wamid.11","status":"failed","timestamp":"1750857393","errors":[{"code":1e400}]},
			{"id":"wamid.12","status":"failed","timestamp":"1750857394","recipient_id":"` + long + `","errors":[{"code":99999999999}]}
		]}}]},
	{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"statuses":[` + fmt.Sprintf(good, 1) + `]}}]},
	{"id":"` + long + `","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"statuses":[` + fmt.Sprintf(good, 2) + `]}}]},
	{"id":123,"changes":[]},
	"an entry that is a string",
	{"id":"` + waba + `","changes":[
		{"field":"account_update","value":{"metadata":{"phone_number_id":"1"},"statuses":[` + fmt.Sprintf(good, 3) + `]}},
		{"field":"messages","value":"text"},
		{"field":"messages","value":{"metadata":{"phone_number_id":"abc"},"statuses":[` + fmt.Sprintf(good, 4) + `]}},
		{"field":"messages","value":{"statuses":[` + fmt.Sprintf(good, 5) + `]}},
		{"field":"messages","value":{"metadata":{"phone_number_id":"2","display_phone_number":"` + long + `"},"statuses":[
			{"id":"wamid.10","status":"delivered","timestamp":"1750857400","pricing":{"category":"` + long + `","type":7}}]}}
	]}
]}`
	r, _ := newReceiver(t)
	postOK(t, r, []byte(body))
	compare(t, r, statusesHelp+`
whatsapp_webhook_statuses_total{country="US",phone_number="15550783881",phone_number_id="106540352242922",status="sent",waba_id="102290129340398"} 1
whatsapp_webhook_statuses_total{country="GB",phone_number="15550783881",phone_number_id="106540352242922",status="failed",waba_id="102290129340398"} 1
whatsapp_webhook_statuses_total{country="",phone_number="15550783881",phone_number_id="106540352242922",status="other",waba_id="102290129340398"} 1
whatsapp_webhook_statuses_total{country="",phone_number="15550783881",phone_number_id="106540352242922",status="failed",waba_id="102290129340398"} 3
whatsapp_webhook_statuses_total{country="",phone_number="",phone_number_id="2",status="delivered",waba_id="102290129340398"} 1
`+failuresHelp+`
whatsapp_webhook_failures_total{error_code="131026",error_title="Message undeliverable",phone_number="15550783881",phone_number_id="106540352242922",waba_id="102290129340398"} 1
whatsapp_webhook_failures_total{error_code="",error_title="",phone_number="15550783881",phone_number_id="106540352242922",waba_id="102290129340398"} 3
`+pricedHelp+`
whatsapp_webhook_priced_messages_total{phone_number="",phone_number_id="2",pricing_category="OTHER",pricing_type="OTHER",waba_id="102290129340398"} 1
`+skippedHelp+`
whatsapp_exporter_webhook_skipped_total{reason="change_invalid"} 1
whatsapp_exporter_webhook_skipped_total{reason="entry_invalid"} 4
whatsapp_exporter_webhook_skipped_total{reason="envelope_invalid"} 0
whatsapp_exporter_webhook_skipped_total{reason="id_invalid"} 2
whatsapp_exporter_webhook_skipped_total{reason="metadata_invalid"} 2
whatsapp_exporter_webhook_skipped_total{reason="other_field"} 1
whatsapp_exporter_webhook_skipped_total{reason="other_object"} 0
whatsapp_exporter_webhook_skipped_total{reason="series_limit"} 0
whatsapp_exporter_webhook_skipped_total{reason="status_invalid"} 2
whatsapp_exporter_webhook_skipped_total{reason="timestamp_invalid"} 4
`, "whatsapp_webhook_statuses_total", "whatsapp_webhook_failures_total", "whatsapp_webhook_priced_messages_total",
		"whatsapp_exporter_webhook_skipped_total")
	checkLabels(t, r)
}

// Webhooks of other products, and JSON that is no webhook, are skipped
// whole with a 200: sending them again would not make them webhooks.
func TestNotWebhooks(t *testing.T) {
	r, _ := newReceiver(t)
	for _, body := range []string{
		`{"object":"page","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"statuses":[{"id":"x","status":"sent","timestamp":"1"}]}}]}]}`,
		`{"entry":[]}`, `null`,
		`[1,2,3]`, `{"object":"whatsapp_business_account","entry":{"id":"1"}}`,
	} {
		postOK(t, r, []byte(body))
	}
	if got := counted(t, r); got != 0 {
		t.Errorf("counted %v statuses", got)
	}
	compare(t, r, skippedHelp+`
whatsapp_exporter_webhook_skipped_total{reason="change_invalid"} 0
whatsapp_exporter_webhook_skipped_total{reason="entry_invalid"} 0
whatsapp_exporter_webhook_skipped_total{reason="envelope_invalid"} 2
whatsapp_exporter_webhook_skipped_total{reason="id_invalid"} 0
whatsapp_exporter_webhook_skipped_total{reason="metadata_invalid"} 0
whatsapp_exporter_webhook_skipped_total{reason="other_field"} 0
whatsapp_exporter_webhook_skipped_total{reason="other_object"} 3
whatsapp_exporter_webhook_skipped_total{reason="series_limit"} 0
whatsapp_exporter_webhook_skipped_total{reason="status_invalid"} 0
whatsapp_exporter_webhook_skipped_total{reason="timestamp_invalid"} 0
`, "whatsapp_exporter_webhook_skipped_total")
}

// checkLabels gathers every series and fails on a label value over 256
// bytes or not UTF-8.
func checkLabels(t *testing.T, r *Receiver) {
	t.Helper()
	families, err := registryOf(r).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if len(l.GetValue()) > 256 || !utf8.ValidString(l.GetValue()) {
					t.Errorf("%s{%s}: a value of %d bytes", f.GetName(), l.GetName(), len(l.GetValue()))
				}
			}
		}
	}
}

func change(statuses ...wt.Status) wt.Change {
	return wt.Change{WABAID: waba, PhoneNumberID: phoneID, DisplayPhoneNumber: "15550783881", Statuses: statuses}
}

// Each (message, status) counts once, within a body and across bodies;
// the rest are duplicates.
func TestDuplicates(t *testing.T) {
	r, _ := newReceiver(t)
	statuses := []wt.Status{
		{ID: "m1", Status: "sent", Timestamp: 100}, {ID: "m1", Status: "delivered", Timestamp: 101},
		{ID: "m1", Status: "read", Timestamp: 150}, {ID: "m2", Status: "sent", Timestamp: 100},
	}
	body := wt.Body(change(append(statuses, statuses...)...))
	postOK(t, r, body)
	postOK(t, r, body) // Meta sending it again
	compare(t, r, statusesHelp+`
whatsapp_webhook_statuses_total{country="",phone_number="15550783881",phone_number_id="106540352242922",status="sent",waba_id="102290129340398"} 2
whatsapp_webhook_statuses_total{country="",phone_number="15550783881",phone_number_id="106540352242922",status="delivered",waba_id="102290129340398"} 1
whatsapp_webhook_statuses_total{country="",phone_number="15550783881",phone_number_id="106540352242922",status="read",waba_id="102290129340398"} 1
`+duplicatesHelp+`
whatsapp_exporter_webhook_duplicates_total{status="delivered"} 3
whatsapp_exporter_webhook_duplicates_total{status="failed"} 0
whatsapp_exporter_webhook_duplicates_total{status="other"} 0
whatsapp_exporter_webhook_duplicates_total{status="played"} 0
whatsapp_exporter_webhook_duplicates_total{status="read"} 3
whatsapp_exporter_webhook_duplicates_total{status="sent"} 6
`, "whatsapp_webhook_statuses_total", "whatsapp_exporter_webhook_duplicates_total")
}

// Pricing counts once per message, from its delivered or read status; the
// sent status's pricing is what Meta expects to charge, not a charge.
func TestPricingOncePerMessage(t *testing.T) {
	r, _ := newReceiver(t)
	postOK(t, r, wt.Body(change(
		// m1: priced on sent, delivered and read (Meta prices one of the
		// last two; counted once even if it priced both).
		wt.Status{ID: "m1", Status: "sent", Timestamp: 100, PricingCategory: "marketing", PricingType: "regular"},
		wt.Status{ID: "m1", Status: "delivered", Timestamp: 101, PricingCategory: "marketing", PricingType: "regular"},
		wt.Status{ID: "m1", Status: "read", Timestamp: 130, PricingCategory: "marketing", PricingType: "regular"},
		// m2: read as it arrived: no delivered, the read is priced and
		// implies the delivery.
		wt.Status{ID: "m2", Status: "sent", Timestamp: 100, PricingCategory: "utility", PricingType: "regular"},
		wt.Status{ID: "m2", Status: "read", Timestamp: 102, PricingCategory: "utility", PricingType: "regular"},
		// m3: a read of a message the window does not know: priced, but no
		// delivery implied (it may have been counted long ago).
		wt.Status{ID: "m3", Status: "read", Timestamp: 300, PricingCategory: "service", PricingType: "free_customer_service"},
		// m4: delivered without pricing, read with it.
		wt.Status{ID: "m4", Status: "delivered", Timestamp: 101},
		wt.Status{ID: "m4", Status: "read", Timestamp: 140, PricingCategory: "marketing_lite", PricingType: "regular"},
		// m5: sent with pricing, then failed: never charged.
		wt.Status{ID: "m5", Status: "sent", Timestamp: 100, PricingCategory: "marketing", PricingType: "regular"},
		wt.Status{ID: "m5", Status: "failed", Timestamp: 103, ErrorCode: 131049},
		// m2's real delivered, arriving late: a duplicate of the implied one.
		wt.Status{ID: "m2", Status: "delivered", Timestamp: 102, PricingCategory: "utility", PricingType: "regular"},
	)))
	compare(t, r, pricedHelp+`
whatsapp_webhook_priced_messages_total{phone_number="15550783881",phone_number_id="106540352242922",pricing_category="MARKETING",pricing_type="REGULAR",waba_id="102290129340398"} 1
whatsapp_webhook_priced_messages_total{phone_number="15550783881",phone_number_id="106540352242922",pricing_category="UTILITY",pricing_type="REGULAR",waba_id="102290129340398"} 1
whatsapp_webhook_priced_messages_total{phone_number="15550783881",phone_number_id="106540352242922",pricing_category="SERVICE",pricing_type="FREE_CUSTOMER_SERVICE",waba_id="102290129340398"} 1
whatsapp_webhook_priced_messages_total{phone_number="15550783881",phone_number_id="106540352242922",pricing_category="MARKETING_LITE",pricing_type="REGULAR",waba_id="102290129340398"} 1
`+statusesHelp+`
whatsapp_webhook_statuses_total{country="",phone_number="15550783881",phone_number_id="106540352242922",status="sent",waba_id="102290129340398"} 3
whatsapp_webhook_statuses_total{country="",phone_number="15550783881",phone_number_id="106540352242922",status="delivered",waba_id="102290129340398"} 3
whatsapp_webhook_statuses_total{country="",phone_number="15550783881",phone_number_id="106540352242922",status="read",waba_id="102290129340398"} 4
whatsapp_webhook_statuses_total{country="",phone_number="15550783881",phone_number_id="106540352242922",status="failed",waba_id="102290129340398"} 1
`+failuresHelp+`
whatsapp_webhook_failures_total{error_code="131049",error_title="Meta chose not to deliver",phone_number="15550783881",phone_number_id="106540352242922",waba_id="102290129340398"} 1
`, "whatsapp_webhook_priced_messages_total", "whatsapp_webhook_statuses_total", "whatsapp_webhook_failures_total")
}

// The time from sent to delivered and to read, where both were received,
// in whatever order.
func TestLatencies(t *testing.T) {
	r, _ := newReceiver(t)
	postOK(t, r, wt.Body(change(
		wt.Status{ID: "m1", Status: "sent", Timestamp: 1000}, wt.Status{ID: "m1", Status: "delivered", Timestamp: 1005},
		wt.Status{ID: "m1", Status: "read", Timestamp: 1100},
		// Delivered before sent arrives.
		wt.Status{ID: "m2", Status: "delivered", Timestamp: 2010}, wt.Status{ID: "m2", Status: "sent", Timestamp: 2000},
		// Read as it arrived: the implied delivery is counted, not timed.
		wt.Status{ID: "m3", Status: "sent", Timestamp: 3000}, wt.Status{ID: "m3", Status: "read", Timestamp: 3030},
		// Stamped a second before its sent.
		wt.Status{ID: "m4", Status: "sent", Timestamp: 4000}, wt.Status{ID: "m4", Status: "delivered", Timestamp: 3999},
		// No sent: nothing to measure.
		wt.Status{ID: "m5", Status: "delivered", Timestamp: 5000},
		// Read two days later: above every bucket.
		wt.Status{ID: "m6", Status: "sent", Timestamp: 6000}, wt.Status{ID: "m6", Status: "read", Timestamp: 6000 + 2*86400},
	)))
	labels := `phone_number="15550783881",phone_number_id="106540352242922",waba_id="102290129340398"`
	hist := func(name, help string, sum string, count int, cumulative []int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
		for i, le := range latencyBuckets {
			fmt.Fprintf(&b, "%s_bucket{%s,le=\"%g\"} %d\n", name, labels, le, cumulative[i])
		}
		fmt.Fprintf(&b, "%s_bucket{%s,le=\"+Inf\"} %d\n%s_sum{%s} %s\n%s_count{%s} %d\n", name, labels, count, name, labels, sum, name, labels, count)
		return b.String()
	}
	// Buckets: 1 2 5 10 30 60 120 300 600 1800 3600 7200 14400 43200 86400.
	compare(t, r,
		hist("whatsapp_webhook_sent_to_delivered_seconds", "Time from a message's sent status to its delivered status, where the endpoint received both.",
			"15", 3, []int{1, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3})+
			hist("whatsapp_webhook_sent_to_read_seconds", "Time from a message's sent status to its read status, where the endpoint received both.",
				"172930", 3, []int{0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2}),
		"whatsapp_webhook_sent_to_delivered_seconds", "whatsapp_webhook_sent_to_read_seconds")
}

// Past max_series, a status that would add a series is skipped whole; one
// that adds none still counts.
func TestSeriesLimit(t *testing.T) {
	r, _ := newReceiver(t, func(c *config.Webhooks) { c.MaxSeries = 3 })
	for i, recipient := range []string{"16505551234", "5511955550113", "919876543210", "4915155550199", "16505550000"} {
		postOK(t, r, wt.Body(change(wt.Status{ID: fmt.Sprint("m", i), Status: "sent", Timestamp: 100, RecipientID: recipient})))
	}
	compare(t, r, statusesHelp+`
whatsapp_webhook_statuses_total{country="US",phone_number="15550783881",phone_number_id="106540352242922",status="sent",waba_id="102290129340398"} 2
whatsapp_webhook_statuses_total{country="BR",phone_number="15550783881",phone_number_id="106540352242922",status="sent",waba_id="102290129340398"} 1
whatsapp_webhook_statuses_total{country="IN",phone_number="15550783881",phone_number_id="106540352242922",status="sent",waba_id="102290129340398"} 1
`, "whatsapp_webhook_statuses_total")
	if got := r.tally.skipped[skipSeriesLimit]; got != 1 {
		t.Errorf("series_limit skips: %d, want 1 (Germany)", got)
	}
	// A skipped status is not remembered: once there is room it counts.
	r.tally.maxSeries = 4
	postOK(t, r, wt.Body(change(wt.Status{ID: "m3", Status: "sent", Timestamp: 100, RecipientID: "4915155550199"})))
	if got := counted(t, r); got != 5 {
		t.Errorf("counted %v, want 5", got)
	}
}

// The window forgets the oldest message when full: a status of it that
// comes again counts again; the newer ones stay duplicates.
func TestWindowEviction(t *testing.T) {
	r, _ := newReceiver(t, func(c *config.Webhooks) { c.DedupWindow = 3 })
	for i := 1; i <= 5; i++ {
		postOK(t, r, wt.Body(change(wt.Status{ID: fmt.Sprint("m", i), Status: "sent", Timestamp: 100})))
	}
	postOK(t, r, wt.Body(change(wt.Status{ID: "m5", Status: "sent", Timestamp: 100}, wt.Status{ID: "m1", Status: "sent", Timestamp: 100})))
	if got := counted(t, r); got != 6 {
		t.Errorf("counted %v, want 6: m1 again, m5 once", got)
	}
	compare(t, r, `# HELP whatsapp_exporter_webhook_dedup_entries Messages the dedup window remembers.
# TYPE whatsapp_exporter_webhook_dedup_entries gauge
whatsapp_exporter_webhook_dedup_entries 3
# HELP whatsapp_exporter_webhook_dedup_capacity Messages the dedup window can remember (dedup_window).
# TYPE whatsapp_exporter_webhook_dedup_capacity gauge
whatsapp_exporter_webhook_dedup_capacity 3
# HELP whatsapp_exporter_webhook_dedup_evictions_total Messages the dedup window forgot to make room for newer ones; a status of one of them that arrives later counts again.
# TYPE whatsapp_exporter_webhook_dedup_evictions_total counter
whatsapp_exporter_webhook_dedup_evictions_total 3
`, "whatsapp_exporter_webhook_dedup_entries", "whatsapp_exporter_webhook_dedup_capacity", "whatsapp_exporter_webhook_dedup_evictions_total")
}

// Every metric is described, and passes client_golang's and promtool's
// lint rules.
func TestLint(t *testing.T) {
	r, _ := newReceiver(t)
	postOK(t, r, wt.Body(change(wt.Status{ID: "m1", Status: "sent", Timestamp: 1}, wt.Status{ID: "m1", Status: "delivered", Timestamp: 2},
		wt.Status{ID: "m2", Status: "failed", Timestamp: 2, ErrorCode: 131026})))
	problems, err := testutil.CollectAndLint(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	if err := registryOf(r).Register(New(&config.Webhooks{DedupWindow: 1, MaxSeries: 1}, Options{})); err == nil {
		t.Error("a second endpoint registered beside the first: its metrics are not described")
	}
}

// Sign agrees with an independent computation of Meta's signature.
func TestSign(t *testing.T) {
	body := one("x")
	if Sign(secretOne, body) != wt.Signature(secretOne, body) {
		t.Errorf("Sign = %s, want %s", Sign(secretOne, body), wt.Signature(secretOne, body))
	}
}

// A message to a group names the group as its recipient: the country is
// the member's, from recipient_participant_id.
func TestGroupRecipient(t *testing.T) {
	r, _ := newReceiver(t)
	postOK(t, r, []byte(`{"object":"whatsapp_business_account","entry":[{"id":"`+waba+`","changes":[{"field":"messages","value":{
		"metadata":{"display_phone_number":"15550783881","phone_number_id":"`+phoneID+`"},
		"statuses":[{"id":"wamid.g","status":"sent","timestamp":"1750857384","recipient_id":"120363040000000000",
			"recipient_type":"group","recipient_participant_id":"5511955550113"}]}}]}]}`))
	compare(t, r, statusesHelp+`
whatsapp_webhook_statuses_total{country="BR",phone_number="15550783881",phone_number_id="106540352242922",status="sent",waba_id="102290129340398"} 1
`, "whatsapp_webhook_statuses_total")
}

// TestDuplicatesBeyondWindow measures what the bounded window costs: a
// status that Meta sends again once the window has taken in dedup_window
// messages after it counts again (a status that counts again takes a place
// in the window too); one that comes sooner does not. The endpoint agrees,
// status for status, with a plain first-in first-out model of that rule.
func TestDuplicatesBeyondWindow(t *testing.T) {
	const window, messages = 1000, 20000
	r, _ := newReceiver(t, func(c *config.Webhooks) { c.DedupWindow = window })
	// Message m is sent; its sent status comes again after (m*7919)%(2*window)
	// newer messages: evenly spread over two windows' worth.
	retries := map[int][]int{} // at message -> the messages retried then
	for m := range messages {
		at := m + 1 + (m*7919)%(2*window)
		retries[at] = append(retries[at], m)
	}
	// The model: the last window messages counted, oldest first.
	var fifo []int
	in := map[int]bool{}
	countedAgain := 0
	see := func(m int) bool {
		if in[m] {
			return false
		}
		fifo = append(fifo, m)
		in[m] = true
		if len(fifo) > window {
			delete(in, fifo[0])
			fifo = fifo[1:]
		}
		return true
	}
	// Twenty steps a webhook: the handler counts a body's statuses in order,
	// as the model does.
	var statuses []wt.Status
	for m := range messages + 2*window {
		if m < messages {
			statuses = append(statuses, wt.Status{ID: fmt.Sprint("m", m), Status: "sent", Timestamp: 100})
			see(m)
		}
		for _, old := range retries[m] {
			statuses = append(statuses, wt.Status{ID: fmt.Sprint("m", old), Status: "sent", Timestamp: 100})
			if see(old) {
				countedAgain++
			}
		}
		if m%20 == 19 || m == messages+2*window-1 {
			postOK(t, r, wt.Body(change(statuses...)))
			statuses = nil
		}
	}
	again := counted(t, r) - messages
	t.Logf("window %d, %d messages, each sent again after 0 to %d newer ones: %v counted again (%.1f%%)",
		window, messages, 2*window, again, 100*again/messages)
	if int(again) != countedAgain {
		t.Errorf("%v counted again, the model says %d", again, countedAgain)
	}
}
