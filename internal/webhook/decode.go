package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// The body of a messages webhook, as Meta's status webhook reference shows
// it
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status):
//
//	{"object": "whatsapp_business_account",
//	 "entry": [{"id": "<WABA_ID>",
//	   "changes": [{"field": "messages",
//	     "value": {"messaging_product": "whatsapp",
//	       "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
//	       "statuses": [{"id": "wamid...", "status": "delivered", "timestamp": "1750857384",
//	         "recipient_id": "16505551234",
//	         "pricing": {"billable": true, "pricing_model": "PMP", "type": "regular", "category": "utility"},
//	         "errors": [{"code": 131026, "title": "...", "message": "...", "error_data": {"details": "..."}}]}]}}]}]}
//
// Each level is decoded on its own, element by element, so that an element
// that is not what the reference describes (an entry without an id, a
// status whose timestamp is not a number, a 10 KB message id) is skipped
// alone and the good statuses beside it still count. Unknown fields are
// ignored wherever they are: Meta adds fields over time.

// Reasons for which a part of an accepted body is left out. They are the
// values of whatsapp_exporter_webhook_skipped_total's reason label.
const (
	// The whole body: a webhook of another product of the app (a Page's,
	// Instagram's), or JSON that is not a webhook at all.
	skipOtherObject     = "other_object"
	skipEnvelopeInvalid = "envelope_invalid"
	// One entry: not an object, or without a WABA ID of digits.
	skipEntryInvalid = "entry_invalid"
	// One change: not an object, or its value is not one.
	skipChangeInvalid = "change_invalid"
	// One change of another webhook field than messages (the app
	// subscribed to account_update too, say): not an error, not counted.
	skipOtherField = "other_field"
	// One change's statuses: its metadata has no phone_number_id of digits.
	skipMetadataInvalid = "metadata_invalid"
	// One status: not an object, or its status is not a word.
	skipStatusInvalid = "status_invalid"
	// One status: no message id, or one longer than maxIDBytes.
	skipIDInvalid = "id_invalid"
	// One status: its timestamp is not Unix seconds.
	skipTimestampInvalid = "timestamp_invalid"
	// One status: it would have added a series beyond max_series.
	skipSeriesLimit = "series_limit"
)

// skipReasons lists every reason, so that each is exported from the start.
var skipReasons = []string{skipOtherObject, skipEnvelopeInvalid, skipEntryInvalid, skipChangeInvalid, skipOtherField,
	skipMetadataInvalid, skipStatusInvalid, skipIDInvalid, skipTimestampInvalid, skipSeriesLimit}

// Bounds on what a status may hold. Meta's IDs are digits (WABA and phone
// number IDs, about 15 of them) and wamid strings of about 60 bytes; the
// bounds leave room and keep every label value far under 256 bytes.
const (
	maxNumericIDDigits = 32
	maxIDBytes         = 256
	maxWordBytes       = 64
	maxErrorCodeDigits = 10
	// maxRecipientDigits is the longest number E.164 allows: a longer ID
	// (a group's) is no phone number.
	maxRecipientDigits = 15
)

// Statuses Meta documents; any other word is counted as "other", so that a
// status Meta adds shows up without minting a label value per answer.
const (
	statusSent      = "sent"
	statusDelivered = "delivered"
	statusRead      = "read"
	statusFailed    = "failed"
	// played: a voice message was played.
	statusPlayed = "played"
	statusOther  = "other"
)

var statusNames = []string{statusSent, statusDelivered, statusRead, statusFailed, statusPlayed, statusOther}

// Status is one message status of a webhook, checked: each field is fit
// for a label, or for the dedup window's key.
type Status struct {
	WABAID        string // digits
	PhoneNumberID string // digits
	PhoneNumber   string // the display number's digits; "" when it has none
	MessageID     string // at most maxIDBytes
	// Status is one of statusNames; Raw is what Meta sent, so that two
	// different unknown statuses of a message are not taken as one.
	Status, Raw string
	Time        uint32 // Unix seconds
	// Recipient is the user's WhatsApp ID (recipient_id, or the group
	// member's recipient_participant_id) when it is digits, as a phone
	// number is; else "".
	Recipient string
	// ErrorCode is the first error's code, digits, on a failed status;
	// "" when the status carries none.
	ErrorCode string
	// PricingCategory and PricingType are upper case, on a delivered or read
	// status that carries pricing; "OTHER" for a value that is not a word.
	PricingCategory, PricingType string
}

// Batch is what one webhook body holds.
type Batch struct {
	Statuses []Status
	// Skipped counts the parts left out, by reason.
	Skipped map[string]int
}

func (b *Batch) skip(reason string) {
	if b.Skipped == nil {
		b.Skipped = map[string]int{}
	}
	b.Skipped[reason]++
}

// errMalformed is a body that is not whole JSON: cut off in transit, or
// never JSON. Meta is asked to send it again.
var errMalformed = errors.New("the body is not valid JSON")

// The levels of a body, each field kept raw until it is checked: a raw
// field takes any JSON value, so that only the shape of the levels (an
// object where the reference has one, an array where it has one) can fail
// to decode.
type (
	rawEnvelope struct {
		Object json.RawMessage `json:"object"`
		Entry  []rawEntry      `json:"entry"`
	}
	rawEntry struct {
		ID      json.RawMessage `json:"id"`
		Changes []rawChange     `json:"changes"`
	}
	rawChange struct {
		Field json.RawMessage `json:"field"`
		Value struct {
			Metadata rawMetadata `json:"metadata"`
			Statuses []rawStatus `json:"statuses"`
		} `json:"value"`
	}
	rawMetadata struct {
		DisplayPhoneNumber json.RawMessage `json:"display_phone_number"`
		PhoneNumberID      json.RawMessage `json:"phone_number_id"`
	}
	rawStatus struct {
		ID          json.RawMessage `json:"id"`
		Status      json.RawMessage `json:"status"`
		Timestamp   json.RawMessage `json:"timestamp"`
		RecipientID json.RawMessage `json:"recipient_id"`
		// A message to a group names the group as recipient_id, and the
		// member as recipient_participant_id.
		RecipientType          json.RawMessage `json:"recipient_type"`
		RecipientParticipantID json.RawMessage `json:"recipient_participant_id"`
		Errors                 json.RawMessage `json:"errors"`
		Pricing                json.RawMessage `json:"pricing"`
	}
)

// Decode reads the statuses of a webhook body. Its only error is a body
// that is not valid JSON; anything else that is wrong is skipped and
// counted in Batch.Skipped.
//
// A body of the documented shape is decoded in one pass. A body whose
// shape differs somewhere (an entry that is a string, a status that is an
// array) is decoded again level by level, so that exactly the parts that
// are wrong are skipped, each under its reason.
func Decode(body []byte) (Batch, error) {
	var env rawEnvelope
	err := json.Unmarshal(body, &env)
	switch {
	case err != nil && isSyntax(err):
		return Batch{}, errMalformed
	case err != nil:
		return decodeByLevel(body), nil
	}
	var b Batch
	if object, ok := jsonString(env.Object); !ok || object != "whatsapp_business_account" {
		b.skip(skipOtherObject)
		return b, nil
	}
	for i := range env.Entry {
		e := &env.Entry[i]
		waba, ok := digits(e.ID, maxNumericIDDigits)
		if !ok {
			b.skip(skipEntryInvalid)
			continue
		}
		for j := range e.Changes {
			c := &e.Changes[j]
			b.change(waba, c.Field, func() (rawMetadata, bool) { return c.Value.Metadata, true }, len(c.Value.Statuses),
				func(k int) (*rawStatus, bool) { return &c.Value.Statuses[k], true })
		}
	}
	return b, nil
}

// decodeByLevel decodes a valid JSON body one level at a time.
func decodeByLevel(body []byte) Batch {
	var b Batch
	var env struct {
		Object json.RawMessage   `json:"object"`
		Entry  []json.RawMessage `json:"entry"`
	}
	if json.Unmarshal(body, &env) != nil {
		b.skip(skipEnvelopeInvalid)
		return b
	}
	if object, ok := jsonString(env.Object); !ok || object != "whatsapp_business_account" {
		b.skip(skipOtherObject)
		return b
	}
	for _, raw := range env.Entry {
		var e struct {
			ID      json.RawMessage   `json:"id"`
			Changes []json.RawMessage `json:"changes"`
		}
		if json.Unmarshal(raw, &e) != nil {
			b.skip(skipEntryInvalid)
			continue
		}
		waba, ok := digits(e.ID, maxNumericIDDigits)
		if !ok {
			b.skip(skipEntryInvalid)
			continue
		}
		for _, raw := range e.Changes {
			var c struct {
				Field json.RawMessage `json:"field"`
				Value struct {
					Metadata json.RawMessage   `json:"metadata"`
					Statuses []json.RawMessage `json:"statuses"`
				} `json:"value"`
			}
			if json.Unmarshal(raw, &c) != nil {
				b.skip(skipChangeInvalid)
				continue
			}
			b.change(waba, c.Field,
				func() (rawMetadata, bool) {
					var m rawMetadata
					return m, json.Unmarshal(c.Value.Metadata, &m) == nil
				},
				len(c.Value.Statuses),
				func(k int) (*rawStatus, bool) {
					var st rawStatus
					return &st, json.Unmarshal(c.Value.Statuses[k], &st) == nil
				})
		}
	}
	return b
}

// change reads the statuses of one change of a WABA's entry: n of them,
// each given by status, with the change's metadata.
func (b *Batch) change(waba string, field json.RawMessage, metadata func() (rawMetadata, bool), n int, status func(int) (*rawStatus, bool)) {
	// The status webhook reference shows the field; a forwarder may drop
	// it: a change with statuses is a messages change either way.
	if name, ok := jsonString(field); field != nil && (!ok || name != "messages") {
		b.skip(skipOtherField)
		return
	}
	if n == 0 {
		return // an incoming message, or a change of no interest here
	}
	m, ok := metadata()
	if !ok {
		b.skip(skipMetadataInvalid)
		return
	}
	phoneID, ok := digits(m.PhoneNumberID, maxNumericIDDigits)
	if !ok {
		b.skip(skipMetadataInvalid)
		return
	}
	phone := displayDigits(m.DisplayPhoneNumber)
	for k := range n {
		st, ok := status(k)
		if !ok {
			b.skip(skipStatusInvalid)
			continue
		}
		b.status(Status{WABAID: waba, PhoneNumberID: phoneID, PhoneNumber: phone}, st)
	}
}

func (b *Batch) status(s Status, st *rawStatus) {
	id, ok := jsonString(st.ID)
	if !ok || id == "" || len(id) > maxIDBytes {
		b.skip(skipIDInvalid)
		return
	}
	status, ok := jsonString(st.Status)
	if !ok || !word(status) {
		b.skip(skipStatusInvalid)
		return
	}
	ts, ok := unixSeconds(st.Timestamp)
	if !ok {
		b.skip(skipTimestampInvalid)
		return
	}
	s.MessageID, s.Raw, s.Status, s.Time = id, status, statusOther, ts
	for _, name := range statusNames {
		if status == name {
			s.Status = name
		}
	}
	recipient := st.RecipientID
	if t, _ := jsonString(st.RecipientType); t == "group" {
		recipient = st.RecipientParticipantID
	}
	if r, ok := digits(recipient, maxRecipientDigits); ok {
		s.Recipient = r
	}
	if s.Status == statusFailed {
		s.ErrorCode = errorCode(st.Errors)
	}
	// Meta charges a message when it is delivered, and says so on the
	// delivered or the read status; the sent status carries the price it
	// expects (the pricing page,
	// https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing).
	if (s.Status == statusDelivered || s.Status == statusRead) && len(st.Pricing) > 0 && !bytes.Equal(st.Pricing, []byte("null")) {
		var p struct {
			Category json.RawMessage `json:"category"`
			Type     json.RawMessage `json:"type"`
		}
		if json.Unmarshal(st.Pricing, &p) == nil {
			s.PricingCategory, s.PricingType = pricingValue(p.Category), pricingValue(p.Type)
		} else {
			s.PricingCategory, s.PricingType = "OTHER", "OTHER"
		}
	}
	b.Statuses = append(b.Statuses, s)
}

func isSyntax(err error) bool {
	var syntax *json.SyntaxError
	return errors.As(err, &syntax)
}

// jsonString unquotes a JSON string; ok is false for anything else.
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	// Most strings have nothing to unquote: no escape, plain ASCII.
	plain := raw[len(raw)-1] == '"'
	for _, c := range raw[1 : len(raw)-1] {
		if c == '\\' || c == '"' || c < 0x20 || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// digits reads a JSON string of 1 to max ASCII digits.
func digits(raw json.RawMessage, max int) (string, bool) {
	s, ok := jsonString(raw)
	if !ok || !allDigits(s, max) {
		return "", false
	}
	return s, true
}

func allDigits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// displayDigits keeps the digits of display_phone_number, which Meta
// writes as digits ("15550783881") and people write with "+", spaces and
// dashes: the phone_number label of the analytics metrics is the digits.
func displayDigits(raw json.RawMessage) string {
	s, ok := jsonString(raw)
	if !ok || len(s) > maxWordBytes {
		return ""
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			out = append(out, s[i])
		}
	}
	if len(out) > maxNumericIDDigits {
		return ""
	}
	return string(out)
}

// word reports whether s is a lower-case word of Meta's enums (sent,
// free_customer_service), short enough for a label.
func word(s string) bool {
	if s == "" || len(s) > maxWordBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// unixSeconds reads a timestamp: a string of Unix seconds, as Meta sends
// it, or the same as a JSON number. Zero, negative, fractional and values
// past 2106 (beyond 32 bits) are not timestamps.
func unixSeconds(raw json.RawMessage) (uint32, bool) {
	s, ok := jsonString(raw)
	if !ok {
		s = string(raw)
	}
	if !allDigits(s, 10) {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v == 0 {
		return 0, false
	}
	return uint32(v), true
}

// errorCode is the code of a failed status's first error: a JSON number,
// or a numeric string, of at most maxErrorCodeDigits digits; "" otherwise.
func errorCode(raw json.RawMessage) string {
	var errs []struct {
		Code json.RawMessage `json:"code"`
	}
	if json.Unmarshal(raw, &errs) != nil || len(errs) == 0 {
		return ""
	}
	code, ok := jsonString(errs[0].Code)
	if !ok {
		code = string(errs[0].Code)
	}
	if !allDigits(code, maxErrorCodeDigits) {
		return ""
	}
	// One spelling per code: "0131026" is 131026.
	v, _ := strconv.ParseUint(code, 10, 64)
	return strconv.FormatUint(v, 10)
}

// pricingValue is a pricing category or type as the analytics label it:
// upper case (MARKETING_LITE, FREE_CUSTOMER_SERVICE). A value that is not a
// word is OTHER; a missing one "".
func pricingValue(raw json.RawMessage) string {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	s, ok := jsonString(raw)
	if !ok {
		return "OTHER"
	}
	lower := bytes.ToLower([]byte(s))
	if !word(string(lower)) {
		return "OTHER"
	}
	return string(bytes.ToUpper(lower))
}
