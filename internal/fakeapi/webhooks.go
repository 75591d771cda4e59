package fakeapi

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// The fake's messages as Meta's status webhooks tell them: the same traffic
// as the analytics, message by message. In every half hour a phone sends a
// country exactly the messages the analytics report as sent, evenly spread
// over it, and exactly the delivered ones are delivered (or read at once,
// which Meta reports with a read and no delivered); the others fail with an
// error code of Meta's error codes page. During a delivery drop the extra
// failures are 131026, message undeliverable, as in a carrier's outage.
// Shapes: the status webhook reference
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status).

// StatusEvent is one status of one message.
type StatusEvent struct {
	WABAID, PhoneNumberID, DisplayPhoneNumber string
	MessageID                                 string
	Status                                    string // sent, delivered, read, failed
	Time                                      time.Time
	RecipientID                               string
	// ErrorCode is a failed status's; 0 otherwise.
	ErrorCode int
	// PricingCategory and PricingType are set on the statuses that carry
	// the message's pricing: its sent, and its delivered or, when it has
	// none, its read. Lower case, as the webhooks spell them.
	PricingCategory, PricingType string
}

// maxStatusDelay is the longest time from a message's sent status to its
// last status (a read).
const maxStatusDelay = time.Hour

// The share of delivered messages read, and of those read as they arrived.
const (
	readShare   = 0.6
	readAtOnce  = 0.05
	statusSeeds = "webhook"
)

// failureMix is the error codes of a WABA's ordinary failures, and their
// shares; the titles are what a webhook's error carries, free text that the
// exporter does not read (it names codes from its own table).
var failureMix = []struct {
	code  int
	share float64
	title string
}{
	{131026, 0.45, "Message undeliverable."},
	{131049, 0.20, "This message was not delivered to maintain healthy ecosystem engagement."},
	{131047, 0.10, "Re-engagement message"},
	{131050, 0.10, "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business."},
	{130472, 0.10, "User's number is part of an experiment"},
	{131000, 0.05, "Something went wrong"},
}

// Statuses lists the statuses of the WABA's messages that happen in
// (from, to], in the order they happen.
func (a *WABA) Statuses(from, to time.Time) []StatusEvent {
	var out []StatusEvent
	m := a.model()
	var tr bucketTraffic
	for b := from.Add(-maxStatusDelay).Truncate(halfHour); b.Before(to); b = b.Add(halfHour) {
		// The half hour's traffic, as the analytics count it: the same
		// messages, sent and delivered.
		tr.fill(a, m, span{b, b.Add(halfHour)})
		for i, p := range a.Phones {
			for _, c := range a.Countries {
				pc := slices.IndexFunc(m.pcs, func(pc pcCell) bool { return pc.phone == p.Number && pc.country == c.Code })
				if pc < 0 {
					continue
				}
				a.cellStatuses(i, p, c, b, tr.sent[pc], tr.delivered[pc], func(e StatusEvent) {
					if e.Time.After(from) && !e.Time.After(to) {
						out = append(out, e)
					}
				})
			}
		}
	}
	slices.SortStableFunc(out, func(x, y StatusEvent) int { return x.Time.Compare(y.Time) })
	return out
}

// cellStatuses emits every status of the sent messages phone p sends
// country c in the half hour starting at b, delivered of which arrive.
func (a *WABA) cellStatuses(i int, p Phone, c Country, b time.Time, sent, delivered float64, emit func(StatusEvent)) {
	n := int(sent)
	if n == 0 {
		return
	}
	d := int(delivered)
	// The failures a healthy WABA has; beyond them, a drop's.
	ordinary := min(n-int(math.Round(float64(n)*a.DeliveryRate)), n-d)
	cell := seed(a.WABAID, p.Number, c.Code, statusSeeds)
	stride := coprimeStride(n)
	offset := int(unit(cell, b.Unix()) * float64(n))
	base := StatusEvent{WABAID: a.WABAID, PhoneNumberID: phoneNumberID(i, p), DisplayPhoneNumber: digitsOf(p.Display),
		RecipientID: exampleNumber(c.Code)}
	for m := range n {
		s := cell + uint64(m)*0x9e3779b97f4a7c15
		at := func(d time.Duration) time.Time { return b.Add(d).Truncate(time.Second) }
		sentAt := b.Add(time.Duration((float64(m) + 0.5) * float64(halfHour) / float64(n)))
		e := base
		e.MessageID = fmt.Sprintf("wamid.demo.%016x%08x", s, uint32(b.Unix()))
		// The sent status carries the pricing Meta expects to charge; the
		// delivered (or read) one says it was charged.
		e.PricingCategory, e.PricingType = a.pricingOf(b, unit(s, 4), unit(s, 5))
		e.Status, e.Time = "sent", at(sentAt.Sub(b))
		emit(e)
		pricingCategory, pricingType := e.PricingCategory, e.PricingType
		e.PricingCategory, e.PricingType = "", ""
		// Spread delivered and failed messages over the half hour, rather
		// than failing its last ones.
		rank := (m*stride + offset) % n
		if rank >= d {
			e.Status = "failed"
			e.Time = at(sentAt.Sub(b) + time.Duration(1+9*unit(s, 1))*time.Second)
			e.ErrorCode = 131026
			if rank-d < ordinary {
				e.ErrorCode = pickFailure(unit(s, 2))
			}
			emit(e)
			continue
		}
		deliveredAt := sentAt.Sub(b) + time.Duration(1+19*unit(s, 3))*time.Second
		e.PricingCategory, e.PricingType = pricingCategory, pricingType
		r := unit(s, 6)
		if r < readAtOnce {
			e.Status, e.Time = "read", at(deliveredAt)
			emit(e)
			continue
		}
		e.Status, e.Time = "delivered", at(deliveredAt)
		emit(e)
		if r < readShare {
			e.PricingCategory, e.PricingType = "", ""
			e.Status = "read"
			e.Time = at(deliveredAt + time.Duration(30+2670*unit(s, 7))*time.Second)
			emit(e)
		}
	}
}

// coprimeStride is a step that visits every index of n once.
func coprimeStride(n int) int {
	for _, p := range []int{7, 11, 13, 17, 19, 23, 29, 31} {
		if n%p != 0 {
			return p
		}
	}
	return 1
}

func pickFailure(u float64) int {
	for _, f := range failureMix {
		if u < f.share {
			return f.code
		}
		u -= f.share
	}
	return failureMix[0].code
}

func failureTitle(code int) string {
	for _, f := range failureMix {
		if f.code == code {
			return f.title
		}
	}
	return ""
}

// pricingOf picks a delivered message's pricing, in the analytics' shares,
// with the same rules: the categories of per-message pricing are charged
// (regular) but referral conversions, which are free entry points.
func (a *WABA) pricingOf(t time.Time, u1, u2 float64) (category, typ string) {
	cats := pricingCategories
	if !t.Before(perMessagePricing) {
		cats = append(slices.Clip(pricingCategories), perMessageCategories...)
	}
	total := 0.0
	for _, c := range cats {
		total += c.weight
	}
	pick := cats[len(cats)-1].name
	x := u1 * total
	for _, c := range cats {
		if x < c.weight {
			pick = c.name
			break
		}
		x -= c.weight
	}
	typ = "REGULAR"
	switch pick {
	case "REFERRAL_CONVERSION":
		typ = "FREE_ENTRY_POINT"
	case "MARKETING_LITE", "AUTHENTICATION_INTERNATIONAL":
	default:
		for _, s := range pricingTypes {
			if u2 < s.weight {
				typ = s.name
				break
			}
			u2 -= s.weight
		}
	}
	return strings.ToLower(pick), strings.ToLower(typ)
}

// exampleNumber is a WhatsApp ID in a country: libphonenumber's example
// mobile number of it, as digits with the country code.
func exampleNumber(country string) string {
	n := phonenumbers.GetExampleNumberForType(country, phonenumbers.MOBILE)
	if n == nil {
		return ""
	}
	return strings.TrimPrefix(phonenumbers.Format(n, phonenumbers.E164), "+")
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// StatusWebhook is the body of a messages webhook holding events, which
// must all be of one WABA and one phone number, as Meta sends them.
func StatusWebhook(events []StatusEvent) []byte {
	if len(events) == 0 {
		return nil
	}
	statuses := make([]map[string]any, 0, len(events))
	for _, e := range events {
		s := map[string]any{
			"id": e.MessageID, "status": e.Status, "timestamp": strconv.FormatInt(e.Time.Unix(), 10),
			"recipient_id": e.RecipientID,
		}
		if e.PricingCategory != "" {
			s["pricing"] = map[string]any{"billable": e.PricingType == "regular", "pricing_model": "PMP",
				"category": e.PricingCategory, "type": e.PricingType}
		}
		if e.ErrorCode != 0 {
			title := failureTitle(e.ErrorCode)
			s["errors"] = []map[string]any{{"code": e.ErrorCode, "title": title, "message": title,
				"error_data": map[string]any{"details": title},
				"href":       "https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes"}}
		}
		statuses = append(statuses, s)
	}
	first := events[0]
	body, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []map[string]any{{
			"id": first.WABAID,
			"changes": []map[string]any{{
				"field": "messages",
				"value": map[string]any{
					"messaging_product": "whatsapp",
					"metadata":          map[string]any{"display_phone_number": first.DisplayPhoneNumber, "phone_number_id": first.PhoneNumberID},
					"statuses":          statuses,
				},
			}},
		}},
	})
	if err != nil {
		panic(err) // maps of strings and numbers always encode
	}
	return body
}
