package fakeapi

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func webhookWABA() WABA {
	return WABA{
		WABAID: "109259195336416", Volume: 80, DeliveryRate: 0.95,
		Phones:    []Phone{{Number: "19195552584", Display: "+1 919-555-2584", Weight: 1}, {Number: "5511955550113", Display: "+55 11 95555-0113", Weight: 0.5}},
		Countries: []Country{{Code: "US", Weight: 0.7}, {Code: "IN", Weight: 0.3}},
	}
}

// The statuses of a half hour are its analytics, message by message: as
// many sent as the analytics say were sent, as many delivered (a read
// without a delivered is a delivery too), and the others failed.
func TestStatusesMatchAnalytics(t *testing.T) {
	for _, drop := range []bool{false, true} {
		a := webhookWABA()
		b := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
		if drop {
			a.DropFrom, a.DroppedRate = b.Add(-time.Hour), 0.5
		}
		// Every status of the half hour's messages: up to an hour later.
		events := a.Statuses(b.Add(-time.Nanosecond), b.Add(halfHour+maxStatusDelay))
		type cell struct{ phone, country string }
		cellOf := func(e StatusEvent) (c cell) {
			for i, p := range a.Phones {
				if phoneNumberID(i, p) == e.PhoneNumberID {
					c.phone = p.Number
				}
			}
			for _, country := range a.Countries {
				if exampleNumber(country.Code) == e.RecipientID {
					c.country = country.Code
				}
			}
			return c
		}
		var order []string
		messages := map[string][]StatusEvent{}
		for _, e := range events {
			if messages[e.MessageID] == nil {
				order = append(order, e.MessageID)
			}
			messages[e.MessageID] = append(messages[e.MessageID], e)
		}
		sent, delivered, failed, undeliverable := map[cell]int{}, map[cell]int{}, map[cell]int{}, map[cell]int{}
		for _, id := range order {
			m := messages[id]
			if m[0].Status != "sent" || !m[0].Time.Before(b.Add(halfHour)) {
				continue // a message of another half hour
			}
			c := cellOf(m[0])
			sent[c]++
			var names []string
			for _, e := range m {
				names = append(names, e.Status)
				if e.Status == "failed" {
					failed[c]++
					if e.ErrorCode == 131026 {
						undeliverable[c]++
					}
				}
			}
			if slices.Contains(names, "delivered") || slices.Equal(names, []string{"sent", "read"}) {
				delivered[c]++
			}
		}
		for _, p := range a.Phones {
			for _, c := range a.Countries {
				k := cell{p.Number, c.Code}
				// The analytics' own answer for the cell and half hour.
				var n, d int
				for _, pt := range a.messaging(messagingQuery{start: b, end: b.Add(halfHour), now: b.Add(time.Hour), granularity: "HALF_HOUR",
					phones: []string{p.Number}, countries: []string{c.Code}}) {
					n, d = int(pt.v[0]), int(pt.v[1])
				}
				if sent[k] != n || delivered[k] != d || failed[k] != n-d {
					t.Errorf("drop %v, %v: sent %d delivered %d failed %d; analytics %d sent, %d delivered", drop, k, sent[k], delivered[k], failed[k], n, d)
				}
				// In a drop, the failures beyond a healthy WABA's are 131026.
				if ordinary := n - int(float64(n)*a.DeliveryRate+0.5); drop && undeliverable[k] < n-d-ordinary {
					t.Errorf("%v: %d failures 131026 of %d, want at least %d", k, undeliverable[k], n-d, n-d-ordinary)
				}
			}
		}
	}
}

// Consecutive windows hold each status once, in time order, and within
// the window asked for.
func TestStatusesPartition(t *testing.T) {
	a := webhookWABA()
	start := time.Date(2026, 3, 2, 14, 7, 0, 0, time.UTC)
	whole := a.Statuses(start, start.Add(40*time.Minute))
	var parts []StatusEvent
	for from := start; from.Before(start.Add(40 * time.Minute)); from = from.Add(4 * time.Minute) {
		part := a.Statuses(from, from.Add(4*time.Minute))
		for i, e := range part {
			if !e.Time.After(from) || e.Time.After(from.Add(4*time.Minute)) || i > 0 && e.Time.Before(part[i-1].Time) {
				t.Fatalf("status at %s in the window (%s, %s], or out of order", e.Time, from, from.Add(4*time.Minute))
			}
		}
		parts = append(parts, part...)
	}
	if len(whole) == 0 || !slices.EqualFunc(whole, parts, func(x, y StatusEvent) bool { return x == y }) {
		t.Errorf("%d statuses at once, %d in parts", len(whole), len(parts))
	}
}

// A webhook body is the shape of Meta's status webhook reference.
func TestStatusWebhook(t *testing.T) {
	a := webhookWABA()
	events := a.Statuses(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC))
	var one []StatusEvent
	for _, e := range events {
		if e.PhoneNumberID == events[0].PhoneNumberID && len(one) < 50 {
			one = append(one, e)
		}
	}
	var body struct {
		Object string `json:"object"`
		Entry  []struct {
			ID      string `json:"id"`
			Changes []struct {
				Field string `json:"field"`
				Value struct {
					Metadata struct {
						DisplayPhoneNumber string `json:"display_phone_number"`
						PhoneNumberID      string `json:"phone_number_id"`
					} `json:"metadata"`
					Statuses []struct {
						ID, Status, Timestamp, RecipientID string
						Pricing                            *struct{ Category, Type, PricingModel string }
						Errors                             []struct {
							Code  int    `json:"code"`
							Title string `json:"title"`
						}
					} `json:"statuses"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(StatusWebhook(one), &body); err != nil {
		t.Fatal(err)
	}
	c := body.Entry[0].Changes[0]
	if body.Object != "whatsapp_business_account" || body.Entry[0].ID != a.WABAID || c.Field != "messages" ||
		c.Value.Metadata.PhoneNumberID != "100000000000001" || c.Value.Metadata.DisplayPhoneNumber != "19195552584" ||
		len(c.Value.Statuses) != len(one) {
		t.Fatalf("body %+v", body)
	}
	for _, s := range c.Value.Statuses {
		switch {
		case s.Status == "failed" && (len(s.Errors) != 1 || s.Errors[0].Code == 0 || s.Errors[0].Title == ""):
			t.Errorf("failed without its error: %+v", s)
		case (s.Status == "sent" || s.Status == "delivered") && s.Pricing == nil:
			t.Errorf("%s without pricing: %+v", s.Status, s)
		}
	}
	if StatusWebhook(nil) != nil {
		t.Error("a webhook of nothing")
	}
}
